"""Ending the whole exam, and suspending it between blocks (docs/timing.md, "Ending or
suspending the exam"), with fixed times."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exams import answers, attempts, clock
from exams.errors import ExamError
from exams.models import Attempt, AttemptBlock, Response

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_break(examinee, exam):
    """An attempt started just now, its tutorial ended: the break screen (views use now)."""
    attempt = attempts.attempt_start(user=examinee, exam=exam, now=timezone.now())
    return clock.tutorial_end(attempt=attempt, now=timezone.now())


def test_ending_the_exam_in_a_break_scores_blocks_not_taken_as_omitted(attempt, t0):
    clock.tutorial_end(attempt=attempt, now=t0 + timedelta(minutes=1))
    clock.block_start(attempt=attempt, now=t0 + timedelta(minutes=1))
    answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=1, seq=1, choice=2,
        now=t0 + timedelta(minutes=2),
    )  # fmt: skip
    clock.block_end(attempt=attempt, now=t0 + timedelta(minutes=3))

    attempt = clock.exam_end(attempt=attempt, now=t0 + timedelta(minutes=4))

    assert attempt.state == Attempt.State.FINISHED
    assert attempt.finished_at == t0 + timedelta(minutes=4)
    b1, b2 = attempt.blocks.order_by("number")
    assert b1.close_reason == AttemptBlock.CloseReason.ENDED
    assert b2.state == AttemptBlock.State.CLOSED
    assert b2.close_reason == AttemptBlock.CloseReason.NOT_TAKEN
    assert not Response.objects.filter(block=b2, choice__isnull=False).exists()
    assert Response.objects.get(block=b1, position=1).choice == 2


def test_ending_the_exam_inside_a_block_closes_it_and_keeps_its_answers(attempt, t0):
    clock.tutorial_end(attempt=attempt, now=t0 + timedelta(minutes=1))
    clock.block_start(attempt=attempt, now=t0 + timedelta(minutes=1))
    answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=3, seq=1, choice=1,
        now=t0 + timedelta(minutes=2),
    )  # fmt: skip

    attempt = clock.exam_end(attempt=attempt, now=t0 + timedelta(minutes=2))
    again = clock.exam_end(attempt=attempt, now=t0 + timedelta(minutes=5))

    assert again.state == Attempt.State.FINISHED
    assert again.finished_at == t0 + timedelta(minutes=2)  # the second end changed nothing
    b1 = attempt.blocks.get(number=1)
    assert (b1.close_reason, b1.closed_at) == ("ended", t0 + timedelta(minutes=2))
    assert Response.objects.get(block=b1, position=3).choice == 1


def test_suspend_from_the_tutorial_ends_it_and_the_day_clock_keeps_running(attempt, t0):
    deadline = attempt.day_deadline_at

    attempt = clock.exam_suspend(attempt=attempt, now=t0 + timedelta(minutes=2))

    assert attempt.state == Attempt.State.BETWEEN_BLOCKS
    assert attempt.tutorial_ends_at == t0 + timedelta(minutes=2)
    assert attempt.day_deadline_at == deadline
    # Back 20 minutes later: the 10-minute break pool plus 3 unused tutorial minutes are gone,
    # so the next block is shortened by the overrun.
    later = t0 + timedelta(minutes=22)
    attempt = clock.block_start(attempt=attempt, now=later)
    assert attempt.blocks.get(number=1).deadline_at == later + timedelta(minutes=10)
    assert clock.clock_state(attempt=attempt, now=later)["day_remaining"] == 13 * 60


def test_a_block_cannot_be_suspended(attempt, t0):
    clock.tutorial_end(attempt=attempt, now=t0 + timedelta(minutes=1))
    clock.block_start(attempt=attempt, now=t0 + timedelta(minutes=1))

    with pytest.raises(ExamError, match="end the block first"):
        clock.exam_suspend(attempt=attempt, now=t0 + timedelta(minutes=2))
    assert Attempt.objects.get(pk=attempt.pk).state == Attempt.State.IN_BLOCK


def test_the_break_screen_offers_suspend_and_end_exam(examinee_client, on_break):
    attempt = on_break

    html = examinee_client.get(reverse("exams:attempt", args=[attempt.uuid])).content.decode()

    assert reverse("exams:exam_suspend", args=[attempt.uuid]) in html
    assert reverse("exams:exam_end", args=[attempt.uuid]) in html


def test_end_exam_confirmation_states_what_is_lost_then_shows_the_review(examinee_client, on_break):
    attempt = on_break
    url = reverse("exams:exam_end", args=[attempt.uuid])

    page = examinee_client.get(url).content.decode()
    assert "2 blocks not taken" in page and "scored as omitted" in page
    response = examinee_client.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("analytics:attempt_review", args=[attempt.uuid])
    assert Attempt.objects.get(pk=attempt.pk).state == Attempt.State.FINISHED


def test_suspend_goes_home_and_says_until_when_the_exam_can_be_resumed(examinee_client, on_break):
    attempt = on_break

    response = examinee_client.post(reverse("exams:exam_suspend", args=[attempt.uuid]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("exams:examinee_home")
    html = response.content.decode()
    assert "suspended" in html and "clock keeps running" in html
    assert Attempt.objects.get(pk=attempt.pk).state == Attempt.State.BETWEEN_BLOCKS


def test_the_break_table_allows_what_the_pool_holds_not_the_base_break(attempt, t0):
    # 10-minute break, 5-minute tutorial ended after 1 minute: the pool holds 14 minutes.
    clock.tutorial_end(attempt=attempt, now=t0 + timedelta(minutes=1))
    attempt.refresh_from_db()

    summary = clock.time_summary(attempt=attempt, now=t0 + timedelta(minutes=3))

    assert summary["break_used_seconds"] == 120
    assert summary["break_remaining_seconds"] == 12 * 60
    assert summary["break_pool_seconds"] == 14 * 60


def test_an_untimed_blocks_end_confirmation_promises_no_break_time(
    examinee, examinee_client, tutor_exam, exam
):
    now = timezone.now()
    untimed = attempts.attempt_start(user=examinee, exam=tutor_exam, now=now)
    clock.block_start(attempt=untimed, now=now)

    html = examinee_client.get(reverse("exams:block_end", args=[untimed.uuid])).content.decode()

    assert "cannot return to it" in html
    assert "added to your break time" not in html
