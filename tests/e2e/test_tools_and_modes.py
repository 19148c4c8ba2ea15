"""Browser tests for the rest of the test-day interface: the tutorial, sequential item sets,
display preferences, the unauthorised-break dialog and tutor mode."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def start_exam(page, examinee):
    from exams.models import Attempt

    page.once("dialog", lambda d: d.accept())
    page.click("text=Start exam")
    page.wait_for_selector("[data-screen]")
    return Attempt.objects.get(user=examinee)


def test_tutorial_sequential_set_preferences_and_inactivity(
    live_server, page, login, examinee, make_exam, screenshot
):
    from exams.models import Response

    make_exam(
        title="E2E sequential",
        slug="e2e-seq",
        blocks=1,
        items=3,
        minutes=5,
        tutorial_minutes=1,
        sequential=(2, 3),
    )
    login(page, "ada")
    attempt = start_exam(page, examinee)

    # ---- the tutorial: its own countdown, the shortcuts, "End tutorial"
    page.wait_for_selector('[data-screen="tutorial"]')
    assert "Alt" in page.inner_text(".shortcuts")
    page.wait_for_selector('[data-clock="block_remaining"]:has-text("00:0")')
    screenshot(page, "tutorial")
    page.click("#end-tutorial")
    page.wait_for_selector("#start-block")
    page.click("#start-block")
    page.wait_for_selector('#exam-swap[data-position="1"]')
    page.wait_for_selector('#exam-root[data-ready="1"]')  # the shortcuts are listening

    # ---- a sequential set: leaving an item asks first, then locks its answer
    page.keyboard.press("n")
    page.wait_for_selector('#exam-swap[data-position="2"] .set-banner')
    assert "sequential" in page.inner_text(".set-banner").lower()
    assert page.is_visible(".stimulus")
    page.keyboard.press("c")
    page.keyboard.press("n")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click('[data-action="confirm-no"]')
    page.wait_for_selector("#confirm-dialog", state="hidden")
    assert page.get_attribute("#exam-swap", "data-position") == "2"
    page.keyboard.press("n")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click('[data-action="confirm-yes"]')
    page.wait_for_selector('#exam-swap[data-position="3"]')
    r = Response.objects.get(attempt=attempt, position=2)
    assert r.is_locked and r.choice == 2
    page.keyboard.press("p")  # leaving item 3 (also in the set) asks again
    page.wait_for_selector("#confirm-dialog[open]")
    page.click('[data-action="confirm-yes"]')
    page.wait_for_selector('#exam-swap[data-position="2"][data-locked="1"]')
    assert page.is_disabled("#opt-0")
    page.keyboard.press("a")  # refused on a locked item
    assert page.is_checked("#opt-2")
    assert "locked" in page.inner_text(".set-banner")

    # ---- text size and reverse colour persist across a reload
    page.click('[data-action="zoom-in"]')
    page.keyboard.press("+")
    page.click('[data-action="contrast"]')
    assert page.get_attribute('[data-action="contrast"]', "aria-pressed") == "true"
    page.reload()
    page.wait_for_selector("#exam-swap")
    classes = page.get_attribute("html", "class")
    assert "zoom-3" in classes and "reverse-contrast" in classes
    screenshot(page, "item-reverse-contrast")
    page.click('[data-action="contrast"]')
    page.keyboard.press("-")
    page.keyboard.press("-")

    # ---- an unauthorised break: the dialog says the clock keeps running
    attempt.refresh_from_db()
    attempt.last_activity_at = timezone.now() - timedelta(minutes=10)
    attempt.save(update_fields=["last_activity_at"])
    page.reload()
    page.wait_for_selector("#inactive-dialog[open]")
    assert "clock keeps running" in page.inner_text("#inactive-dialog")
    screenshot(page, "unauthorised-break")
    page.click('[data-action="resume"]')
    page.wait_for_selector("#inactive-dialog", state="hidden")
    deadline = timezone.now() + timedelta(seconds=10)
    while timezone.now() < deadline:
        attempt.refresh_from_db()
        if timezone.now() - attempt.last_activity_at < timedelta(seconds=30):
            break
    assert timezone.now() - attempt.last_activity_at < timedelta(seconds=30)


def test_tutor_mode_shows_the_explanation_only_after_submitting(
    live_server, page, context, login, examinee, make_exam, screenshot
):
    from exams.models import Exam, Response

    make_exam(title="E2E tutor", slug="e2e-tutor", blocks=1, items=2, minutes=5, mode="tutor")
    assert Exam.objects.get(title="E2E tutor").mode == Exam.Mode.TUTOR
    login(page, "ada")
    attempt = start_exam(page, examinee)
    page.wait_for_selector("#start-block")
    page.click("#start-block")
    page.wait_for_selector('#exam-swap[data-position="1"]')
    assert "SECRET" not in page.content()
    page.keyboard.press("b")
    # Choosing does not submit in tutor mode: nothing is revealed or stored yet.
    assert Response.objects.get(attempt=attempt, position=1).choice is None
    page.click('[data-action="submit-tutor"]')
    page.wait_for_selector(".tutor")
    text = page.inner_text(".tutor")
    assert "Incorrect" in text and "The correct answer is A" in text
    assert "SECRET-EXPLANATION-0" in text and "SECRET-WHY-0-1" in text
    assert page.is_disabled("#opt-0")
    assert page.get_attribute('.option[data-index="0"]', "class").count("is-key") == 1
    screenshot(page, "tutor-explanation", full_page=True)
    page.keyboard.press("n")
    page.wait_for_selector('#exam-swap[data-position="2"]')
    assert "SECRET-EXPLANATION-1" not in page.content()
    assert not context.csp_errors, context.csp_errors
