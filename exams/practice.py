"""Practice: the pools an examinee practises from (unused, incorrect, marked, omitted, all)
and the one-block attempts drawn from them. Which question may be drawn is exposure.py's rule:
practice shows keys, so it never draws a question whose key is withheld."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import F

from exams import attempts, clock, drawing, exposure
from exams.errors import ExamError
from exams.models import Assignment, Attempt, AttemptBlock, Exam, Response
from questions.models import Bank, Question, Tag

PRACTICE_SECONDS_PER_ITEM = 90
MAX_PRACTICE_ITEMS = 40


def practice_banks(*, user, now: datetime):
    """Banks an examinee may practise from: those of exams open to them that their owner has
    opened for practice. Which of their questions may be drawn is exposure.py's rule."""
    open_exam_ids = set(Exam.objects.filter(is_public=True).values_list("id", flat=True))
    for a in Assignment.objects.filter(cohort__members=user).select_related("exam"):
        if a.is_open(now):
            open_exam_ids.add(a.exam_id)
    return Bank.objects.filter(exams__id__in=open_exam_ids, is_open_for_practice=True).distinct()


POOLS = ("unused", "incorrect", "marked", "omitted", "all")


def _closed_responses(user):
    return Response.objects.filter(attempt__user=user, block__state=AttemptBlock.State.CLOSED)


def practice_pool(
    *, user, pool: str, disciplines: Sequence[str], systems: Sequence[str], now: datetime
):
    if pool not in POOLS:
        raise ExamError(f"Unknown pool {pool!r}.")
    qs = Question.objects.filter(
        bank__in=practice_banks(user=user, now=now),
        is_retired=False,
        current_version__isnull=False,
    )
    if disciplines:
        qs = qs.filter(tags__kind=Tag.Kind.DISCIPLINE, tags__slug__in=disciplines)
    if systems:
        qs = qs.filter(
            id__in=Question.objects.filter(
                tags__kind=Tag.Kind.SYSTEM, tags__slug__in=systems
            ).values("id")
        )
    seen = Response.objects.filter(attempt__user=user).values("question_id")
    closed = _closed_responses(user)
    if pool == "unused":
        qs = qs.exclude(id__in=seen)
    elif pool == "marked":
        qs = qs.filter(
            id__in=Response.objects.filter(attempt__user=user, is_marked=True).values("question_id")
        )
    elif pool == "omitted":
        qs = qs.filter(id__in=closed.filter(choice__isnull=True).values("question_id"))
    elif pool == "incorrect":
        # Incorrect means answered but not with the key of the version that was shown.
        wrong = closed.filter(choice__isnull=False).exclude(choice=F("version__key_index"))
        qs = qs.filter(id__in=wrong.values("question_id"))
    # Practice shows keys (tutor mode) and its review does: never draw a withheld question.
    return exposure.exposable(qs, user=user, now=now).distinct()


def practice_pool_counts(
    *, user, disciplines: Sequence[str], systems: Sequence[str], now: datetime
) -> dict[str, int]:
    return {
        pool: practice_pool(
            user=user, pool=pool, disciplines=disciplines, systems=systems, now=now
        ).count()
        for pool in POOLS
    }


def practice_create(
    *,
    user,
    disciplines: Sequence[str],
    systems: Sequence[str],
    pool: str,
    count: int,
    mode: str,
    now: datetime,
    rng: random.Random | None = None,
) -> Attempt:
    if not 1 <= count <= MAX_PRACTICE_ITEMS:
        raise ExamError(f"A practice block has 1 to {MAX_PRACTICE_ITEMS} items.")
    if mode not in Exam.Mode.values:
        raise ExamError(f"Unknown mode {mode!r}.")
    rng = rng or random.Random()
    with transaction.atomic():
        candidates = drawing.pool_items(
            practice_pool(user=user, pool=pool, disciplines=disciplines, systems=systems, now=now)
        )
        if not candidates:
            raise ExamError("No questions match these choices. Widen the subjects or the pool.")
        units = drawing.draw_items(
            questions=candidates,
            total=min(count, len(candidates)),
            discipline_weights={},
            system_weights={},
            rng=rng,
        )
        items = [q for unit in units for q in unit]
        attempt = attempts.attempt_create(
            user=user,
            exam=None,
            assignment=None,
            kind=Attempt.Kind.PRACTICE,
            title=f"Practice block · {len(items)} items · {Exam.Mode(mode).label}",
            mode=mode,
            blocks=[items],
            block_seconds=PRACTICE_SECONDS_PER_ITEM * len(items)
            if mode == Exam.Mode.TIMED
            else None,
            break_seconds=0,
            tutorial_seconds=0,
            now=now,
        )
        return clock.block_start(attempt=attempt, now=now)
