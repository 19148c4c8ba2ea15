"""The home page's "next best step": due reviews, then today's plan target, then the next
self-assessment; and the home page of a student with weeks of history stays cheap."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from exams.models import Attempt
from study import cards, plan, selectors
from study.models import Card, CardReview
from study.selectors import NextStep
from tests.analytics.conftest import Build

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(examinee, instructor, exam, practice_open):
    """Three weeks of a student's study up to now: nine practice blocks and two sittings of
    the public self-assessment (two blocks each), a third of the answers wrong, the misses
    carded and some reviewed, and a plan made a week ago."""
    now = timezone.now()
    build = Build(t0=now, owner=instructor, bank=practice_open)
    versions = [q.current_version for q in practice_open.questions.order_by("id")]
    serial = 0

    def sit(days_ago: int, *, blocks: int, with_exam: bool) -> None:
        nonlocal serial
        attempt = build.attempt(
            user=examinee,
            exam=exam if with_exam else None,
            started_at=now - timedelta(days=days_ago, hours=3),
            block_count=blocks,
        )
        for number in range(1, blocks + 1):
            block = build.block(attempt=attempt, number=number)
            for position in range(1, 6):
                version = versions[serial % len(versions)]
                wrong = serial % 3 == 0
                serial += 1
                build.response(
                    block=block,
                    position=position,
                    version=version,
                    choice=(version.key_index + 1) % 5 if wrong else version.key_index,
                    marked=serial % 7 == 0,
                )

    for days_ago in (20, 18, 16, 13, 11, 9, 6, 4, 2):
        sit(days_ago, blocks=1, with_exam=False)
    for days_ago in (14, 3):
        sit(days_ago, blocks=2, with_exam=True)
    week_ago = now - timedelta(days=7)
    cards.cards_collect(user=examinee, now=week_ago)
    for card in Card.objects.filter(user=examinee)[:6]:
        cards.card_review(card=card, rating=CardReview.Rating.GOOD, now=week_ago)
    plan.plan_set(
        user=examinee,
        test_date=timezone.localdate(now) + timedelta(days=21),
        hours_per_day=Decimal("2"),
        now=week_ago,
    )
    return now


def test_the_home_page_of_a_student_with_three_weeks_of_history_takes_at_most_six_queries(
    client, examinee, history, django_assert_max_num_queries
):
    client.force_login(examinee)
    # Two of the six are the session and the user; one each the open exams, the cohort
    # assignments, the attempts list and the next best step.
    with django_assert_max_num_queries(6):
        response = client.get(reverse("exams:examinee_home"))
    assert response.status_code == 200
    assert len(response.context["finished"]) == 11
    step = response.context["next_step"]
    assert step.kind == NextStep.Kind.REVIEW and step.due_count > 0
    assert f"{step.due_count} review cards due" in response.content.decode()


def _nothing_due(user, now) -> None:
    """Card every miss and put every card's next review two months out."""
    cards.cards_collect(user=user, now=now)
    Card.objects.filter(user=user).update(due_at=now + timedelta(days=60))


def _plan(user, now, *, days: int, hours: str):
    return plan.plan_set(
        user=user,
        test_date=timezone.localdate(now) + timedelta(days=days),
        hours_per_day=Decimal(hours),
        now=now,
    )


def test_due_reviews_come_first_counting_misses_not_carded_yet(examinee, finished, t0):
    now = t0 + timedelta(hours=1)
    _plan(examinee, now, days=10, hours="3")
    step = selectors.next_step(user=examinee, now=now)
    # The four misses, changed and marked items of block 1 are not cards yet: the count is what
    # the queue holds once they are collected.
    assert step.kind == NextStep.Kind.REVIEW and step.due_count == 4
    cards.cards_collect(user=examinee, now=now)
    assert cards.due_cards(user=examinee, now=now).count() == 4
    assert selectors.next_step(user=examinee, now=now).due_count == 4
    card = Card.objects.filter(user=examinee).first()
    cards.card_review(card=card, rating=CardReview.Rating.GOOD, now=now)
    assert selectors.next_step(user=examinee, now=now).due_count == 3


