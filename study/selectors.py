"""Cohort aggregates for instructors: counts of plans and reviews, never a card or a note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from exams.models import Cohort
from study.models import Card, CardReview, StudyPlan

# Below this many members an aggregate would describe individuals.
MIN_COHORT_FOR_AGGREGATES = 5


@dataclass
class CohortStudy:
    members: int
    is_shown: bool
    with_plan: int = 0
    with_cards: int = 0
    reviews_7d: int = 0
    again_percent_7d: float | None = None


def cohort_summary(*, cohort: Cohort, now: datetime) -> CohortStudy:
    members = cohort.members.values("id")
    count = cohort.members.count()
    if count < MIN_COHORT_FOR_AGGREGATES:
        return CohortStudy(members=count, is_shown=False)
    week = CardReview.objects.filter(
        card__user__in=members, reviewed_at__gte=now - timedelta(days=7)
    ).aggregate(n=Count("id"), again=Count("id", filter=Q(rating=CardReview.Rating.AGAIN)))
    return CohortStudy(
        members=count,
        is_shown=True,
        with_plan=StudyPlan.objects.filter(user__in=members).count(),
        with_cards=Card.objects.filter(user__in=members).values("user").distinct().count(),
        reviews_7d=week["n"],
        again_percent_7d=round(100 * week["again"] / week["n"], 1) if week["n"] else None,
    )
