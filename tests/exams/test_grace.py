"""The grace period after a block's deadline is for requests already in flight, nothing more.

After the deadline no item page, visit, bundle or review screen is served; an answer that
arrives inside the grace is kept only for an item the examinee had open, or had visited,
before the deadline (docs/timing.md, "Late saves").
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exams import answers, attempts, clock
from exams.errors import BlockClosed
from exams.models import AttemptBlock, Response

pytestmark = pytest.mark.django_db

LATE = (timedelta(seconds=1.6), timedelta(seconds=4))


@pytest.fixture
def in_block(attempt, t0):
    """Block 1 open from t0 (deadline t0 + 10 min); item 2 visited, now on item 3."""
    clock.tutorial_end(attempt=attempt, now=t0)
    attempt = clock.block_start(attempt=attempt, now=t0)
    answers.item_visit(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=2,
        now=t0 + timedelta(minutes=1),
    )
    answers.item_visit(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=3,
        now=t0 + timedelta(minutes=2),
    )
    return attempt


def _deadline(attempt):
    return attempt.blocks.get(number=1).deadline_at


def _row(attempt, position):
    return Response.objects.get(attempt=attempt, block__number=1, position=position)


@pytest.mark.parametrize("late", LATE)
def test_in_the_grace_an_answer_to_the_item_on_screen_is_kept(in_block, late):
    now = _deadline(in_block) + late
    answers.answer_save(
        attempt_uuid=in_block.uuid, user_id=in_block.user_id, position=3, seq=1, choice=2, now=now
    )
    assert _row(in_block, 3).choice == 2


@pytest.mark.parametrize("late", LATE)
def test_in_the_grace_an_answer_to_an_item_visited_before_the_deadline_is_kept(in_block, late):
    now = _deadline(in_block) + late
    answers.answer_save(
        attempt_uuid=in_block.uuid, user_id=in_block.user_id, position=2, seq=1, choice=1, now=now
    )
    assert _row(in_block, 2).choice == 1


@pytest.mark.parametrize("late", LATE)
def test_in_the_grace_an_answer_to_an_item_never_opened_is_refused(in_block, late):
    now = _deadline(in_block) + late
    for position in (4, 5):
        with pytest.raises(BlockClosed):
            answers.answer_save(
                attempt_uuid=in_block.uuid,
                user_id=in_block.user_id,
                position=position,
                seq=1,
                choice=1,
                is_marked=True,
                now=now,
            )
        row = _row(in_block, position)
        assert (row.choice, row.is_marked, row.field_seqs) == (None, False, {})


@pytest.mark.parametrize("late", LATE)
def test_in_the_grace_no_move_is_made(in_block, late):
    now = _deadline(in_block) + late
    fast = answers.item_visit_fast(
        attempt_uuid=in_block.uuid, user_id=in_block.user_id, position=4, now=now
    )
    assert fast is None
    with pytest.raises(BlockClosed):
        answers.item_visit(
            attempt_uuid=in_block.uuid, user_id=in_block.user_id, position=4, now=now
        )
    with pytest.raises(BlockClosed):
        answers.item_visit(
            attempt_uuid=in_block.uuid, user_id=in_block.user_id, position=3, now=now
        )
    block = in_block.blocks.get(number=1)
    assert (block.state, block.current_position) == (AttemptBlock.State.ACTIVE, 3)


# ---------------------------------------------------------------- through the views (real clock)


@pytest.fixture
def expired_live(examinee, exam):
    """Block 1 open, on item 1, its deadline 1.6 s ago (inside the 5 s grace)."""
    now = timezone.now()
    attempt = attempts.attempt_start(user=examinee, exam=exam, now=now, rng=random.Random(7))
    clock.tutorial_end(attempt=attempt, now=now)
    attempt = clock.block_start(attempt=attempt, now=now)
    AttemptBlock.objects.filter(attempt=attempt, number=1).update(
        deadline_at=timezone.now() - timedelta(seconds=1.6)
    )
    return attempt


def test_after_the_deadline_the_item_page_is_not_served(examinee_client, expired_live):
    response = examinee_client.get(reverse("exams:item", args=[expired_live.uuid, 2]))
    assert response.status_code == 302
    assert response["Location"] == reverse("exams:attempt", args=[expired_live.uuid])
    # The attempt page says time is up (no loop back to the item) until the block closes.
    page = examinee_client.get(response["Location"])
    assert page.status_code == 200
    assert "Time is up" in page.content.decode()
    assert "Stem of question" not in page.content.decode()
    assert expired_live.blocks.get(number=1).current_position == 1


def test_after_the_deadline_a_visit_is_409_and_moves_nothing(examinee_client, expired_live):
    response = examinee_client.post(reverse("exams:visit", args=[expired_live.uuid, 2]))
    assert response.status_code == 409
    assert response.json()["error"] == "closed"
    assert expired_live.blocks.get(number=1).current_position == 1


def test_after_the_deadline_the_bundle_and_review_are_not_served(examinee_client, expired_live):
    bundle = examinee_client.get(reverse("exams:block_items", args=[expired_live.uuid]))
    assert bundle.status_code == 404
    review = examinee_client.get(reverse("exams:review_screen", args=[expired_live.uuid]))
    assert review.status_code == 302
    assert "Stem of question" not in bundle.content.decode()


def test_after_the_deadline_an_answer_to_an_unopened_item_is_409(examinee_client, expired_live):
    url = reverse("exams:save", args=[expired_live.uuid, 4])
    response = examinee_client.post(url, {"seq": 3, "choice": 1}, HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert _row(expired_live, 4).choice is None
    # The item that was open at the deadline still takes its in-flight answer.
    url = reverse("exams:save", args=[expired_live.uuid, 1])
    response = examinee_client.post(url, {"seq": 4, "choice": 1}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert _row(expired_live, 1).choice == 1
