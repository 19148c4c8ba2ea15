"""The one rule for key exposure: may this examinee see this question's key now?

A question's key, explanation and peer statistics may reach an examinee only when
1. no unclosed block of any of their attempts holds that question (a block in progress, or one
   still to come in an attempt they have started), and
2. the question belongs to no exam assigned to them that they have not finished (its banks, or
   its fixed form), while the assignment has not closed.

The rule is about the question, not the version: a response points at both, and a new version
of the same question must not reach the examinee through another path while the old one sits in
an open block. Every path that shows a key (practice pools, tutor feedback, block review, the
exam review) asks this module; nothing else decides.

`withheld_q` answers in SQL (a `Q` on Question, used to filter pools without loading ids);
`withheld_ids` answers for a handful of questions (a review page's block) in one query.

Tutor mode is the one place a key is shown inside an open block: there the examinee's own
block (`viewing_block`) does not count against its own items, nor does the exam it belongs to
(a tutor-mode exam reveals its items by design); any *other* open block or assigned exam still
does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q

from exams.models import Assignment, Attempt, AttemptBlock, Exam, FixedItem, Response
from questions.models import Question

HIDDEN_NOTE = (
    "Hidden while this question is in an open block, or in an exam assigned to you that you "
    "have not finished: its answer, explanation and peer statistics appear once that is over."
)


def _open_block_question_ids(*, user, viewing_block: AttemptBlock | None):
    rows = Response.objects.filter(attempt__user=user).exclude(
        block__state=AttemptBlock.State.CLOSED
    )
    if viewing_block is not None:
        rows = rows.exclude(block_id=viewing_block.pk)
    return rows.values("question_id")


def _unfinished_assigned_exam_ids(*, user, now: datetime, viewing_block: AttemptBlock | None):
    exams = Exam.objects.filter(
        id__in=Assignment.objects.filter(cohort__members=user, closes_at__gt=now).values("exam_id")
    ).exclude(
        id__in=Attempt.objects.filter(
            user=user, state=Attempt.State.FINISHED, exam__isnull=False
        ).values("exam_id")
    )
    if viewing_block is not None:
        # The exam being sat or reviewed: its own delivered items are what is on screen, and
        # the one-open-attempt rule keeps them out of any other open sitting of it.
        exams = exams.exclude(
            id__in=Attempt.objects.filter(pk=viewing_block.attempt_id, exam__isnull=False).values(
                "exam_id"
            )
        )
    return exams.values("id")


def withheld_q(*, user, now: datetime, viewing_block: AttemptBlock | None = None) -> Q:
    """The questions whose key `user` may not see now, as a filter on Question."""
    exam_ids = _unfinished_assigned_exam_ids(user=user, now=now, viewing_block=viewing_block)
    return (
        Q(id__in=_open_block_question_ids(user=user, viewing_block=viewing_block))
        | Q(bank__exams__id__in=exam_ids)
        | Q(id__in=FixedItem.objects.filter(exam_id__in=exam_ids).values("question_id"))
    )


def withheld_ids(
    *,
    user,
    question_ids: Iterable[int],
    now: datetime,
    viewing_block: AttemptBlock | None = None,
) -> set[int]:
    """Which of `question_ids` are withheld from `user` now (one query)."""
    ids = set(question_ids)
    if not ids:
        return set()
    return set(
        Question.objects.filter(id__in=ids)
        .filter(withheld_q(user=user, now=now, viewing_block=viewing_block))
        .values_list("id", flat=True)
        .distinct()
    )


def exposable(questions, *, user, now: datetime):
    """`questions` (a Question queryset) without those withheld from `user`: practice pools."""
    return questions.exclude(
        id__in=Question.objects.filter(withheld_q(user=user, now=now)).values("id")
    )


def may_see_key(
    *, user, question_id: int, now: datetime, viewing_block: AttemptBlock | None = None
) -> bool:
    return not withheld_ids(
        user=user, question_ids=[question_id], now=now, viewing_block=viewing_block
    )
