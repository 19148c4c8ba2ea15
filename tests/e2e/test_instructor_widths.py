"""Instructor tables fit a 1,366 px window: no horizontal scroll on the cohort, gradebook, exam
statistics and cohort statistics pages of a seeded cohort (issue #12, point 5). Long names and
addresses are part of the seed, since they are what widens a table."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXAMINEES = 60


@pytest.fixture
def seeded_course(instructor, django_user_model):
    from django.utils import timezone

    from accounts.models import Invitation
    from exams import authoring, services
    from exams.models import Membership
    from questions.models import Bank
    from tests.teach.test_exams_and_cohorts import make_question

    now = timezone.now()
    bank = Bank.objects.create(slug="widths", name="Widths")
    bank.owners.add(instructor)
    for i in range(4):
        make_question(bank, f"W{i}", discipline="medicine" if i % 2 else "surgery")
    blueprint = authoring.blueprint_create(
        owner=instructor, name="Short", block_count=1, items_per_block=2, block_minutes=5
    )
    cohort = authoring.cohort_create(owner=instructor, name="Step 2 CK prep, autumn intake")
    users = django_user_model.objects.bulk_create(
        django_user_model(
            username=f"examinee_with_a_long_username_{i:03}",
            first_name="Maximiliana-Alessandra",
            last_name=f"Oyelaran-Vasquez-Thorne {i}",
            email=f"maximiliana.alessandra.oyelaran.vasquez.{i:03}@university-hospital.example.org",
            role="examinee",
        )
        for i in range(EXAMINEES)
    )
    Membership.objects.bulk_create(
        Membership(cohort=cohort, user=u, time_multiplier="1.5" if i % 7 == 0 else "1")
        for i, u in enumerate(users)
    )
    Invitation.objects.bulk_create(
        Invitation(
            cohort=cohort,
            email=f"an.invitee.with.a.long.address.{i}@university-hospital.example.org",
            name="Bartholomew Featherstonehaugh-Cholmondeley",
            created_at=now,
        )
        for i in range(5)
    )
    exams = []
    for n in range(2):
        exam = authoring.exam_create(
            owner=instructor,
            title=f"Full-length Step 2 CK self-assessment form {n + 1}",
            blueprint=blueprint,
            banks=[bank],
            discipline_weights={"medicine": 1, "surgery": 1},
            system_weights={},
        )
        authoring.assignment_create(
            exam=exam,
            cohort=cohort,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
            max_attempts=3,
        )
        exams.append(exam)
    rng = random.Random(5)
    for user in users:
        for exam in exams:
            attempt = services.attempt_start(user=user, exam=exam, now=now, rng=rng)
            attempt = services.block_start(attempt=attempt, now=now)
            services.block_end(attempt=attempt, now=now)
    return cohort, exams


def test_instructor_tables_need_no_horizontal_scroll_at_1366_px(
    live_server, page, login, seeded_course
):
    cohort, exams = seeded_course
    login(page, "dr_ito")
    pages = {
        "cohort": f"/teach/cohorts/{cohort.uuid}/",
        "gradebook": f"/teach/exams/{exams[0].uuid}/gradebook/?cohort={cohort.uuid}",
        "exam statistics": f"/teach/analytics/exams/{exams[0].uuid}/",
        "cohort statistics": f"/teach/analytics/cohorts/{cohort.uuid}/",
    }
    widths = {}
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.locator("table").count() >= 1, name
        widths[name] = page.evaluate("document.documentElement.scrollWidth")
    print(widths)
    assert all(width <= 1366 for width in widths.values()), widths
    # The measure sees an overflow when there is one (a wide row appended to the last page).
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', "
        "'<table><tr><td style=\"white-space:nowrap\">' + 'x'.repeat(400) + '</td></tr></table>')"
    )
    assert page.evaluate("document.documentElement.scrollWidth") > 1366
