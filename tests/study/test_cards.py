from __future__ import annotations

from datetime import timedelta

import fsrs
import pytest

from exams.models import Response
from study import cards
from study.models import Card, CardReview

pytestmark = pytest.mark.django_db


def _missed_question_id(attempt):
    return attempt.responses.get(block__number=1, position=1).question_id


def test_misses_changed_and_marked_items_become_cards(examinee, finished, t0):
    now = t0 + timedelta(hours=1)
    assert cards.cards_collect(user=examinee, now=now) == 4
    by_position = {r.position: r.question_id for r in finished.responses.filter(block__number=1)}
    reasons = dict(Card.objects.filter(user=examinee).values_list("question_id", "reason"))
    assert reasons == {
        by_position[1]: Card.Reason.MISSED,
        by_position[2]: Card.Reason.CHANGED,
        by_position[3]: Card.Reason.MARKED,
        by_position[5]: Card.Reason.MISSED,
    }
    assert all(c.due_at == now for c in Card.objects.all())


def test_collecting_twice_creates_nothing_new_and_keeps_the_schedule(examinee, finished, t0):
    cards.cards_collect(user=examinee, now=t0)
    card = Card.objects.filter(user=examinee).first()
    cards.card_review(card=card, rating=3, now=t0 + timedelta(hours=1))
    due = Card.objects.get(pk=card.pk).due_at
    assert cards.cards_collect(user=examinee, now=t0 + timedelta(days=1)) == 0
    assert Card.objects.filter(user=examinee).count() == 4
    assert Card.objects.get(pk=card.pk).due_at == due


def test_open_block_items_are_not_carded_until_closed(examinee, exam, practice_open, t0):
    import random

    from exams import services

    attempt = services.attempt_start(user=examinee, exam=exam, now=t0, rng=random.Random(1))
    services.tutorial_end(attempt=attempt, now=t0)
    services.block_start(attempt=attempt, now=t0)
    services.answer_save(attempt=attempt, position=1, seq=1, now=t0, is_marked=True)
    assert cards.cards_collect(user=examinee, now=t0) == 0


def test_a_student_adds_an_item_from_their_closed_block(examinee, other_examinee, finished, t0):
    question = finished.responses.get(block__number=1, position=4).question
    card = cards.card_add(user=examinee, question=question, now=t0)
    assert card.reason == Card.Reason.ADDED
    with pytest.raises(cards.CardError):
        cards.card_add(user=other_examinee, question=question, now=t0)


def test_schedule_matches_the_fsrs_package_for_a_sequence_of_ratings(examinee, finished, t0):
    cards.cards_collect(user=examinee, now=t0)
    card = Card.objects.get(user=examinee, question_id=_missed_question_id(finished))
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    expected = fsrs.Card(card_id=card.pk, due=t0)
    now = t0
    for rating in (3, 1, 3, 3, 4, 2, 3):
        now = max(now, expected.due) + timedelta(minutes=7)
        expected, _ = scheduler.review_card(expected, fsrs.Rating(rating), now)
        stored = cards.card_review(card=card, rating=rating, now=now)
        stored.refresh_from_db()
        assert stored.state == int(expected.state)
        assert stored.step == expected.step
        assert stored.stability == pytest.approx(expected.stability, rel=1e-12)
        assert stored.difficulty == pytest.approx(expected.difficulty, rel=1e-12)
        assert stored.due_at == expected.due
        assert stored.last_reviewed_at == expected.last_review
    assert stored.review_count == 7
    assert stored.due_at > now + timedelta(days=1)
    assert list(CardReview.objects.filter(card=card).values_list("rating", flat=True)) == [
        3,
        1,
        3,
        3,
        4,
        2,
        3,
    ]


def test_an_unknown_rating_is_refused_and_writes_nothing(examinee, finished, t0):
    cards.cards_collect(user=examinee, now=t0)
    card = Card.objects.filter(user=examinee).first()
    with pytest.raises(cards.CardError):
        cards.card_review(card=card, rating=5, now=t0)
    assert not CardReview.objects.exists()


def test_a_card_in_an_open_block_elsewhere_leaves_the_due_queue(
    examinee, finished, open_block_elsewhere, t0
):
    now = t0 + timedelta(hours=2)
    cards.cards_collect(user=examinee, now=now)
    missed = _missed_question_id(finished)
    assert missed in set(
        cards.due_cards(user=examinee, now=now).values_list("question_id", flat=True)
    )
    practice = open_block_elsewhere(now)
    assert Response.objects.filter(attempt=practice, question_id=missed).exists()
    later = now + timedelta(minutes=1)
    due = set(cards.due_cards(user=examinee, now=later).values_list("question_id", flat=True))
    assert missed not in due and len(due) == 3
    card = Card.objects.get(user=examinee, question_id=missed)
    from django.http import Http404

    with pytest.raises(Http404):
        cards.owned_visible_card(user=examinee, card_uuid=card.uuid, now=later)


def test_a_card_of_an_unfinished_assigned_exam_stays_hidden(
    examinee, instructor, finished, bank, short_blueprint, t0
):
    from exams.models import Assignment, Cohort, Exam

    now = t0 + timedelta(hours=2)
    cards.cards_collect(user=examinee, now=now)
    assigned = Exam.objects.create(title="Assigned", owner=instructor, blueprint=short_blueprint)
    assigned.banks.add(bank)
    cohort = Cohort.objects.create(owner=instructor, name="C")
    cohort.members.add(examinee)
    Assignment.objects.create(
        exam=assigned, cohort=cohort, opens_at=now, closes_at=now + timedelta(days=3)
    )
    assert not cards.due_cards(user=examinee, now=now + timedelta(minutes=1)).exists()
    assert cards.due_cards(user=examinee, now=now + timedelta(days=4)).count() == 4
