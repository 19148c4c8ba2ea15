"""Accessibility in a real browser: axe-core finds no violation, at any impact, on any screen or
dialog/panel state of the exam and the examinee's other pages; a block can be completed with the
keyboard alone; the accessibility tree names the item, the options, the answer state, the time
warnings and the save state."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.e2e.axe import assert_no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def start_exam(page, examinee):
    from exams.models import Attempt

    page.once("dialog", lambda d: d.accept())
    page.click("text=Start exam")
    page.wait_for_selector("[data-screen]")
    return Attempt.objects.get(user=examinee)


def open_dialog(page, key: str, selector: str) -> None:
    page.keyboard.press(key)
    page.wait_for_selector(f"{selector}[open]")


def close_dialog(page, selector: str) -> None:
    page.keyboard.press("Escape")
    page.wait_for_selector(selector, state="hidden")


def test_axe_finds_no_violation_on_any_exam_screen_or_dialog(
    live_server, browser, page, context, login, examinee, make_exam
):
    from exams.models import Response

    make_exam(title="E2E axe", slug="e2e-axe", blocks=2, items=3, minutes=5, tutorial_minutes=1)
    page.goto(f"{live_server.url}/accounts/login/")
    assert_no_axe_violations(page, "login")
    login(page, "ada")
    assert_no_axe_violations(page, "examinee home")
    page.goto(f"{live_server.url}/exams/practice/new/")
    page.wait_for_selector("#practice-form")
    assert_no_axe_violations(page, "practice builder")
    page.goto(f"{live_server.url}/exams/")

    attempt = start_exam(page, examinee)
    page.wait_for_selector('[data-screen="tutorial"]')
    assert_no_axe_violations(page, "tutorial")
    page.click("#end-tutorial")
    page.wait_for_selector("#start-block")
    assert_no_axe_violations(page, "break screen before block 1")
    page.click("#start-block")
    page.wait_for_selector('#exam-swap[data-position="1"]')
    page.wait_for_selector('#exam-root[data-ready="1"]')
    assert_no_axe_violations(page, "item")

    page.keyboard.press("c")
    page.keyboard.press("m")
    page.wait_for_selector('.nav-item[data-pos="1"].is-marked')
    assert_no_axe_violations(page, "item answered and marked")
    page.focus("#opt-3")
    page.keyboard.press("s")
    page.wait_for_selector('.option[data-index="3"].is-struck')
    page.dblclick("#stem p", position={"x": 200, "y": 10})
    page.wait_for_selector("#stem mark.hl")
    assert_no_axe_violations(page, "item with a struck option and a highlight")

    for key, selector, name in (
        ("t", "#notes-dialog", "notes"),
        ("Alt+c", "#calc-dialog", "calculator"),
        ("l", "#lab-dialog", "lab values"),
        ("?", "#help-dialog", "shortcut help"),
    ):
        open_dialog(page, key, selector)
        if name == "lab values":
            page.wait_for_selector("#lab-dialog [data-lab-search]")
            page.fill("[data-lab-search]", "sodium")
        assert_no_axe_violations(page, f"item with the {name} window open")
        close_dialog(page, selector)

    page.keyboard.press("r")
    page.wait_for_selector('#exam-swap[data-screen="review"]')
    assert_no_axe_violations(page, "review screen")
    page.click('.review-table a[data-pos="1"]')
    page.wait_for_selector('#exam-swap[data-position="1"]')

    # Reverse colour and the largest text, with every window.
    page.click('[data-action="contrast"]')
    for _ in range(6):
        page.keyboard.press("+")
    assert_no_axe_violations(page, "item in reverse colour, largest text")
    for key, selector, name in (
        ("Alt+c", "#calc-dialog", "calculator"),
        ("l", "#lab-dialog", "lab values"),
        ("t", "#notes-dialog", "notes"),
    ):
        open_dialog(page, key, selector)
        assert_no_axe_violations(page, f"reverse colour with the {name} window open")
        close_dialog(page, selector)
    page.keyboard.press("r")
    page.wait_for_selector('#exam-swap[data-screen="review"]')
    assert_no_axe_violations(page, "review screen in reverse colour")
    page.click('[data-action="contrast"]')
    for _ in range(6):
        page.keyboard.press("-")

    # The two-minute warning and the unauthorised-break dialog.
    page.goto(f"{live_server.url}/exams/a/{attempt.uuid}/item/2/")
    page.wait_for_selector('#exam-root[data-ready="1"]')
    page.evaluate("document.getElementById('time-warning').hidden = false")
    assert_no_axe_violations(page, "item with the time warning")
    attempt.refresh_from_db()
    attempt.last_activity_at = timezone.now() - timedelta(minutes=10)
    attempt.save(update_fields=["last_activity_at"])
    page.reload()
    page.wait_for_selector("#inactive-dialog[open]")
    assert_no_axe_violations(page, "unauthorised-break dialog")
    page.click('[data-action="resume"]')
    page.wait_for_selector("#inactive-dialog", state="hidden")

    page.click('a[data-action="end-block"]')
    page.wait_for_selector("#end-block-confirm")
    assert_no_axe_violations(page, "end-block confirmation")
    page.click("#end-block-confirm")
    page.wait_for_selector("#start-block")
    assert_no_axe_violations(page, "break screen with the time summary")
    page.click("#start-block")
    page.wait_for_selector('#exam-swap[data-position="1"]')
    page.click('a[data-action="end-block"]')
    page.wait_for_selector("#end-block-confirm")
    page.click("#end-block-confirm")
    page.wait_for_selector('[data-screen="finished"]')
    assert_no_axe_violations(page, "finished")
    assert Response.objects.filter(attempt=attempt, choice=2).exists()

    page.goto(f"{live_server.url}/analytics/attempts/{attempt.uuid}/review/")
    assert_no_axe_violations(page, "attempt review")
    page.goto(f"{live_server.url}/analytics/attempts/{attempt.uuid}/review/block/1/")
    page.wait_for_selector(".badge.ok")  # "Correct answer"
    assert_no_axe_violations(page, "block review with the key")
    page.goto(f"{live_server.url}/analytics/attempts/{attempt.uuid}/report/")
    assert_no_axe_violations(page, "score report")
    page.goto(f"{live_server.url}/exams/lab-values/")
    assert_no_axe_violations(page, "lab values page")


def test_axe_finds_no_violation_in_tutor_mode_a_sequential_set_and_the_expiry_dialog(
    live_server, page, login, examinee, make_exam
):
    make_exam(
        title="E2E axe tutor",
        slug="e2e-axe-tutor",
        blocks=1,
        items=3,
        minutes=5,
        mode="tutor",
        sequential=(2, 3),
    )
    login(page, "ada")
    start_exam(page, examinee)
    page.click("#start-block")
    page.wait_for_selector('#exam-root[data-ready="1"]')
    page.keyboard.press("b")
    page.click('[data-action="submit-tutor"]')
    page.wait_for_selector(".tutor")
    assert_no_axe_violations(page, "tutor mode: the explanation of a wrong answer")
    page.click('[data-action="contrast"]')
    assert_no_axe_violations(page, "tutor mode: the explanation in reverse colour")
    page.click('[data-action="contrast"]')
    page.keyboard.press("n")
    page.wait_for_selector('#exam-swap[data-position="2"] .set-banner')
    assert_no_axe_violations(page, "an item of a sequential set")
    page.keyboard.press("c")
    page.keyboard.press("n")
    page.wait_for_selector("#confirm-dialog[open]")
    assert_no_axe_violations(page, "the leave-this-item confirmation")
    page.click('[data-action="confirm-no"]')
    page.wait_for_selector("#confirm-dialog", state="hidden")
    # The expiry dialog, opened as the clock opens it at zero (waiting five minutes for it
    # would add nothing to what axe sees).
    page.evaluate("document.getElementById('expired-dialog').showModal()")
    assert_no_axe_violations(page, "the block-time-expired dialog")


def tab_to(page, is_there: str, *, limit: int = 60) -> None:
    """Press Tab until `is_there` (a JS expression on `el`, the focused element) holds: the
    control is reachable in the tab order, and reached with the keyboard alone."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            f"(() => {{ const el = document.activeElement; return !!({is_there}); }})()"
        ):
            return
    raise AssertionError(f"Tab never reached {is_there}")


