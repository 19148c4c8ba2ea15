"""Browser tests for the 2026 driver's tools (issue 14): the Settings window (text size, colour
scheme, time remaining or elapsed, shortcuts, tutorial), contrast and brightness on each image
kept per item, the tutorial inside a block without pausing the clock; and the last small
defects (End tutorial below the fold, End Block offline)."""

from __future__ import annotations

import time

import pytest

from tests.e2e.test_tools_and_modes import start_exam

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def in_block(page, login, examinee, make_exam, *, before_start=None):
    exam = make_exam(title="E2E 2026 tools", slug="e2e-2026", blocks=1, items=3, minutes=10)
    if before_start:
        before_start(exam)
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, "ada")
    attempt = start_exam(page, examinee)
    page.click("#start-block")
    page.wait_for_selector('#exam-root[data-ready="1"]')
    return attempt


def seconds(hms: str) -> int:
    h, m, s = (int(x) for x in hms.strip().lstrip("−").split(":"))
    return h * 3600 + m * 60 + s


def test_settings_window_sets_text_size_scheme_and_elapsed_time_and_they_are_kept(
    live_server, page, login, examinee, make_exam
):
    in_block(page, login, examinee, make_exam)
    timer = '#block-timer [data-clock="block_remaining"]'
    assert seconds(page.inner_text(timer)) > 9 * 60  # counting down from 10:00

    # Reached by its shortcut (G is no option of a five-option item) and from the top bar.
    page.keyboard.press("g")
    page.wait_for_selector("#settings-dialog[open]")
    page.keyboard.press("Escape")
    page.wait_for_selector("#settings-dialog", state="hidden")
    page.click('#exam-swap [data-action="settings"]')
    page.wait_for_selector("#settings-dialog[open]")
    assert page.is_checked('#settings-form input[name="zoom"][value="1"]')
    assert page.is_checked('#settings-form input[name="time"][value="remaining"]')

    page.check('#settings-form input[name="zoom"][value="5"]')
    page.check('#settings-form input[name="scheme"][value="reverse"]')
    page.check('#settings-form input[name="time"][value="elapsed"]')
    classes = page.get_attribute("html", "class")
    assert "zoom-5" in classes and "reverse-contrast" in classes
    assert page.inner_text("#block-timer .timer-label") == "Block time elapsed:"
    page.wait_for_function(
        "(s) => { const v = document.querySelector(s).textContent;"
        " return v.startsWith('00:00:') && v !== '00:00:00'; }",
        arg=timer,
    )
    # The shortcut list is one click away.
    page.click('#settings-dialog [data-action="help"]')
    page.wait_for_selector("#help-dialog[open]")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_selector("#settings-dialog", state="hidden")
    # Only the display changed: the timer still warns and expires on time remaining.
    assert "is-warning" not in (page.get_attribute("#block-timer", "class") or "")

    page.reload()
    page.wait_for_selector('#exam-root[data-ready="1"]')
    classes = page.get_attribute("html", "class")
    assert "zoom-5" in classes and "reverse-contrast" in classes
    assert page.inner_text("#block-timer .timer-label") == "Block time elapsed:"
    page.wait_for_function(
        "(s) => document.querySelector(s).textContent.startsWith('00:00:')", arg=timer
    )
    page.keyboard.press(",")
    page.wait_for_selector("#settings-dialog[open]")
    assert page.is_checked('#settings-form input[name="zoom"][value="5"]')
    assert page.is_checked('#settings-form input[name="scheme"][value="reverse"]')
    page.check('#settings-form input[name="time"][value="remaining"]')
    assert page.inner_text("#block-timer .timer-label") == "Block time remaining:"
    assert seconds(page.inner_text(timer)) > 9 * 60


def _two_images_on_item_one(exam):
    from exams.models import FixedItem

    version = FixedItem.objects.get(exam=exam, block_number=1, position=1).question.current_version
    version.stem_html += (
        '<p><img src="/static/img/favicon.svg" alt="Chest film" width="80" height="80"></p>'
        '<p><img src="/static/img/favicon.svg" alt="ECG" width="80" height="80"></p>'
    )
    version.save(update_fields=["stem_html"])


