"""Accessibility in a real browser: axe-core finds no violation, at any impact, on any screen or
dialog/panel state of the exam and the examinee's other pages; a block can be completed with the
keyboard alone; the accessibility tree names the item, the options, the answer state, the time
warnings and the save state."""

from __future__ import annotations

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
