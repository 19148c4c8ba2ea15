"""The test day, end to end, in a real browser: answering by mouse and keyboard, the tools,
going offline and back, reloading, a block expiring, the break screen, ending a block early,
and finally every acknowledged answer in the database."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seconds(text: str) -> int:
    sign = -1 if text.strip().startswith(("−", "-")) else 1
    h, m, s = (int(x) for x in re.findall(r"\d+", text)[:3])
    return sign * (h * 3600 + m * 60 + s)


def block_left(page) -> int:
    return seconds(page.inner_text('#block-timer [data-clock="block_remaining"]'))


def save_state(page) -> str:
    return page.get_attribute("#save-state", "data-state")


def queue_len(page, attempt) -> int:
    return page.evaluate(f"(JSON.parse(localStorage.getItem('mb:q:{attempt.uuid}')) || []).length")


def poll(check, timeout: float = 15, what: str = "condition") -> None:
    # page.wait_for_function evaluates a string, which the strict CSP (no unsafe-eval) refuses.
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def wait_saved(page, attempt, timeout=15) -> None:
    """The queue in localStorage is empty and the bottom bar says so."""
    poll(lambda: queue_len(page, attempt) == 0, timeout, "the save queue to empty")
    page.wait_for_selector('#save-state[data-state="saved"]', timeout=timeout * 1000)


def responses(attempt):
    from exams.models import Response

    return {
        (r.block.number, r.position): r
        for r in Response.objects.filter(attempt=attempt).select_related("block")
    }


def test_a_timed_exam_day_survives_offline_reload_and_expiry(
    live_server, page, context, login, examinee, short_exam, screenshot, settings
):
    from exams.models import Attempt, AttemptBlock

    settings.ANSWER_GRACE_SECONDS = 2
    login(page, "ada")
    screenshot(page, "home")
    page.once("dialog", lambda d: d.accept())  # "Start now? The exam-day clock starts."
    page.click("text=Start exam")
    # No tutorial: straight to the break screen before block 1.
    page.wait_for_selector("#start-block")
    attempt = Attempt.objects.get(user=examinee)
    page.click("#start-block")
    page.wait_for_selector('#exam-swap[data-screen="item"][data-position="1"]')
    started = time.monotonic()

    # Timed mode never ships the key or explanations.
    assert "SECRET" not in page.content()
    # A one-minute block starts inside the 2-minute warning: banner and assertive announcement.
    page.wait_for_selector("#time-warning:not([hidden])")
    assert "remain" in page.inner_text("#sr-assertive")
    assert 50 <= block_left(page) <= 60

    # ---- item 1: mouse, then keyboard
    page.click('label[for="opt-0"]')
    page.keyboard.press("c")
    assert page.is_checked("#opt-2")
    page.keyboard.press("m")
    assert page.is_checked("#mark-box")
    page.click('.option[data-index="4"] label', button="right")  # strike E by right-click
    page.focus("#opt-3")
    page.keyboard.press("s")  # strike the focused option (D)
    assert page.get_attribute('.option[data-index="3"]', "class").count("is-struck") == 1
    assert page.is_checked("#opt-2"), "striking must not change the answer"
    page.dblclick("#stem p", position={"x": 260, "y": 10})  # select a word: it is highlighted
    page.wait_for_selector("#stem mark.hl")
    page.keyboard.press("t")
    page.wait_for_selector("#notes-dialog[open]")
    page.keyboard.type("Inferior STEMI: check right-sided leads")
    page.keyboard.press("Escape")
    page.wait_for_selector("#notes-dialog", state="hidden")
    wait_saved(page, attempt)
    screenshot(page, "item")

    # ---- item 2 by keyboard (N), answered and marked by mouse
    page.keyboard.press("n")
    page.wait_for_selector('#exam-swap[data-position="2"]')
    page.click('label[for="opt-1"]')
    page.click("#mark-box")
    # ---- review screen by keyboard, then item 3 by mouse from the table
    page.keyboard.press("r")
    page.wait_for_selector('#exam-swap[data-screen="review"]')
    rows = page.locator(".review-table tbody tr")
    assert rows.count() == 3
    assert "Unanswered" in page.inner_text('.review-table tr[data-pos="3"]')
    page.click("text=Unanswered (1)")
    page.wait_for_selector('.review-filters .is-current:has-text("Unanswered")')
    assert page.locator(".review-table tbody tr").count() == 1
    screenshot(page, "review-screen")
    page.click('.review-table a[data-pos="3"]')
    page.wait_for_selector('#exam-swap[data-position="3"]')
    page.keyboard.press("1")
    assert page.is_checked("#opt-0")

    # ---- calculator: keyboard (Alt+C) and mouse
    page.keyboard.press("Alt+c")
    page.wait_for_selector("#calc-dialog[open]")
    page.keyboard.type("12*3=")
    assert page.inner_text("#calc-display") == "36"
    page.click('button[data-calc="sqrt"]')
    assert page.inner_text("#calc-display") == "6"
    page.click('button[data-calc="M+"]')
    page.keyboard.press("Escape")
    page.wait_for_selector("#calc-dialog", state="hidden")
    page.click('button[data-action="calculator"]')
    page.wait_for_selector("#calc-dialog[open]")
    page.click('button[data-calc="MR"]')
    assert page.inner_text("#calc-display") == "6"
    page.click("#calc-dialog .dialog-close")

    # ---- lab values: keyboard (L) and mouse, with search
    page.keyboard.press("l")
    page.wait_for_selector("#lab-dialog[open] [data-lab-search]")
    page.fill("[data-lab-search]", "sodium")
    visible = page.locator("#lab-dialog [data-lab-row]:visible")
    assert visible.count() >= 1
    assert "Sodium" in visible.first.inner_text()
    page.keyboard.press("Escape")
    page.wait_for_selector("#lab-dialog", state="hidden")
    page.click('a[data-action="labs"]')
    page.wait_for_selector("#lab-dialog[open]")
    page.click("#lab-dialog .dialog-close")
    # ---- help
    page.keyboard.press("?")
    page.wait_for_selector("#help-dialog[open]")
    page.keyboard.press("Escape")
    wait_saved(page, attempt)

    # ---- offline: keep answering; the queue holds the answers
    context.set_offline(True)
    page.wait_for_selector('#save-state[data-state="offline"]')
    page.keyboard.press("p")  # item 2 was seen before, so it opens from memory
    page.wait_for_selector('#exam-swap[data-position="2"]')
    page.keyboard.press("d")
    page.click('.option[data-index="0"] label', button="right")
    assert "Offline" in page.inner_text("#save-state")
    assert "waiting" in page.inner_text("#save-state")
    r = responses(attempt)[(1, 2)]
    assert r.choice == 1, "the server has not seen the offline answer yet"
    assert queue_len(page, attempt) == 2
    context.set_offline(False)
    wait_saved(page, attempt)
    r = responses(attempt)[(1, 2)]
    assert r.choice == 3 and r.struck == [0]

    # ---- a crash while offline: the queue survives and is replayed by the next page
    context.set_offline(True)
    page.wait_for_selector('#save-state[data-state="offline"]')
    page.keyboard.press("m")  # unmark item 2
    assert queue_len(page, attempt) == 1
    page.close()
    context.set_offline(False)
    page = context.new_page()
    page.goto(f"{live_server.url}/exams/a/{attempt.uuid}/")
    page.wait_for_selector('#exam-swap[data-screen="item"]')
    wait_saved(page, attempt)
    assert responses(attempt)[(1, 2)].is_marked is False

    # ---- reload: same answers, same time (the server is the clock)
    page.goto(f"{live_server.url}/exams/a/{attempt.uuid}/item/1/")
    page.wait_for_selector('#exam-swap[data-position="1"]')
    before, t_before = block_left(page), time.monotonic()
    page.reload()
    page.wait_for_selector('#exam-swap[data-position="1"]')
    poll(lambda: ":" in page.inner_text('#block-timer [data-clock="block_remaining"]'))
    after, t_after = block_left(page), time.monotonic()
    assert abs((before - (t_after - t_before)) - after) <= 2
    assert page.is_checked("#opt-2") and page.is_checked("#mark-box")
    assert page.locator("#stem mark.hl").count() >= 1
    assert page.locator(".option.is-struck").count() == 2
    assert page.input_value("#note-text") == "Inferior STEMI: check right-sided leads"
    nav2 = page.get_attribute('.nav-item[data-pos="2"]', "class")
    assert "is-answered" in nav2 and "is-marked" not in nav2

    # ---- let block 1 expire: the break screen with the time summary
    remaining = 60 - (time.monotonic() - started)
    assert remaining > 0, "block 1's scenario took longer than the block"
    # The rest of the minute would only be waited out: the server's deadline moves to a few
    # seconds from now (as an instructor's time change would), and a reload brings the browser
    # the server's new figure; the countdown, the expiry and the close are the real ones.
    AttemptBlock.objects.filter(attempt=attempt, number=1).update(
        deadline_at=timezone.now() + timedelta(seconds=5)
    )
    page.reload()
    page.wait_for_selector('#exam-swap[data-position="1"]')
    assert block_left(page) <= 5
    polls: list[str] = []
    page.on("request", lambda r: polls.append((page.url, r.url)) if "/clock/" in r.url else None)
    page.wait_for_selector("#start-block", timeout=30_000)
    # At zero the page waited out the server's grace, then went to the break screen once: no
    # clock poll each second (a cohort's blocks end together).
    assert polls == [], polls
    assert "Time expired" in page.inner_text(".time-summary")
    poll(lambda: "-" not in page.inner_text('[data-clock="break_remaining"]'))
    screenshot(page, "break-time-summary")

    # ---- block 2: answer one item, end the block early, finish
    page.click("#start-block")
    page.wait_for_selector('#exam-swap[data-screen="item"][data-position="1"]')
    assert page.inner_text(".block-label").startswith("Block 2")
    page.keyboard.press("b")
    wait_saved(page, attempt)
    page.click('a[data-action="end-block"]')
    page.wait_for_selector("#end-block-confirm")
    assert "2 unanswered items" in page.inner_text(".confirm-card")
    screenshot(page, "block-end-confirm")
    page.click("#end-block-confirm")
    page.wait_for_selector('[data-screen="finished"]')
    screenshot(page, "finished")

    # ---- every acknowledged answer is in the database
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.FINISHED
    r = responses(attempt)
    assert r[(1, 1)].choice == 2 and r[(1, 1)].is_marked
    assert sorted(r[(1, 1)].struck) == [3, 4]
    assert r[(1, 1)].highlights and r[(1, 1)].note.startswith("Inferior STEMI")
    assert r[(1, 2)].choice == 3 and r[(1, 2)].struck == [0] and not r[(1, 2)].is_marked
    assert r[(1, 3)].choice == 0
    assert r[(2, 1)].choice == 1
    assert r[(2, 2)].choice is None and r[(2, 3)].choice is None
    assert not context.csp_errors, context.csp_errors


def test_home_and_practice_builder_screens(
    live_server, page, context, login, examinee, short_exam, screenshot
):
    login(page, "ada")
    assert page.locator(".exam-card").count() == 1
    assert "1 min" in page.inner_text(".exam-card .shape")
    page.click("text=Build a practice block")
    page.wait_for_selector("#practice-form")
    assert page.locator('input[name="mode"]').count() == 3
    assert page.locator('input[name="disciplines"]').count() == 2
    screenshot(page, "practice-builder", full_page=True)
    page.check('input[name="mode"][value="timed"]')
    page.fill("#id_count", "2")
    page.click("text=Start practice block")
    page.wait_for_selector('#exam-swap[data-screen="item"]')
    assert page.inner_text("#item-heading") == "Item 1 of 2"
    assert not context.csp_errors, context.csp_errors