def test_each_image_has_its_own_contrast_and_brightness_kept_per_item_and_never_sent(
    live_server, page, login, examinee, make_exam
):
    in_block(page, login, examinee, make_exam, before_start=_two_images_on_item_one)
    stem_text = page.evaluate("document.getElementById('stem').textContent")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    tools = page.locator("#stem .img-tools")
    assert tools.count() == 2
    tools.nth(0).locator('[data-adj="c+"]').click()
    tools.nth(0).locator('[data-adj="c+"]').click()
    tools.nth(1).locator('[data-adj="b-"]').click()
    filters = "() => Array.from(document.querySelectorAll('#stem img'), (i) => getComputedStyle(i).filter)"
    want = ["contrast(1.5) brightness(1)", "contrast(1) brightness(0.75)"]
    assert page.evaluate(filters) == want
    assert "contrast 150 %" in tools.nth(0).get_attribute("aria-label")
    # The controls add no text to the stem, so highlight offsets are unchanged.
    assert page.evaluate("document.getElementById('stem').textContent") == stem_text
    page.wait_for_timeout(500)
    assert not [u for u in posts if "/save/" in u]  # a display aid, never an answer change

    # Kept per item: another item has none; coming back (held copy) and reloading keep them.
    page.keyboard.press("n")
    page.wait_for_selector('#exam-swap[data-position="2"]')
    page.keyboard.press("p")
    page.wait_for_selector('#exam-swap[data-position="1"]')
    assert page.locator("#stem .img-tools").count() == 2
    assert page.evaluate(filters) == want
    page.reload()
    page.wait_for_selector('#exam-root[data-ready="1"]')
    assert page.evaluate(filters) == want
    page.locator("#stem .img-tools").nth(0).locator('[data-adj="reset"]').click()
    assert page.evaluate(filters)[0] == "contrast(1) brightness(1)"
    assert not [u for u in posts if "/save/" in u]


def test_tutorial_opens_inside_a_block_read_only_and_the_block_clock_keeps_running(
    live_server, page, login, examinee, make_exam
):
    from exams.models import Attempt, AttemptBlock

    attempt = in_block(page, login, examinee, make_exam)
    block = AttemptBlock.objects.get(attempt=attempt, state=AttemptBlock.State.ACTIVE)
    deadline = block.deadline_at
    timer = '#block-timer [data-clock="block_remaining"]'

    page.keyboard.press("g")
    page.click('#settings-dialog [data-action="tutorial"]')
    page.wait_for_selector("#tutorial-dialog[open]")
    assert "The screen" in page.inner_text("#tutorial-dialog")
    assert "clock keeps running" in page.inner_text("#tutorial-dialog")
    before = seconds(page.inner_text(timer))
    page.wait_for_timeout(2500)
    assert seconds(page.inner_text(timer)) <= before - 2  # still counting down
    page.keyboard.press("Escape")
    page.wait_for_selector("#tutorial-dialog", state="hidden")
    page.keyboard.press("Escape")  # and the settings window it was opened from
    page.wait_for_selector("#settings-dialog", state="hidden")
    # Also from the help window.
    page.keyboard.press("?")
    page.click('#help-dialog [data-action="tutorial"]')
    page.wait_for_selector("#tutorial-dialog[open]")
    page.click('#tutorial-dialog .dialog-actions [data-action="close-dialog"]')

    block.refresh_from_db()
    assert block.deadline_at == deadline  # nothing paused or extended
    assert block.state == AttemptBlock.State.ACTIVE
    assert Attempt.objects.get(pk=attempt.pk).state == Attempt.State.IN_BLOCK
    assert page.get_attribute("#exam-swap", "data-position") == "1"


def test_end_tutorial_and_continue_is_in_view_at_1366x768_without_scrolling(
    live_server, page, login, examinee, make_exam
):
    make_exam(
        title="E2E tutorial", slug="e2e-tut", blocks=1, items=3, minutes=5, tutorial_minutes=5
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, "ada")
    start_exam(page, examinee)
    page.wait_for_selector('[data-screen="tutorial"]')
    assert page.evaluate("window.scrollY") == 0
    box = page.locator("#end-tutorial").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 768
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('#end-tutorial') !== null",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert hit  # not covered by anything
    page.click("#end-tutorial")
    page.wait_for_selector("#start-block")


def test_end_block_offline_says_so_at_once_and_continues_when_the_connection_returns(
    live_server, page, context, login, examinee, make_exam
):
    attempt = in_block(page, login, examinee, make_exam)
    page.keyboard.press("a")
    page.wait_for_selector('#save-state[data-state="saved"]')
    context.set_offline(True)
    page.wait_for_selector('#save-state[data-state="offline"]')
    started = time.monotonic()
    page.click('[data-action="end-block"]')
    page.wait_for_selector("#end-pending:not([hidden])", timeout=2000)
    assert time.monotonic() - started < 2
    text = page.inner_text("#end-pending")
    assert "offline" in text and "connection returns" in text
    assert "/blocks/end/" not in page.url

    context.set_offline(False)
    page.wait_for_url(f"**/exams/a/{attempt.uuid}/blocks/end/", timeout=15000)
    assert page.inner_text("#item-heading") == "End Block 1?"
