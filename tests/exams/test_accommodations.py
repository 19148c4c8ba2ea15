"""Accommodations belong to the cohort membership: only the exam's own cohort can grant them.

Issue #10, finding 2: an accommodation stored on the user let one instructor stretch (or reset)
the time another instructor's exams give.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from exams import attempts, authoring

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned_exam(exam, instructor, examinee, t0):
    """The instructor's exam, assigned to a cohort of theirs that holds the examinee."""
    exam.is_public = False
    exam.save(update_fields=["is_public"])
    cohort = authoring.cohort_create(owner=instructor, name="Ito's June")
    authoring.cohort_add_members(cohort=cohort, usernames=[examinee.username])
    authoring.assignment_create(
        exam=exam, cohort=cohort, opens_at=t0 - timedelta(days=1), closes_at=t0 + timedelta(days=1)
    )
    exam.cohort = cohort
    return exam


@pytest.fixture
def rival_cohort(other_instructor):
    return authoring.cohort_create(owner=other_instructor, name="Osei's cohort")


def start(examinee, exam, t0):
    return attempts.attempt_start(user=examinee, exam=exam, now=t0, rng=random.Random(3))


def test_the_assigning_cohorts_accommodation_stretches_blocks_and_adds_break(
    examinee, assigned_exam, t0
):
    authoring.accommodation_set(
        cohort=assigned_exam.cohort,
        member=examinee,
        time_multiplier=Decimal("1.5"),
        extra_break_minutes=15,
    )
    attempt = start(examinee, assigned_exam, t0)
    assert (attempt.time_multiplier, attempt.block_seconds) == (Decimal("1.50"), 15 * 60)
    assert attempt.break_seconds == 25 * 60


def test_another_instructors_accommodation_never_reaches_this_exam(
    examinee, assigned_exam, rival_cohort, t0
):
    # Add, stretch and remove again: nothing of it may stay behind.
    authoring.cohort_add_members(cohort=rival_cohort, usernames=[examinee.username])
    authoring.accommodation_set(
        cohort=rival_cohort, member=examinee, time_multiplier=Decimal("3"), extra_break_minutes=240
    )
    authoring.cohort_remove_member(cohort=rival_cohort, member=examinee)
    attempt = start(examinee, assigned_exam, t0)
    assert (attempt.time_multiplier, attempt.block_seconds) == (Decimal("1.00"), 10 * 60)
    assert attempt.break_seconds == 10 * 60


def test_another_instructor_cannot_reset_a_real_accommodation(
    examinee, assigned_exam, rival_cohort, t0
):
    authoring.accommodation_set(
        cohort=assigned_exam.cohort,
        member=examinee,
        time_multiplier=Decimal("2"),
        extra_break_minutes=30,
    )
    authoring.cohort_add_members(cohort=rival_cohort, usernames=[examinee.username])
    authoring.accommodation_set(
        cohort=rival_cohort, member=examinee, time_multiplier=Decimal("1"), extra_break_minutes=0
    )
    attempt = start(examinee, assigned_exam, t0)
    assert (attempt.time_multiplier, attempt.block_seconds) == (Decimal("2.00"), 20 * 60)
    assert attempt.break_seconds == 40 * 60


def test_a_public_exam_gives_no_accommodation(examinee, exam, instructor, t0):
    cohort = authoring.cohort_create(owner=instructor, name="June")
    authoring.cohort_add_members(cohort=cohort, usernames=[examinee.username])
    authoring.accommodation_set(
        cohort=cohort, member=examinee, time_multiplier=Decimal("1.5"), extra_break_minutes=15
    )
    attempt = start(examinee, exam, t0)
    assert (attempt.time_multiplier, attempt.block_seconds) == (Decimal("1.00"), 10 * 60)
    assert attempt.break_seconds == 10 * 60


def test_leaving_a_cohort_drops_its_accommodation(examinee, assigned_exam, t0):
    cohort = assigned_exam.cohort
    authoring.accommodation_set(
        cohort=cohort, member=examinee, time_multiplier=Decimal("1.5"), extra_break_minutes=15
    )
    authoring.cohort_remove_member(cohort=cohort, member=examinee)
    authoring.cohort_add_members(cohort=cohort, usernames=[examinee.username])
    attempt = start(examinee, assigned_exam, t0)
    assert attempt.block_seconds == 10 * 60
