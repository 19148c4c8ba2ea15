"""The study plan: from today to test day, new questions per day and self-assessments.

`build_schedule` is pure (dates in, days out). The services around it read the student's unused
questions and measured weakness, store the days, and re-plan when a day was missed or the test
date moved.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import icalendar
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.selectors import wilson_interval
from exams import services as exam_services
from exams.models import AttemptBlock, Response
from questions import outline
from questions.models import Tag
from study.models import PlanDay, StudyPlan

# A 40-item block takes about an hour and reviewing it about another.
QUESTIONS_PER_HOUR = 20
SHORT_ASSESSMENT_ITEMS = 120
FULL_ASSESSMENT_ITEMS = 320  # 8 blocks of 40, as on test day
ASSESSMENT_EVERY_DAYS = 7
# Areas whose band lies wholly below the student's overall score get this much more weight.
WEAK_FACTOR = 2.0
STRONG_FACTOR = 0.5


class PlanError(Exception):
    pass


@dataclass(frozen=True)
class AreaLoad:
    slug: str
    unused: int
    outline_weight: float
    # Measured weakness: how much more of this area to study (1 = as the outline says).
    factor: float = 1.0


@dataclass
class DayPlan:
    day: date
    target: int = 0
    areas: dict[str, int] = field(default_factory=dict)
    assessment: str = PlanDay.Assessment.NONE
    assessment_items: int = 0


def _largest_remainder(weights: Sequence[float], total: int) -> list[int]:
    whole = sum(weights)
    if whole <= 0 or total <= 0:
        return [0] * len(weights)
    exact = [w * total / whole for w in weights]
    out = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (out[i] - exact[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _stream(areas: Sequence[AreaLoad], total: int) -> list[str]:
    """`total` area slugs in study order: smooth weighted round robin, so a heavier area (by
    outline and by weakness) comes up more often, and so earlier, until it runs out."""
    left = {a.slug: a.unused for a in areas}
    weight = {a.slug: max(a.outline_weight, 0.1) * a.factor for a in areas}
    current = dict.fromkeys(left, 0.0)
    out: list[str] = []
    while len(out) < total:
        live = [s for s in left if left[s] > 0]
        if not live:
            break
        whole = sum(weight[s] for s in live)
        for s in live:
            current[s] += weight[s]
        pick = max(live, key=lambda s: (current[s], weight[s], s))
        current[pick] -= whole
        left[pick] -= 1
        out.append(pick)
    return out


def build_schedule(
    *,
    start: date,
    test_date: date,
    hours_per_day: float,
    areas: Sequence[AreaLoad],
    every_days: int = ASSESSMENT_EVERY_DAYS,
) -> list[DayPlan]:
    """The days from `start` to the eve of `test_date`, with their new-question targets.

    The eve of the test is a rest day. Self-assessments fall every `every_days` days counted
    back from the test: the nearest is full-length, the others 120 items. The unused questions
    (or as many as the hours allow) are spread over the days in proportion to each day's free
    hours, in the order of `_stream`.
    """
    days = [DayPlan(start + timedelta(days=i)) for i in range((test_date - start).days)]
    if not days:
        return []
    capacity = round(float(hours_per_day) * QUESTIONS_PER_HOUR)
    free: list[int] = []
    for d in days:
        before_test = (test_date - d.day).days
        if before_test == 1 and len(days) > 1:
            free.append(0)  # rest before test day
            continue
        if before_test % every_days == 0 and d.day > start:
            if before_test == every_days:
                d.assessment, d.assessment_items = PlanDay.Assessment.FULL, FULL_ASSESSMENT_ITEMS
                free.append(0)
                continue
            d.assessment, d.assessment_items = PlanDay.Assessment.SHORT, SHORT_ASSESSMENT_ITEMS
            free.append(max(0, capacity - SHORT_ASSESSMENT_ITEMS))
            continue
        free.append(capacity)
    total = min(sum(a.unused for a in areas), sum(free))
    targets = _largest_remainder(free, total)
    stream = iter(_stream(areas, total))
    for d, target in zip(days, targets, strict=True):
        d.target = target
        d.areas = dict(Counter(next(stream) for _ in range(target)))
    return days


# --- reads -------------------------------------------------------------------------------------


def area_loads(*, user, now: datetime) -> list[AreaLoad]:
    """Unused questions by discipline, with the outline's weight and the student's weakness."""
    unused = exam_services.practice_pool(
        user=user, pool="unused", disciplines=[], systems=[], now=now
    )
    counts = dict(
        Tag.objects.filter(kind=Tag.Kind.DISCIPLINE, questions__in=unused.values("id"))
        .values_list("slug")
        .annotate(n=Count("questions", distinct=True))
    )
    closed = Response.objects.filter(attempt__user=user, block__state=AttemptBlock.State.CLOSED)
    rows = (
        closed.filter(question__tags__kind=Tag.Kind.DISCIPLINE)
        .values_list("question__tags__slug")
        .annotate(
            total=Count("id"),
            correct=Count("id", filter=Q(choice=F("version__key_index"))),
        )
    )
    measured = {slug: (correct, total) for slug, total, correct in rows}
    all_correct = sum(c for c, _ in measured.values())
    all_total = sum(t for _, t in measured.values())
    overall = all_correct / all_total if all_total else None
    loads = []
    for entry in outline.DISCIPLINES:
        factor = 1.0
        if overall is not None and entry.slug in measured:
            low, high = wilson_interval(*measured[entry.slug])
            if high < overall:
                factor = WEAK_FACTOR
            elif low > overall:
                factor = STRONG_FACTOR
        loads.append(
            AreaLoad(
                slug=entry.slug,
                unused=counts.get(entry.slug, 0),
                outline_weight=entry.midpoint or 1.0,
                factor=factor,
            )
        )
    return loads


def answered_by_day(*, user, since: date, until: date) -> dict[date, int]:
    tz = timezone.get_current_timezone()
    rows = (
        Response.objects.filter(attempt__user=user, answered_at__isnull=False)
        .annotate(day=TruncDate("answered_at", tzinfo=tz))
        .filter(day__gte=since, day__lte=until)
        .values_list("day")
        .annotate(n=Count("id"))
    )
    return dict(rows)


# --- writes -----------------------------------------------------------------------------------


def _today(now: datetime) -> date:
    return timezone.localdate(now)


def _write_days(*, plan: StudyPlan, now: datetime) -> None:
    today = _today(now)
    plan.days.filter(day__gte=today).delete()
    plan.days.filter(day__gte=plan.test_date).delete()
    schedule = build_schedule(
        start=today,
        test_date=plan.test_date,
        hours_per_day=float(plan.hours_per_day),
        areas=area_loads(user=plan.user, now=now),
    )
    PlanDay.objects.bulk_create(
        PlanDay(
            plan=plan,
            day=d.day,
            target_questions=d.target,
            areas=d.areas,
            assessment=d.assessment,
            assessment_items=d.assessment_items,
        )
        for d in schedule
    )
    plan.built_on = today
    plan.updated_at = now
    plan.save(update_fields=["built_on", "updated_at"])


def plan_set(*, user, test_date: date, hours_per_day: Decimal, now: datetime) -> StudyPlan:
    """Create or change the student's plan and schedule the days from today."""
    today = _today(now)
    if test_date <= today:
        raise PlanError("The test date must be after today.")
    if not Decimal("0") < Decimal(hours_per_day) <= Decimal("16"):
        raise PlanError("Hours per day must be more than 0 and at most 16.")
    with transaction.atomic():
        plan = StudyPlan.objects.select_for_update().filter(user=user).first()
        if plan is None:
            plan = StudyPlan.objects.create(
                user=user,
                test_date=test_date,
                hours_per_day=hours_per_day,
                start_date=today,
                built_on=today,
                created_at=now,
                updated_at=now,
            )
        else:
            plan.test_date = test_date
            plan.hours_per_day = hours_per_day
            plan.save(update_fields=["test_date", "hours_per_day"])
        _write_days(plan=plan, now=now)
    return plan


