"""Phones, in a real browser at 360 px with touch: no page scrolls sideways, the exam's timers
stay in view while reading, the item list is a drawer, touch targets are at least 44 px, and
strike-out and highlighting work by tapping."""

from __future__ import annotations

import pytest

from tests.e2e.axe import assert_no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 360


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
    )
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def wide_elements(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .slice(0, 8).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))"""
    )


def assert_fits(page, name: str) -> None:
    width = overflow(page)
    assert width <= WIDTH, f"{name} ({page.url}) is {width} px wide: {wide_elements(page)}"


def start_exam(page, examinee):
    from exams.models import Attempt

    page.once("dialog", lambda d: d.accept())
    page.tap("text=Start exam")
    page.wait_for_selector("[data-screen]")
    return Attempt.objects.get(user=examinee)


def in_view(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    viewport = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


def small_targets(page) -> list[str]:
    """Visible controls smaller than 44 x 44 CSS px. A radio button or checkbox counts by its
    label, which is what a finger taps; links inside running text are exempt (WCAG 2.5.8)."""
    return page.evaluate(
        """() => {
          const out = [];
          const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0
              && getComputedStyle(el).visibility !== 'hidden' && !el.closest('dialog:not([open]), [hidden], .sr-only'); };
          const controls = document.querySelectorAll('button, a[href], input, select, textarea, summary');
          for (const el of controls) {
            if (!shown(el) && !(el.matches('input[type=radio], input[type=checkbox]'))) continue;
            if (el.closest('p, li:not(.nav-li), td, dd') && el.matches('a') && !el.matches('.tool-btn, .button, .nav-item, .filter, .pos-list a')) continue;
            const target = el.matches('input[type=radio], input[type=checkbox]') ? (el.labels && el.labels[0]) : el;
            if (!target || !shown(target)) continue;
            const r = target.getBoundingClientRect();
            if (r.width < 44 || r.height < 44) out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} "${(el.textContent || el.value || '').trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
          }
          return out;
        }"""
    )


def test_no_examinee_page_scrolls_sideways_at_360_px(
    live_server, phone, login, examinee, make_exam
):
    page = phone
    make_exam(title="E2E phone", slug="e2e-phone", blocks=2, items=3, minutes=5, tutorial_minutes=1)
    page.goto(f"{live_server.url}/accounts/login/")
    assert_fits(page, "login")
    login(page, "ada")
    assert_fits(page, "examinee home")
    assert_no_axe_violations(page, "phone: examinee home")
    for url in ("/exams/practice/new/", "/analytics/progress/", "/study/", "/exams/lab-values/"):
        page.goto(live_server.url + url)
        assert_fits(page, url)
    page.goto(f"{live_server.url}/exams/")
    attempt = start_exam(page, examinee)
    page.wait_for_selector('[data-screen="tutorial"]')
    assert_fits(page, "tutorial")
    page.tap("#end-tutorial")
    page.wait_for_selector("#start-block")
    assert_fits(page, "break screen")
    page.tap("#start-block")
    page.wait_for_selector('#exam-root[data-ready="1"]')
    assert_fits(page, "item")
    for action, selector in (
        ("toggle-navigator", "html.nav-open"),
        ("calculator", "#calc-dialog[open]"),
        ("labs", "#lab-dialog[open] [data-lab-search]"),
        ("notes", "#notes-dialog[open]"),
    ):
        page.locator(f'[data-action="{action}"]').first.scroll_into_view_if_needed()
        page.tap(f'[data-action="{action}"]')
        page.wait_for_selector(selector)
        assert_fits(page, f"item with {action} open")
        assert_no_axe_violations(page, f"phone: item with {action} open")
        page.keyboard.press("Escape")
    # The largest text size and reverse colour.
    for _ in range(6):
        page.tap('[data-action="zoom-in"]')
    page.tap('[data-action="contrast"]')
    assert_fits(page, "item, largest text")
    page.tap('.top-tools [data-nav="review"]')
    page.wait_for_selector('#exam-swap[data-screen="review"]')
    assert_fits(page, "review screen, largest text")
    assert_no_axe_violations(page, "phone: review screen, largest text, reverse colour")
    for _ in range(6):
        page.tap('[data-action="zoom-out"]')
    page.tap('[data-action="contrast"]')
    page.tap('a[data-action="end-block"]')
    page.wait_for_selector("#end-block-confirm")
    assert_fits(page, "end-block confirmation")
    page.tap("#end-block-confirm")
    page.wait_for_selector("#start-block")
    assert_fits(page, "break screen with the time summary")
    page.tap("#start-block")
    page.wait_for_selector('#exam-root[data-ready="1"]')
    page.tap('a[data-action="end-block"]')
    page.tap("#end-block-confirm")
    page.wait_for_selector('[data-screen="finished"]')
    assert_fits(page, "finished")
    for url in (
        f"/analytics/attempts/{attempt.uuid}/review/",
        f"/analytics/attempts/{attempt.uuid}/review/block/1/",
        f"/analytics/attempts/{attempt.uuid}/report/",
        "/analytics/progress/",
    ):
        page.goto(live_server.url + url)
        assert_fits(page, url)


def test_on_a_phone_the_timers_stay_in_view_the_item_list_is_a_drawer_and_targets_are_44_px(
    live_server, phone, login, examinee, short_exam
):
    page = phone
    login(page, "ada")
    start_exam(page, examinee)
    assert not small_targets(page), small_targets(page)  # the break screen
    page.tap("#start-block")
    page.wait_for_selector('#exam-root[data-ready="1"]')
    assert not small_targets(page), small_targets(page)

    # Reading at the largest text size: scroll to the last option; the block timer and the
    # item's heading (with Previous / Next) are still on screen.
    for _ in range(6):
        page.tap('[data-action="zoom-in"]')
    page.locator('.option[data-index="4"]').scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 100, "the item should be long enough to scroll"
    assert in_view(page, '#block-timer [data-clock="block_remaining"]')
    assert in_view(page, "#item-heading")
    assert in_view(page, '[data-nav="next"]')
    for _ in range(6):
        page.tap('[data-action="zoom-out"]')

    # The item list is a closed drawer: out of sight and out of the accessibility tree.
    toggle = page.locator('[data-action="toggle-navigator"]')
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.is_visible('.nav-item[data-pos="2"]')
    toggle.tap()
    page.wait_for_selector('.nav-item[data-pos="2"]', state="visible")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert not small_targets(page), small_targets(page)
    page.tap('.nav-item[data-pos="2"]')
    page.wait_for_selector('#exam-swap[data-position="2"]')
    page.wait_for_selector('.nav-item[data-pos="2"]', state="hidden")
    assert page.get_attribute('[data-action="toggle-navigator"]', "aria-expanded") == "false"
    # A tap outside closes it too.
    page.tap('[data-action="toggle-navigator"]')
    page.wait_for_selector('.nav-item[data-pos="1"]', state="visible")
    page.tap("#stem", position={"x": 300, "y": 10})  # right of the drawer
    page.wait_for_selector('.nav-item[data-pos="1"]', state="hidden")

    page.tap('.top-tools [data-nav="review"]')
    page.wait_for_selector('#exam-swap[data-screen="review"]')
    assert not small_targets(page), small_targets(page)


def test_strike_out_and_highlight_work_by_touch(live_server, phone, login, examinee, short_exam):
    from exams.models import Attempt, Response

    page = phone
    login(page, "ada")
    start_exam(page, examinee)
    page.tap("#start-block")
    page.wait_for_selector('#exam-root[data-ready="1"]')
    attempt = Attempt.objects.get(user=examinee)

    page.tap('label[for="opt-1"]')
    assert page.is_checked("#opt-1")
    page.tap('.strike-btn[data-index="3"]')
    page.wait_for_selector('.option[data-index="3"].is-struck')
    # A long press selects a word (the phone's own gesture, which Playwright cannot make: the
    # selection is set as the phone would set it, after a touch on the stem).
    page.tap("#stem p", position={"x": 30, "y": 10})
    page.evaluate(
        """() => {
          const text = document.querySelector('#stem p').firstChild;
          const range = document.createRange();
          range.setStart(text, 2); range.setEnd(text, 13);
          const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        }"""
    )
    page.wait_for_selector("#stem mark.hl")
    assert page.inner_text("#stem mark.hl") == "54-year-old"
    page.wait_for_selector('#save-state[data-state="saved"]')
    r = Response.objects.get(attempt=attempt, block__number=1, position=1)
    assert r.choice == 1 and r.struck == [3] and r.highlights == [[2, 13]]
    # Tapping the highlight removes it; tapping the strike button again restores the option.
    page.tap("#stem mark.hl")
    page.wait_for_selector("#stem mark.hl", state="detached")
    page.tap('.strike-btn[data-index="3"]')
    page.wait_for_selector('.option[data-index="3"]:not(.is-struck)')
    page.wait_for_selector('#save-state[data-state="saved"]')
    r.refresh_from_db()
    assert r.struck == [] and r.highlights == []


def test_the_2026_tools_the_exam_end_screens_and_the_study_pages_fit_360_px_with_44_px_targets(
    live_server, phone, login, examinee, make_exam
):
    from tests.e2e.walk_2026 import walk_2026_screens

    problems = []

    def check(page, name: str) -> None:
        width = overflow(page)
        if width > WIDTH:
            problems.append(f"{name}: {width} px wide: {wide_elements(page)}")
        small = small_targets(page)
        if small:
            problems.append(f"{name}: small targets {small}")
        try:
            assert_no_axe_violations(page, f"phone: {name}")
        except AssertionError as exc:
            problems.append(str(exc))

    walk_2026_screens(phone, live_server, login, examinee, make_exam, check)
    assert not problems, "\n".join(problems)
