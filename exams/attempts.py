"""Who may sit an exam, and starting a sitting: assignments, attempts left, attempt start."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from exams import access, clock, drawing
from exams.errors import NotAllowed
from exams.models import Assignment, Attempt, AttemptBlock, Exam, Response
from questions.models import Question


def attempt_create(
    *,
    user,
    exam: Exam | None,
    assignment: Assignment | None,
    kind: str,
    title: str,
    mode: str,
    blocks: list[list[Question]],
    block_seconds: int | None,
    break_seconds: int,
    tutorial_seconds: int,
    now: datetime,
    time_multiplier: Decimal = Decimal(1),
    extra_break_minutes: int = 0,
) -> Attempt:
    """The attempt, its blocks and its response rows, with `blocks` already drawn; the caller
    holds the transaction. Accommodations stretch block time and add break time."""
    multiplier = Decimal(time_multiplier)
    timed = block_seconds is not None
    if timed:
        block_seconds = int(block_seconds * multiplier)
        break_seconds += int(extra_break_minutes) * 60
    else:
        break_seconds = 0
        tutorial_seconds = 0
    day_seconds = len(blocks) * block_seconds + break_seconds + tutorial_seconds if timed else None
    attempt = Attempt.objects.create(
        user=user,
        exam=exam,
        assignment=assignment,
        kind=kind,
        title=title,
        mode=mode,
        state=Attempt.State.TUTORIAL if tutorial_seconds else Attempt.State.BETWEEN_BLOCKS,
        block_count=len(blocks),
        block_seconds=block_seconds,
        break_seconds=break_seconds,
        tutorial_seconds=tutorial_seconds,
        time_multiplier=multiplier,
        started_at=now,
        tutorial_ends_at=now + timedelta(seconds=tutorial_seconds) if tutorial_seconds else None,
        day_deadline_at=now + timedelta(seconds=day_seconds) if day_seconds else None,
        break_started_at=None if tutorial_seconds else now,
        last_activity_at=now,
    )
    block_rows = AttemptBlock.objects.bulk_create(
        [AttemptBlock(attempt=attempt, number=i + 1) for i in range(len(blocks))]
    )
    Response.objects.bulk_create(
        [
            Response(
                attempt=attempt,
                block=block_row,
                position=pos + 1,
                question_id=question.pk,
                version_id=question.current_version_id,
            )
            for block_row, questions in zip(block_rows, blocks, strict=True)
            for pos, question in enumerate(questions)
        ]
    )
    return attempt


def attempt_start(*, user, exam: Exam, now: datetime, rng: random.Random | None = None) -> Attempt:
    """Start a sitting of `exam`: items are drawn once, here, and never change afterwards."""
    with transaction.atomic():
        # Serialise starts per user so a double click cannot use two attempts.
        get_user_model().objects.select_for_update().get(pk=user.pk)
        # One open attempt per exam: a second Start resumes the open one. Two open at once
        # would let the examinee end one, read its review (the keys), and answer the other.
        # The attempt_one_open_per_exam constraint holds this in the database as well.
        open_attempt = (
            Attempt.objects.select_for_update()
            .filter(user=user, exam=exam)
            .exclude(state=Attempt.State.FINISHED)
            .first()
        )
        if open_attempt is not None:
            clock.expire_locked(attempt=open_attempt, now=now)
            if open_attempt.state != Attempt.State.FINISHED:
                return open_attempt
        if exam.is_archived:
            raise NotAllowed("This exam has been archived.")
        # Assignments are read with the examinee's override (a later close, more attempts,
        # more time); an archived exam or cohort opens nothing.
        assignment = None
        override = None
        if not exam.is_public:
            effective = access.best_open(user=user, exam=exam, now=now)
            if effective is None:
                raise NotAllowed("This exam is not open to you now.")
            if access.attempts_left(user=user, exam=exam, now=now) == 0:
                raise NotAllowed("You have used all your attempts at this exam.")
            assignment, override = effective.assignment, effective.override
        # Accommodations come only from the membership of the cohort that assigns this exam:
        # another instructor's cohort can neither stretch nor reset them, and a public exam
        # has none.
        accommodation = {}
        if assignment is not None:
            accommodation = (
                user.membership_set.filter(cohort_id=assignment.cohort_id)
                .values("time_multiplier", "extra_break_minutes")
                .first()
            ) or {}
        extra_block_seconds = 0
        if override is not None:
            extra_block_seconds = override.extra_block_minutes * 60
            accommodation["extra_break_minutes"] = (
                accommodation.get("extra_break_minutes", 0) + override.extra_break_minutes
            )
        blueprint = exam.blueprint
        blocks = drawing.exam_blocks(exam=exam, rng=rng or random.Random())
        timed = exam.mode == Exam.Mode.TIMED
        attempt = attempt_create(
            user=user,
            exam=exam,
            assignment=assignment,
            kind=Attempt.Kind.EXAM,
            title=exam.title,
            mode=exam.mode,
            blocks=blocks,
            block_seconds=blueprint.block_minutes * 60 + extra_block_seconds if timed else None,
            break_seconds=blueprint.break_minutes * 60,
            tutorial_seconds=blueprint.tutorial_minutes * 60,
            now=now,
            **accommodation,
        )
        if override is not None:
            attempt.override_summary = override.summary[:300]
            attempt.save(update_fields=["override_summary"])
        return attempt