def test_an_examinee_completes_a_block_with_the_keyboard_alone(
    live_server, page, examinee, make_exam
):
    from exams.models import Attempt, Response

    make_exam(title="E2E keys", slug="e2e-keys", blocks=1, items=3, minutes=5)
    page.goto(f"{live_server.url}/accounts/login/?next=/exams/")
    tab_to(page, "el.id === 'id_username'")
    page.keyboard.type("ada")
    page.keyboard.press("Tab")
    from tests.conftest import PASSWORD

    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/exams/")
    page.once("dialog", lambda d: d.accept())  # the browser's own "Start now?" confirm
    tab_to(page, "el.textContent.trim() === 'Start exam'")
    page.keyboard.press("Enter")
    page.wait_for_selector("#start-block")
    tab_to(page, "el.id === 'start-block'")
    page.keyboard.press("Enter")
    page.wait_for_selector('#exam-root[data-ready="1"]')

    # Item 1: Tab into the options, arrow to B (native radio group), mark it with M.
    tab_to(page, "el.id === 'opt-0'")
    page.keyboard.press("ArrowDown")
    assert page.is_checked("#opt-1")
    page.keyboard.press("m")
    assert page.is_checked("#mark-box")
    # Item 2: N moves on and focus lands on the new item's heading; C answers; the strike
    # button of option D is reached by Tab and pressed with Enter.
    page.keyboard.press("n")
    page.wait_for_selector('#exam-swap[data-position="2"]')
    assert page.evaluate("document.activeElement.id") == "item-heading"
    page.keyboard.press("c")
    tab_to(page, "el.matches('.strike-btn[data-index=\"3\"]')")
    page.keyboard.press("Enter")
    page.wait_for_selector('.option[data-index="3"].is-struck')
    # Item 3 from the navigator, by Tab and Enter.
    tab_to(page, "el.matches('.nav-item[data-pos=\"3\"]')")
    page.keyboard.press("Enter")
    page.wait_for_selector('#exam-swap[data-position="3"]')
    page.keyboard.press("e")
    # The review screen, then End Block (Alt+E) and its confirmation by Tab and Enter.
    page.keyboard.press("r")
    page.wait_for_selector('#exam-swap[data-screen="review"]')
    page.keyboard.press("Alt+e")
    page.wait_for_selector("#end-block-confirm")
    tab_to(page, "el.id === 'end-block-confirm'")
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-screen="finished"]')

    attempt = Attempt.objects.get(user=examinee)
    assert attempt.state == Attempt.State.FINISHED
    r = {x.position: x for x in Response.objects.filter(attempt=attempt)}
    assert r[1].choice == 1 and r[1].is_marked
    assert r[2].choice == 2 and r[2].struck == [3]
    assert r[3].choice == 4