def missed_days(*, plan: StudyPlan, now: datetime) -> list[date]:
    """Days since the plan was last built, before today, whose target was not met."""
    today = _today(now)
    days = list(plan.days.filter(day__gte=plan.built_on, day__lt=today, target_questions__gt=0))
    if not days:
        return []
    done = answered_by_day(user=plan.user, since=days[0].day, until=days[-1].day)
    return [d.day for d in days if done.get(d.day, 0) < d.target_questions]


def plan_replan(*, plan: StudyPlan, now: datetime) -> StudyPlan:
    with transaction.atomic():
        plan = StudyPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.test_date <= _today(now):
            return plan
        _write_days(plan=plan, now=now)
    return plan


def plans_replan_missed(*, now: datetime) -> int:
    """The daily sweep: re-plan every plan with a missed day. Returns how many were re-planned."""
    count = 0
    for plan in StudyPlan.objects.filter(test_date__gt=_today(now)).select_related("user"):
        if missed_days(plan=plan, now=now):
            plan_replan(plan=plan, now=now)
            count += 1
    return count


# --- status and calendar ----------------------------------------------------------------------


@dataclass
class PlanStatus:
    plan: StudyPlan
    today: PlanDay | None
    done_today: int
    # Counted from the day the schedule was last built: a re-plan moves what was missed into
    # the days ahead, so the days before it no longer count against the student.
    expected: int  # the targets of the days before today
    done: int  # questions answered, today included
    next_assessment: PlanDay | None
    days: list[PlanDay]

    @property
    def balance(self) -> int:
        """Positive: ahead by that many questions; negative: behind."""
        return self.done - self.expected - (self.today.target_questions if self.today else 0)

    @property
    def behind(self) -> int:
        return max(0, self.expected - self.done)

    @property
    def today_left(self) -> int:
        if self.today is None:
            return 0
        return max(0, self.expected + self.today.target_questions - self.done)


