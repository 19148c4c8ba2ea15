"""The study loop in the browser (#16): from a finished block to the due cards, through a
review session rated Again / Hard / Good / Easy after the explanation, to the exported Anki
deck (opened with Anki's own engine) and the study plan."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _finish(exam, user):
    """Sit the exam through the engine: block 1 all wrong, block 2 all right with item 1
    marked. Three misses and one marked item: four cards."""
    from exams import services
    from exams.models import Attempt

    now = timezone.now()
    attempt = services.attempt_start(user=user, exam=exam, now=now)
    if attempt.state == Attempt.State.TUTORIAL:
        services.tutorial_end(attempt=attempt, now=now)
    seq = 0
    for number, wrong in ((1, True), (2, False)):
        services.block_start(attempt=attempt, now=now)
        for response in attempt.responses.filter(block__number=number).select_related("version"):
            seq += 1
            key = response.version.key_index
            services.answer_save(
                attempt=attempt,
                position=response.position,
                seq=seq,
                now=now,
                choice=(key + 1) % 5 if wrong else key,
                is_marked=number == 2 and response.position == 1,
            )
        services.block_end(attempt=attempt, now=now)
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.FINISHED
    return attempt


def test_from_a_finished_block_through_due_cards_to_the_anki_deck_and_the_plan(
    live_server, page, login, examinee, short_exam, screenshot, tmp_path
):
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    from study.models import Card, CardReview, StudyPlan

    attempt = _finish(short_exam, examinee)
    login(page, "ada")

    # The finished block's review, reached from the home page.
    page.click(f'a[href="/analytics/attempts/{attempt.uuid}/review/"]')
    page.click(f'a[href="/analytics/attempts/{attempt.uuid}/review/block/1/"]')
    assert page.inner_text("nav.crumbs").endswith("Block 1")
    assert "SECRET-EXPLANATION-0" in page.content()

    # Home: the next best step is the four due cards.
    page.goto(f"{live_server.url}/exams/")
    step = page.locator("[data-next-step]")
    assert step.get_attribute("data-next-step") == "review"
    assert "4 review cards due" in step.inner_text()
    screenshot(page, "study-next-step")
    step.get_by_role("link", name="Review due cards").click()
    page.wait_for_url(f"{live_server.url}/study/review/")

    # The session: answer, read the explanation, rate; one of each rating.
    for rating in ("Again", "Hard", "Good", "Easy"):
        assert "SECRET-EXPLANATION" not in page.content()
        page.locator("input[name=choice]").nth(1).check()
        page.get_by_role("button", name="Submit").click()
        page.wait_for_selector(".explanation")
        assert "SECRET-EXPLANATION" in page.inner_text(".explanation")
        assert page.locator(".badge.ok").inner_text() == "Correct answer"
        if rating == "Easy":
            screenshot(page, "study-review-rate", full_page=True)
        page.get_by_role("button", name=rating, exact=True).click()
        page.wait_for_url(f"{live_server.url}/study/review/")
    assert "Nothing is due" in page.content()
    ratings = sorted(CardReview.objects.values_list("rating", flat=True))
    assert ratings == [1, 2, 3, 4]
    assert Card.objects.filter(user=examinee, due_at__lte=timezone.now()).count() == 0

    # The deck: every card, downloaded and opened with Anki's engine.
    page.goto(f"{live_server.url}/study/")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export to Anki (.apkg)").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "mockboard-review.apkg"
    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(path), options=ImportAnkiPackageOptions(merge_notetypes=True)
            )
        )
        notes = {n["MockboardId"]: n for n in (col.get_note(i) for i in col.find_notes(""))}
        carded = Card.objects.filter(user=examinee).values_list("question__uuid", flat=True)
        assert set(notes) == {str(u) for u in carded}
        for note in notes.values():
            assert note["Answer"].startswith("A. ")  # every key of the fixed form is A
            assert "SECRET-EXPLANATION" in note["Explanation"]
            assert any(t.startswith("mockboard::discipline::") for t in note.tags), note.tags
    finally:
        col.close()

    # The plan: a test date four weeks out, today's target, and the calendar file.
    page.goto(f"{live_server.url}/study/plan/")
    page.fill("#id_test_date", (timezone.localdate() + timedelta(days=28)).isoformat())
    page.fill("#id_hours_per_day", "2")
    page.get_by_role("button", name="Save plan").click()
    page.wait_for_selector("#today-target")
    assert StudyPlan.objects.get(user=examinee).hours_per_day == 2
    screenshot(page, "study-plan", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to calendar (.ics)").click()
    assert download.value.suggested_filename == "mockboard-plan.ics"
    assert b"BEGIN:VCALENDAR" in Path(download.value.path()).read_bytes()

    # Home again: nothing due, and the six questions of the bank all used (today's target is
    # nought), so the plan's next self-assessment is the next step.
    page.goto(f"{live_server.url}/exams/")
    step = page.locator("[data-next-step]")
    assert step.get_attribute("data-next-step") == "assessment"
    assert "Next self-assessment: 120-item self-assessment (120 items)" in step.inner_text()