def test_the_accessibility_tree_announces_item_options_answer_warnings_and_save_state(
    live_server, page, context, login, examinee, short_exam
):
    from playwright.sync_api import expect

    login(page, "ada")
    start_exam(page, examinee)
    page.click("#start-block")
    page.wait_for_selector('#exam-root[data-ready="1"]')
    root = page.locator("#exam-root")
    # The item: its heading, the stem in a region named after it, the options as a labelled
    # radio group, each with its strike-out toggle.
    expect(root).to_match_aria_snapshot(
        """
        - heading "Item 1 of 3" [level=1]
        - region "Item 1 of 3":
          - paragraph: /A 54-year-old man/
          - group "Answer options for item 1":
            - radio "A. Aspirin and percutaneous coronary intervention"
            - button "Strike out option A" [pressed=false]
            - radio "B. Oral metoprolol only"
        - status: Saved
        """
    )
    # The time warning (a one-minute block starts inside the two-minute warning) is spoken
    # at once: an assertive live region.
    assert page.get_attribute("#sr-assertive", "aria-live") == "assertive"
    expect(page.locator("#sr-assertive")).to_have_text(
        re.compile(r"Warning: about \d+ seconds remain")
    )
    # The answer state: chosen, struck out, marked.
    page.keyboard.press("c")
    page.focus("#opt-3")
    page.keyboard.press("s")
    expect(page.locator("#sr-polite")).to_have_text("Option D struck out")
    page.keyboard.press("m")
    expect(page.locator("#sr-polite")).to_have_text("Item marked for review")
    expect(root).to_match_aria_snapshot(
        """
        - checkbox "Mark" [checked]
        - region "Item 1 of 3":
          - group "Answer options for item 1":
            - radio "C. CT angiography of the chest" [checked]
            - button "Strike out option C" [pressed=false]
            - radio "D. Exercise stress test (struck out)"
            - button "Strike out option D" [pressed]
        """
    )
    # The save state is a polite status: Saved, and offline it says what is kept where.
    expect(page.get_by_role("status")).to_have_text("Saved")
    context.set_offline(True)
    page.wait_for_selector('#save-state[data-state="offline"]')
    page.keyboard.press("b")
    expect(page.get_by_role("status")).to_have_text(re.compile(r"Offline .*1 waiting to send"))
    context.set_offline(False)
    expect(page.get_by_role("status")).to_have_text("Saved")
    # Moving on: focus goes to the new item's heading, so it is read out; the item list says
    # which items are answered.
    page.keyboard.press("n")
    page.wait_for_selector('#exam-swap[data-position="2"]')
    expect(page.locator(":focus")).to_have_accessible_name("Item 2 of 3")
    expect(page.get_by_role("navigation", name="Items in this block")).to_match_aria_snapshot(
        """
        - list:
          - listitem:
            - link /1 answered/
          - listitem:
            - link /2 unanswered/
        """
    )


def test_axe_finds_no_violation_on_the_2026_tools_the_exam_end_screens_and_the_study_pages(
    live_server, page, login, examinee, make_exam
):
    from tests.e2e.walk_2026 import walk_2026_screens

    page.set_viewport_size({"width": 1366, "height": 768})
    walk_2026_screens(page, live_server, login, examinee, make_exam, assert_no_axe_violations)