def test_a_card_withheld_by_an_open_block_elsewhere_is_not_counted_due(
    examinee, finished, open_block_elsewhere, t0
):
    now = t0 + timedelta(hours=1)
    cards.cards_collect(user=examinee, now=now)
    open_block_elsewhere(now)
    visible = cards.due_cards(user=examinee, now=now).count()
    assert visible == 3
    assert selectors.next_step(user=examinee, now=now).due_count == visible


def test_another_students_due_cards_do_not_count(other_examinee, finished, t0):
    now = t0 + timedelta(hours=1)
    cards.cards_collect(user=finished.user, now=now)
    step = selectors.next_step(user=other_examinee, now=now)
    assert step.kind == NextStep.Kind.MAKE_PLAN and step.due_count == 0


def test_with_nothing_due_and_no_plan_the_step_is_to_make_a_plan(examinee, finished, t0):
    now = t0 + timedelta(hours=1)
    _nothing_due(examinee, now)
    step = selectors.next_step(user=examinee, now=now)
    assert step.kind == NextStep.Kind.MAKE_PLAN and step.test_date is None


def test_with_nothing_due_what_is_left_of_todays_target_comes_next(examinee, finished, t0):
    now = t0 + timedelta(days=1)  # nothing answered yet today
    _nothing_due(examinee, now)
    current = _plan(examinee, now, days=10, hours="3")
    step = selectors.next_step(user=examinee, now=now)
    status = plan.plan_status(plan=current, now=now)
    assert step.kind == NextStep.Kind.PLAN_TODAY
    assert status.today_left > 0
    assert (step.today_left, step.today_target) == (
        status.today_left,
        status.today.target_questions,
    )


def test_a_missed_day_adds_to_what_is_left_today_as_on_the_plan_page(examinee, finished, t0):
    made = t0 + timedelta(days=1)
    current = _plan(examinee, made, days=10, hours="3")
    now = made + timedelta(days=2)  # two days of the plan with nothing answered
    _nothing_due(examinee, now)
    status = plan.plan_status(plan=current, now=now)
    step = selectors.next_step(user=examinee, now=now)
    assert status.behind > 0
    assert step.kind == NextStep.Kind.PLAN_TODAY and step.today_left == status.today_left


def test_once_todays_target_is_met_the_next_self_assessment_comes_next(examinee, finished, t0):
    now = t0 + timedelta(hours=1)
    _nothing_due(examinee, now)
    # A quarter hour a day is 5 questions; the fixture answered 9 today.
    current = _plan(examinee, now, days=10, hours="0.25")
    status = plan.plan_status(plan=current, now=now)
    assert status.today_left == 0 and status.next_assessment is not None
    step = selectors.next_step(user=examinee, now=now)
    assert step.kind == NextStep.Kind.ASSESSMENT
    assert step.assessment_day == status.next_assessment.day
    assert step.assessment_kind == status.next_assessment.assessment
    assert step.assessment_items == status.next_assessment.assessment_items
    assert not step.is_assessment_today


def test_with_the_target_met_and_no_self_assessment_left_the_student_is_on_track(
    examinee, finished, t0
):
    now = t0 + timedelta(hours=1)
    _nothing_due(examinee, now)
    _plan(examinee, now, days=3, hours="0.25")
    assert selectors.next_step(user=examinee, now=now).kind == NextStep.Kind.ON_TRACK


def test_after_the_test_date_the_step_is_to_make_a_new_plan(examinee, finished, t0):
    made = t0 + timedelta(hours=1)
    current = _plan(examinee, made, days=3, hours="3")
    now = made + timedelta(days=4)
    _nothing_due(examinee, now)
    step = selectors.next_step(user=examinee, now=now)
    assert step.kind == NextStep.Kind.MAKE_PLAN and step.test_date == current.test_date


def test_the_home_page_shows_the_step_and_links_to_it(client, examinee, finished, t0):
    client.force_login(examinee)
    html = client.get(reverse("exams:examinee_home")).content.decode()
    assert 'data-next-step="review"' in html and "4 review cards due" in html
    assert reverse("study:review") in html
    _nothing_due(examinee, timezone.now())
    html = client.get(reverse("exams:examinee_home")).content.decode()
    assert 'data-next-step="make_plan"' in html and reverse("study:plan") in html
    assert Attempt.objects.filter(user=examinee).count() == 1