def plan_status(*, plan: StudyPlan, now: datetime) -> PlanStatus:
    today = _today(now)
    days = list(plan.days.all())
    done = answered_by_day(user=plan.user, since=plan.built_on, until=today)
    return PlanStatus(
        plan=plan,
        today=next((d for d in days if d.day == today), None),
        done_today=done.get(today, 0),
        expected=sum(d.target_questions for d in days if plan.built_on <= d.day < today),
        done=sum(done.values()),
        next_assessment=next((d for d in days if d.day >= today and d.assessment), None),
        days=days,
    )


def plan_ics(*, plan: StudyPlan, now: datetime) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Mockboard//Study plan//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Mockboard study plan")
    for d in plan.days.filter(day__gte=_today(now)):
        if not d.target_questions and not d.assessment:
            continue
        event = icalendar.Event()
        event.add("uid", f"mockboard-plan-{plan.pk}-{d.day.isoformat()}")
        event.add("dtstamp", now)
        event.add("dtstart", d.day)
        event.add("dtend", d.day + timedelta(days=1))
        if d.assessment:
            summary = f"{d.get_assessment_display()} ({d.assessment_items} items)"
            if d.target_questions:
                summary += f" + {d.target_questions} new questions"
        else:
            summary = f"{d.target_questions} new questions"
        event.add("summary", summary)
        event.add(
            "description",
            ", ".join(f"{slug}: {n}" for slug, n in sorted(d.areas.items())) or "Self-assessment",
        )
        cal.add_component(event)
    test = icalendar.Event()
    test.add("uid", f"mockboard-plan-{plan.pk}-test-day")
    test.add("dtstamp", now)
    test.add("dtstart", plan.test_date)
    test.add("dtend", plan.test_date + timedelta(days=1))
    test.add("summary", "Test day")
    cal.add_component(test)
    return cal.to_ical()
