"""Instructor pages at course scale: a cohort of 200 examinees who sat 2 exams each. Every
page is a fixed number of queries per table page, whatever the cohort's size."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse

from exams import authoring, services
from exams.models import Membership
from questions.models import Bank
from tests.conftest import PASSWORD, T0
from tests.teach.test_exams_and_cohorts import make_question

pytestmark = pytest.mark.django_db

EXAMINEES = 200
# Session and user come with every signed-in page; the rest is the page's own.
PER_REQUEST = 2
PER_TABLE_PAGE = 6


@pytest.fixture(scope="module")
def _course_rows(django_db_setup, django_db_blocker):
    """The course, built once for this module's tests (400 attempts through the services take
    seconds) inside a transaction that is rolled back after the last of them, as Django's
    TestCase.setUpTestData does; each test runs in a savepoint inside it."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    with django_db_blocker.unblock(), transaction.atomic():
        instructor = user_model.objects.create_user(
            username="dr_ito", password=PASSWORD, role="instructor", first_name="Ito"
        )
        bank = Bank.objects.create(slug="scale", name="Scale")
        bank.owners.add(instructor)
        for i in range(4):
            make_question(bank, f"S{i}", discipline="medicine" if i % 2 else "surgery")
        blueprint = authoring.blueprint_create(
            owner=instructor, name="Short", block_count=1, items_per_block=2, block_minutes=5
        )
        cohort = authoring.cohort_create(owner=instructor, name="Big cohort")
        users = user_model.objects.bulk_create(
            user_model(username=f"e{i:03}", role="examinee") for i in range(EXAMINEES)
        )
        Membership.objects.bulk_create(Membership(cohort=cohort, user=u) for u in users)
        exams = []
        for n in range(2):
            exam = authoring.exam_create(
                owner=instructor,
                title=f"Exam {n}",
                blueprint=blueprint,
                banks=[bank],
                discipline_weights={"medicine": 1, "surgery": 1},
                system_weights={},
            )
            authoring.assignment_create(
                exam=exam,
                cohort=cohort,
                opens_at=T0 - timedelta(days=1),
                closes_at=T0 + timedelta(days=1),
            )
            exams.append(exam)
        rng = random.Random(5)
        for user in users:
            for exam in exams:
                attempt = services.attempt_start(user=user, exam=exam, now=T0, rng=rng)
                attempt = services.block_start(attempt=attempt, now=T0)
                services.block_end(attempt=attempt, now=T0)
        yield instructor, cohort, exams
        transaction.set_rollback(True)


@pytest.fixture
def instructor(_course_rows, db):
    return _course_rows[0]


@pytest.fixture
def course(_course_rows, db):
    _, cohort, exams = _course_rows
    return cohort, exams


def test_course_pages_stay_within_six_queries_per_table_page(
    instructor_client, course, django_assert_max_num_queries
):
    cohort, exams = course
    # A session's first page reads the user's time zone and keeps it in the session.
    instructor_client.get(reverse("exams:time_zone"))
    pages = {
        reverse("teach:cohort_list"): 1,
        reverse("teach:exam_list"): 1,
        reverse("teach:gradebook", args=[exams[0].uuid]) + f"?cohort={cohort.uuid}": 1,
        reverse("teach:gradebook", args=[exams[1].uuid]): 1,
        reverse("teach:cohort_detail", args=[cohort.uuid]): 3,  # members, assignments, overrides
        reverse("teach:exam_detail", args=[exams[0].uuid]): 2,  # banks and pool, assignments
        reverse("teach:exam_stats", args=[exams[0].uuid]): 2,  # items, attempts
        reverse("teach:cohort_stats", args=[cohort.uuid]): 3,  # items, attempts, areas
    }
    for url, tables in pages.items():
        with django_assert_max_num_queries(PER_REQUEST + PER_TABLE_PAGE * tables) as ctx:
            response = instructor_client.get(url)
        assert response.status_code == 200, url
        print(url, len(ctx.captured_queries))


