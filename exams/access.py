"""Who may start an assigned exam now, and how often: assignments with per-examinee overrides.

An override (exams.models.AssignmentOverride) can close the window later for one examinee and
grant extra attempts; both are read here, so the examinee's home page and attempt start agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from exams.models import Assignment, AssignmentOverride, Attempt, Exam


@dataclass(frozen=True)
class Effective:
    """An assignment as one examinee sees it, with their override applied."""

    assignment: Assignment
    override: AssignmentOverride | None
    closes_at: datetime
    max_attempts: int

    @property
    def opens_at(self) -> datetime:
        return self.assignment.opens_at

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at


def effective_assignments(*, user, exam: Exam) -> list[Effective]:
    """Every assignment of `exam` to a live cohort `user` belongs to, with their override."""
    if exam.archived_at is not None:
        return []
    assignments = list(
        Assignment.objects.filter(
            exam=exam, cohort__members=user, cohort__archived_at__isnull=True
        ).order_by("opens_at", "pk")
    )
    overrides = {
        o.assignment_id: o
        for o in AssignmentOverride.objects.filter(
            user=user, assignment__in=[a.pk for a in assignments]
        )
    }
    out = []
    for a in assignments:
        o = overrides.get(a.pk)
        closes_at = a.closes_at
        if o is not None and o.closes_at is not None and o.closes_at > closes_at:
            closes_at = o.closes_at
        out.append(
            Effective(
                assignment=a,
                override=o,
                closes_at=closes_at,
                max_attempts=a.max_attempts + (o.extra_attempts if o else 0),
            )
        )
    return out


def open_assignments(*, user, exam: Exam, now: datetime) -> list[Effective]:
    return [e for e in effective_assignments(user=user, exam=exam) if e.is_open(now)]


def attempts_left(*, user, exam: Exam, now: datetime) -> int | None:
    """None means unlimited (a public exam)."""
    if exam.is_public and exam.archived_at is None:
        return None
    opened = open_assignments(user=user, exam=exam, now=now)
    if not opened:
        return 0
    allowed = max(e.max_attempts for e in opened)
    used = Attempt.objects.filter(user=user, exam=exam).count()
    return max(allowed - used, 0)


def best_open(*, user, exam: Exam, now: datetime) -> Effective | None:
    """The open assignment an attempt starts under: the one allowing most attempts."""
    opened = open_assignments(user=user, exam=exam, now=now)
    return max(opened, key=lambda e: (e.max_attempts, e.closes_at), default=None)
