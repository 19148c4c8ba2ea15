"""Reads of the study loop: the student's next best step, and cohort aggregates for
instructors (counts of plans and reviews, never a card or a note)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from exams import exposure
from exams.models import Cohort, Response
from questions.models import Question
from study import cards
from study.models import Card, CardReview, PlanDay, StudyPlan

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


# --- the next best step -----------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """What the student should do now, first match wins: due reviews, what is left of today's
    plan target, the next self-assessment on the plan; else keep the plan, or make one."""

    class Kind:
        REVIEW = "review"
        PLAN_TODAY = "plan_today"
        ASSESSMENT = "assessment"
        ON_TRACK = "on_track"
        MAKE_PLAN = "make_plan"

    kind: str
    due_count: int = 0
    today_left: int = 0
    today_target: int = 0
    assessment_day: date | None = None
    assessment_kind: str = ""
    assessment_items: int = 0
    test_date: date | None = None
    today: date | None = None

    @property
    def assessment_label(self) -> str:
        return PlanDay.Assessment(self.assessment_kind).label if self.assessment_kind else ""

    @property
    def is_assessment_today(self) -> bool:
        return self.assessment_day is not None and self.assessment_day == self.today


def _scalar(queryset: QuerySet, expression) -> Subquery:
    """`expression` (an aggregate written as a plain Func, so no GROUP BY) over `queryset`,
    as one scalar subquery."""
    return Subquery(queryset.order_by().annotate(v=expression).values("v")[:1])


def _count(queryset: QuerySet) -> Subquery:
    return _scalar(queryset, Func(Value(1), function="COUNT", output_field=IntegerField()))


def next_step(*, user, now: datetime) -> NextStep:
    """The home page's "next best step", read in one query (the home page's budget is tight).

    The due count is what the queue will hold once `cards.cards_collect` has run: due cards
    plus the misses not carded yet (a new card is due at once), keys withheld left out. The
    plan figures are `plan.plan_status`'s (tests hold the two together).
    """
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    withheld = Question.objects.filter(exposure.withheld_q(user=user, now=now)).values("id")
    due_questions = Question.objects.filter(
        Q(id__in=Card.objects.filter(user=user, due_at__lte=now).values("question_id"))
        | Q(id__in=cards.uncarded_responses(user=user).values("question_id"))
    ).exclude(id__in=withheld)
    plan_id = OuterRef("study_plan__id")
    built_on = OuterRef("study_plan__built_on")
    days = PlanDay.objects.filter(plan_id=plan_id)
    assessments = days.filter(day__gte=today).exclude(assessment="").order_by("day")
    done = (
        Response.objects.filter(attempt__user=user, answered_at__isnull=False)
        .annotate(local_day=TruncDate("answered_at", tzinfo=tz))
        .filter(local_day__gte=built_on, local_day__lte=today)
    )
    target_sum = Func(F("target_questions"), function="SUM", output_field=IntegerField())
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values(test_date=F("study_plan__test_date"))
        .annotate(
            due=Coalesce(_count(due_questions), 0),
            today_target=_scalar(days.filter(day=today), target_sum),
            expected=Coalesce(
                _scalar(days.filter(day__gte=built_on, day__lt=today), target_sum), 0
            ),
            done=Coalesce(_count(done), 0),
            assessment_day=Subquery(assessments.values("day")[:1]),
            assessment_kind=Subquery(assessments.values("assessment")[:1]),
            assessment_items=Subquery(assessments.values("assessment_items")[:1]),
        )
        .get()
    )
    if row["due"]:
        return NextStep(kind=NextStep.Kind.REVIEW, due_count=row["due"], today=today)
    if row["test_date"] is None or row["test_date"] <= today:
        return NextStep(kind=NextStep.Kind.MAKE_PLAN, test_date=row["test_date"], today=today)
    # As PlanStatus.today_left: today's target plus what is still owed since the last build.
    today_left = 0
    if row["today_target"] is not None:
        today_left = max(0, row["expected"] + row["today_target"] - row["done"])
    common = {"test_date": row["test_date"], "today": today}
    if today_left:
        return NextStep(
            kind=NextStep.Kind.PLAN_TODAY,
            today_left=today_left,
            today_target=row["today_target"],
            **common,
        )
    if row["assessment_day"] is not None:
        return NextStep(
            kind=NextStep.Kind.ASSESSMENT,
            assessment_day=row["assessment_day"],
            assessment_kind=row["assessment_kind"],
            assessment_items=row["assessment_items"],
            **common,
        )
    return NextStep(kind=NextStep.Kind.ON_TRACK, **common)