def test_gradebook_pages_through_200_examinees(instructor_client, course):
    cohort, exams = course
    url = reverse("teach:gradebook", args=[exams[0].uuid])
    first = instructor_client.get(url, {"cohort": str(cohort.uuid)})
    assert len(first.context["book"].rows) == 50
    assert first.context["page"].paginator.num_pages == 4
    last = instructor_client.get(url, {"cohort": str(cohort.uuid), "page": 4})
    assert [r.username for r in last.context["book"].rows][-1] == "e199"
    exported = instructor_client.get(url, {"cohort": str(cohort.uuid), "export": "csv"})
    assert exported.content.decode().count("\n") == 1 + EXAMINEES


def test_exam_statistics_page_the_attempt_table(instructor_client, course):
    _, exams = course
    url = reverse("teach:exam_stats", args=[exams[0].uuid])
    first = instructor_client.get(url)
    assert len(first.context["attempts"]) == 50
    assert first.context["attempts_page"].paginator.count == 200
    assert "apage=2" in first.content.decode()
    found = instructor_client.get(url, {"iq": "stem s1"})
    assert [i["label"] for i in found.context["items"]] == ["scale/S1"]


def test_cohort_list_filters_sorts_and_exports(client, other_instructor, t0):
    # An instructor of their own: the module's course belongs to `instructor`.
    instructor, instructor_client = other_instructor, client
    client.force_login(instructor)
    for name in ("Alpha", "Beta", "Gamma"):
        authoring.cohort_create(owner=instructor, name=name)
    gamma = authoring.cohort_create(owner=instructor, name="Gamma old")
    authoring.cohort_archive(cohort=gamma, now=t0)
    url = reverse("teach:cohort_list")
    names = [c.name for c in instructor_client.get(url, {"sort": "-name"}).context["cohorts"]]
    assert names == ["Gamma", "Beta", "Alpha"]
    assert [c.name for c in instructor_client.get(url, {"q": "et"}).context["cohorts"]] == ["Beta"]
    archived = instructor_client.get(url, {"archived": "1"}).context["cohorts"]
    assert [c.name for c in archived] == ["Gamma old"]
    exported = instructor_client.get(url, {"export": "csv"}).content.decode().splitlines()
    assert exported[0].startswith("Cohort,Members") and len(exported) == 4
    xlsx = instructor_client.get(url, {"export": "xlsx"})
    assert xlsx.content[:2] == b"PK"


def test_cohort_page_pages_and_filters_200_members_within_six_queries_per_table(
    instructor_client, course, django_user_model, django_assert_max_num_queries
):
    from accounts.models import Invitation

    cohort, _ = course
    now = cohort.created_at
    Invitation.objects.bulk_create(
        Invitation(cohort=cohort, email=f"i{i:03}@example.org", created_at=now)
        for i in range(EXAMINEES)
    )
    django_user_model.objects.filter(username="e123").update(email="nina@example.org")
    instructor_client.get(reverse("exams:time_zone"))
    url = reverse("teach:cohort_detail", args=[cohort.uuid])
    # Members, invitations, assignments and overrides.
    with django_assert_max_num_queries(PER_REQUEST + PER_TABLE_PAGE * 4):
        first = instructor_client.get(url)
    assert len(first.context["members"]) == 50
    assert first.context["member_page"].paginator.num_pages == 4
    assert len(first.context["invitations"]) == 50
    body = first.content.decode()
    # No form per member: one link each to its own page.
    assert body.count('name="time_multiplier"') == 0
    assert body.count("Accommodations</a>") == 50
    last = instructor_client.get(url, {"page": 4})
    assert [m.username for m in last.context["members"]][-1] == "e199"
    found = instructor_client.get(url, {"mq": "nina@"})
    assert [m.username for m in found.context["members"]] == ["e123"]
    assert found.context["invitations"] == []
    invited = instructor_client.get(url, {"mq": "i007@"})
    assert [i.email for i in invited.context["invitations"]] == ["i007@example.org"]
    assert "No member matches" in invited.content.decode()
