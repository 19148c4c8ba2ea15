from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import icalendar
import pytest

from exams import services as exam_services
from study import plan as planning
from study.models import PlanDay, StudyPlan

D0 = date(2026, 6, 1)


def areas(**unused):
    return [planning.AreaLoad(slug=s, unused=n, outline_weight=10) for s, n in unused.items()]


def test_unused_questions_are_spread_evenly_over_the_study_days():
    days = planning.build_schedule(
        start=D0, test_date=D0 + timedelta(days=6), hours_per_day=2, areas=areas(a=50, b=50)
    )
    assert [d.day for d in days] == [D0 + timedelta(days=i) for i in range(6)]
    assert days[-1].target == 0  # rest on the eve of the test
    assert [d.target for d in days[:-1]] == [20, 20, 20, 20, 20]
    assert sum(sum(d.areas.values()) for d in days) == 100
    assert all(sum(d.areas.values()) == d.target for d in days)


def test_the_hours_cap_each_day():
    days = planning.build_schedule(
        start=D0, test_date=D0 + timedelta(days=4), hours_per_day=1.5, areas=areas(a=5000)
    )
    assert [d.target for d in days] == [30, 30, 30, 0]


def test_outline_weight_and_weakness_put_an_area_first():
    loads = [
        planning.AreaLoad(slug="medicine", unused=60, outline_weight=60),
        planning.AreaLoad(slug="psychiatry", unused=60, outline_weight=12),
        planning.AreaLoad(slug="surgery", unused=60, outline_weight=12, factor=2.0),
    ]
    days = planning.build_schedule(
        start=D0, test_date=D0 + timedelta(days=5), hours_per_day=2, areas=loads
    )
    first = days[0].areas
    assert first["medicine"] > first["surgery"] > first.get("psychiatry", 0)
    # The weak area is used up before the equally weighted strong one.
    last_surgery = max(i for i, d in enumerate(days) if d.areas.get("surgery"))
    last_psych = max(i for i, d in enumerate(days) if d.areas.get("psychiatry"))
    assert last_surgery <= last_psych


def test_self_assessments_fall_at_intervals_back_from_the_test():
    test = D0 + timedelta(days=30)
    days = planning.build_schedule(start=D0, test_date=test, hours_per_day=8, areas=areas(a=9999))
    sits = {d.day: (d.assessment, d.target) for d in days if d.assessment}
    assert sits == {
        test - timedelta(days=7): (PlanDay.Assessment.FULL, 0),
        test - timedelta(days=14): (PlanDay.Assessment.SHORT, 160 - 120),
        test - timedelta(days=21): (PlanDay.Assessment.SHORT, 40),
        test - timedelta(days=28): (PlanDay.Assessment.SHORT, 40),
    }


def test_no_days_when_the_test_is_today():
    assert planning.build_schedule(start=D0, test_date=D0, hours_per_day=4, areas=areas(a=9)) == []


# --- services on the real database ------------------------------------------------------------


def at(day: date, hour: int = 9) -> datetime:
    from datetime import UTC

    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def plan(examinee, exam, practice_open):
    # 40 unused questions, 2 days of study + a rest day: 20 a day.
    return planning.plan_set(
        user=examinee, test_date=D0 + timedelta(days=3), hours_per_day=Decimal("2"), now=at(D0)
    )


@pytest.mark.django_db
def test_a_plan_counts_down_to_test_day_with_todays_target(examinee, plan):
    targets = list(plan.days.values_list("day", "target_questions"))
    assert targets == [(D0, 20), (D0 + timedelta(days=1), 20), (D0 + timedelta(days=2), 0)]
    status = planning.plan_status(plan=plan, now=at(D0, 10))
    assert status.today.target_questions == 20 and status.today_left == 20
    assert status.balance == -20


@pytest.mark.django_db
def test_a_missed_day_is_re_planned_over_the_days_left(examinee, exam, practice_open):
    plan = planning.plan_set(
        user=examinee, test_date=D0 + timedelta(days=5), hours_per_day=Decimal("4"), now=at(D0)
    )
    assert [d.target_questions for d in plan.days.all()] == [10, 10, 10, 10, 0]
    day2 = at(D0 + timedelta(days=1))
    assert planning.missed_days(plan=plan, now=day2) == [D0]
    assert planning.plans_replan_missed(now=day2) == 1
    plan.refresh_from_db()
    ahead = [d.target_questions for d in plan.days.filter(day__gte=D0 + timedelta(days=1))]
    assert ahead == [14, 13, 13, 0]
    # Re-planned once: the same day does not trigger again.
    assert planning.plans_replan_missed(now=day2 + timedelta(hours=2)) == 0
    status = planning.plan_status(plan=plan, now=day2)
    assert status.expected == 0 and status.today.target_questions == 14


@pytest.mark.django_db
def test_a_day_met_is_not_missed(examinee, exam, practice_open):
    plan = planning.plan_set(
        user=examinee, test_date=D0 + timedelta(days=41), hours_per_day=Decimal("1"), now=at(D0)
    )
    first = plan.days.get(day=D0)
    attempt = exam_services.practice_create(
        user=examinee,
        disciplines=[],
        systems=[],
        pool="unused",
        count=first.target_questions,
        mode="tutor",
        now=at(D0),
        rng=random.Random(1),
    )
    for response in attempt.responses.all():
        exam_services.answer_save(
            attempt=attempt,
            position=response.position,
            seq=response.position,
            now=at(D0, 10),
            choice=0,
        )
    status = planning.plan_status(plan=plan, now=at(D0, 11))
    assert status.done_today == first.target_questions and status.today_left == 0
    assert status.balance == 0
    assert planning.missed_days(plan=plan, now=at(D0 + timedelta(days=1))) == []


@pytest.mark.django_db
def test_moving_the_test_date_earlier_re_plans_into_fewer_days(examinee, plan):
    assert plan.days.count() == 3
    plan = planning.plan_set(
        user=examinee, test_date=D0 + timedelta(days=2), hours_per_day=Decimal("2"), now=at(D0)
    )
    assert list(plan.days.values_list("target_questions", flat=True)) == [40, 0]
    assert not plan.days.filter(day__gte=plan.test_date).exists()


@pytest.mark.django_db
def test_a_test_date_in_the_past_is_refused_and_writes_nothing(examinee, exam, practice_open):
    with pytest.raises(planning.PlanError, match="test date"):
        planning.plan_set(user=examinee, test_date=D0, hours_per_day=Decimal("2"), now=at(D0))
    assert not StudyPlan.objects.exists()


@pytest.mark.django_db
def test_area_loads_count_unused_questions_by_discipline_with_outline_weights(
    examinee, finished, t0
):
    loads = {a.slug: a for a in planning.area_loads(user=examinee, now=t0 + timedelta(hours=1))}
    assert set(loads) == {
        "medicine",
        "surgery",
        "pediatrics",
        "obstetrics-gynecology",
        "psychiatry",
    }
    assert sum(a.unused for a in loads.values()) == 30  # 40 in the bank, 10 seen
    assert loads["medicine"].outline_weight == 60


@pytest.mark.django_db
def test_the_plan_exports_to_a_calendar(examinee, plan):
    data = planning.plan_ics(plan=plan, now=at(D0))
    cal = icalendar.Calendar.from_ical(data)
    events = [(str(e["summary"]), e.decoded("dtstart")) for e in cal.walk("VEVENT")]
    assert events == [
        ("20 new questions", D0),
        ("20 new questions", D0 + timedelta(days=1)),
        ("Test day", D0 + timedelta(days=3)),
    ]
