"""Review cards: which items become cards, the due queue, and FSRS scheduling.

Scheduling is the `fsrs` package's (the algorithm Anki ships), not an interval table of ours.
Every read of a card's question goes through exams/exposure.py: a card whose question sits in
an open block, or in an assigned exam the student has not finished, is left out of the queue,
the review screen and the export until the rule lets it through.
"""

from __future__ import annotations

from datetime import datetime

import fsrs
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404

from exams import exposure
from exams.models import AttemptBlock, Response
from questions.models import Question
from study.models import Card, CardReview

# Fuzzing spreads due dates of cards learnt together; it is off so that a schedule can be
# checked against the package and reproduced from the review log.
SCHEDULER = fsrs.Scheduler(enable_fuzzing=False)


class CardError(Exception):
    pass


def _reason(response: Response) -> str | None:
    key = response.version.key_index
    if response.choice is None or response.choice != key:
        return Card.Reason.MISSED
    if response.change_count > 0:
        return Card.Reason.CHANGED
    if response.is_marked:
        return Card.Reason.MARKED
    return None


def uncarded_responses(*, user) -> QuerySet[Response]:
    """The closed-block responses that `cards_collect` would turn into cards: missed, changed
    or marked (each has a `_reason`), on a question the student has no card for yet."""
    return (
        Response.objects.filter(attempt__user=user, block__state=AttemptBlock.State.CLOSED)
        .filter(
            Q(choice__isnull=True)
            | ~Q(choice=F("version__key_index"))
            | Q(change_count__gt=0)
            | Q(is_marked=True)
        )
        .exclude(question_id__in=Card.objects.filter(user=user).values("question_id"))
    )


def cards_collect(*, user, now: datetime) -> int:
    """Turn the student's closed-block misses, changed answers and marked items into cards.

    Idempotent: a question already carded is left alone (its schedule is the student's).
    Returns how many cards were created.
    """
    responses = (
        uncarded_responses(user=user)
        .select_related("version")
        .order_by("block__closed_at", "position")
    )
    new: dict[int, Card] = {}
    for response in responses:
        reason = _reason(response)
        if reason is None or response.question_id in new:
            continue
        new[response.question_id] = Card(
            user=user, question_id=response.question_id, reason=reason, due_at=now, created_at=now
        )
    with transaction.atomic():
        before = Card.objects.filter(user=user).count()
        # A concurrent collect may have carded the same question: the unique constraint keeps
        # one card, and ignore_conflicts keeps this call from failing on it.
        Card.objects.bulk_create(new.values(), ignore_conflicts=True)
        return Card.objects.filter(user=user).count() - before


def card_add(*, user, question: Question, now: datetime) -> Card:
    """The student adds an item they have reviewed (a closed block of theirs holds it)."""
    if not Response.objects.filter(
        attempt__user=user, question=question, block__state=AttemptBlock.State.CLOSED
    ).exists():
        raise CardError("Only an item from one of your closed blocks can become a card.")
    with transaction.atomic():
        card, _ = Card.objects.get_or_create(
            user=user,
            question=question,
            defaults={"reason": Card.Reason.ADDED, "due_at": now, "created_at": now},
        )
    return card


def visible_cards(*, user, now: datetime) -> QuerySet[Card]:
    """The student's cards whose key they may see now."""
    withheld = Question.objects.filter(exposure.withheld_q(user=user, now=now)).values("id")
    return Card.objects.filter(user=user).exclude(question_id__in=withheld)


def due_cards(*, user, now: datetime) -> QuerySet[Card]:
    return visible_cards(user=user, now=now).filter(due_at__lte=now).order_by("due_at", "id")


def owned_visible_card(*, user, card_uuid, now: datetime) -> Card:
    """The card, if it is the user's and its key may be shown now; a 404 otherwise."""
    card = (
        Card.objects.filter(user=user, uuid=card_uuid)
        .select_related("question__current_version", "question__item_set")
        .first()
    )
    if card is None or not exposure.may_see_key(user=user, question_id=card.question_id, now=now):
        raise Http404("No such card.")
    return card


def to_fsrs(card: Card) -> fsrs.Card:
    return fsrs.Card(
        card_id=card.pk,
        state=fsrs.State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due_at,
        last_review=card.last_reviewed_at,
    )


def card_review(*, card: Card, rating: int, now: datetime, choice: int | None = None) -> Card:
    """Record a rating (Again / Hard / Good / Easy) and schedule the card's next review."""
    if rating not in CardReview.Rating.values:
        raise CardError("Rating must be Again, Hard, Good or Easy.")
    with transaction.atomic():
        card = (
            Card.objects.select_for_update(of=("self",))
            .select_related("question__current_version")
            .get(pk=card.pk)
        )
        scheduled, _ = SCHEDULER.review_card(to_fsrs(card), fsrs.Rating(rating), now)
        card.state = int(scheduled.state)
        card.step = scheduled.step
        card.stability = scheduled.stability
        card.difficulty = scheduled.difficulty
        card.due_at = scheduled.due
        card.last_reviewed_at = scheduled.last_review
        card.review_count += 1
        card.save(
            update_fields=[
                "state",
                "step",
                "stability",
                "difficulty",
                "due_at",
                "last_reviewed_at",
                "review_count",
            ]
        )
        version = card.question.current_version
        CardReview.objects.create(
            card=card,
            rating=rating,
            choice=choice,
            is_correct=choice is not None and version is not None and choice == version.key_index,
            reviewed_at=now,
        )
    return card
