"""The /teach/ pages: exams, fixed forms, cohorts, assignments and accommodations."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.cache import has_vary_header

from exams import authoring
from exams.models import Assignment, Blueprint, Cohort, Exam, Membership
from questions.models import Bank, Question, QuestionVersion, Tag

pytestmark = pytest.mark.django_db


def make_question(bank, external_id, *, discipline="medicine"):
    question = Question.objects.create(bank=bank, external_id=external_id)
    version = QuestionVersion.objects.create(
        question=question,
        number=1,
        stem_html=f"<p>Stem {external_id}</p>",
        options=[{"text": "A", "explanation": ""}, {"text": "B", "explanation": ""}],
        key_index=0,
        content_hash="0" * 64,
    )
    question.current_version = version
    question.save(update_fields=["current_version"])
    tag, _ = Tag.objects.get_or_create(
        kind="discipline", slug=discipline, bank=None, defaults={"name": discipline.title()}
    )
    question.tags.add(tag)
    return question


@pytest.fixture
def preset():
    return Blueprint.objects.create(
        slug="tiny", name="Tiny", block_count=2, items_per_block=2, block_minutes=5
    )


@pytest.fixture
def bank(instructor):
    bank = Bank.objects.create(slug="mine", name="Mine")
    bank.owners.add(instructor)
    for i in range(5):
        make_question(bank, f"M{i}", discipline="medicine" if i < 3 else "surgery")
    return bank


@pytest.fixture
def exam(instructor, preset, bank):
    return authoring.exam_create(
        owner=instructor,
        title="Fixed mock",
        blueprint=preset,
        banks=[bank],
        assembly=Exam.Assembly.FIXED,
        discipline_weights={"medicine": 1, "surgery": 1},
        system_weights={},
    )


@pytest.fixture
def cohort(instructor, examinee):
    cohort = authoring.cohort_create(owner=instructor, name="June")
    authoring.cohort_add_members(cohort=cohort, usernames=[examinee.username])
    return cohort


def login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )


# (url name, fixture for the uuid or None, allowed method, a refused method, POST data)
VIEWS = [
    ("teach:exam_list", None, "get", "post", {}),
    ("teach:exam_create", None, "get", "delete", {}),
    ("teach:blueprint_create", None, "get", "delete", {}),
    ("teach:exam_detail", "exam", "get", "post", {}),
    ("teach:fixed_form_edit", "exam", "post", "get", {"action": "clear"}),
    ("teach:fixed_form_autofill", "exam", "post", "get", {"seed": 1}),
    ("teach:cohort_list", None, "get", "post", {}),
    ("teach:cohort_create", None, "get", "delete", {}),
    ("teach:cohort_detail", "cohort", "get", "post", {}),
    ("teach:cohort_members_add", "cohort", "post", "get", {"usernames": "ben"}),
    ("teach:cohort_member_remove", "cohort", "post", "get", {"member": "ada"}),
    (
        "teach:cohort_accommodation",
        "cohort",
        "post",
        "get",
        {"member": "ada", "time_multiplier": "1.5", "extra_break_minutes": "10"},
    ),
    ("teach:assignment_create", None, "get", "delete", {}),
]
OWNED = [v for v in VIEWS if v[1] is not None]


def _url(request, name, fixture):
    if fixture is None:
        return reverse(name)
    return reverse(name, args=[request.getfixturevalue(fixture).uuid])


@pytest.mark.parametrize(("name", "fixture", "method", "_", "data"), VIEWS)
def test_anonymous_users_go_to_login(request, client, name, fixture, method, _, data):
    assert login_redirect(getattr(client, method)(_url(request, name, fixture), data))


@pytest.mark.parametrize(("name", "fixture", "method", "_", "data"), VIEWS)
def test_examinees_are_refused(request, examinee_client, name, fixture, method, _, data):
    response = getattr(examinee_client, method)(_url(request, name, fixture), data)
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "fixture", "method", "_", "data"), OWNED)
def test_another_instructors_objects_are_not_found(
    request, client, other_instructor, examinee, other_examinee, name, fixture, method, _, data
):
    client.force_login(other_instructor)
    response = getattr(client, method)(_url(request, name, fixture), data)
    assert response.status_code == 404


@pytest.mark.parametrize(("name", "fixture", "_", "wrong", "data"), VIEWS)
def test_wrong_method_is_refused(request, instructor_client, name, fixture, _, wrong, data):
    assert getattr(instructor_client, wrong)(_url(request, name, fixture)).status_code == 405


@pytest.mark.parametrize(("name", "fixture", "method", "_", "data"), VIEWS)
def test_owner_gets_the_page_or_a_redirect(
    request, instructor_client, other_examinee, name, fixture, method, _, data
):
    response = getattr(instructor_client, method)(_url(request, name, fixture), data)
    if method == "get":
        assert response.status_code == 200
        assert b"css/instructor.css" in response.content
    else:
        assert response.status_code == 302


# --------------------------------------------------------------------------- exams


def test_exam_create_page_offers_presets_and_my_banks_only(instructor_client, preset, bank):
    Bank.objects.create(slug="theirs", name="Not mine")
    response = instructor_client.get(reverse("teach:exam_create"))
    html = response.content.decode()
    assert "Tiny" in html
    assert "Mine" in html
    assert "Not mine" not in html
    assert "medicine:" in response.context["form"].initial["discipline_weights"]


def test_exam_create_post_creates_the_exam_and_redirects(instructor_client, preset, bank):
    response = instructor_client.post(
        reverse("teach:exam_create"),
        {
            "title": "Week 4 mock",
            "blueprint": str(preset.uuid),
            "banks": [str(bank.uuid)],
            "mode": "timed",
            "assembly": "proportions",
            "discipline_weights": "medicine: 3\nsurgery: 1",
            "system_weights": "",
        },
    )
    exam = Exam.objects.get(title="Week 4 mock")
    assert response["Location"] == reverse("teach:exam_detail", args=[exam.uuid])
    assert exam.discipline_weights == {"medicine": 3.0, "surgery": 1.0}
    assert exam.system_weights  # blank took the outline default


def test_exam_create_with_bad_weights_shows_the_error(instructor_client, preset, bank):
    response = instructor_client.post(
        reverse("teach:exam_create"),
        {
            "title": "Bad",
            "blueprint": str(preset.uuid),
            "banks": [str(bank.uuid)],
            "mode": "timed",
            "assembly": "proportions",
            "discipline_weights": "medicine lots",
        },
    )
    assert response.status_code == 200
    assert "discipline_weights" in response.context["form"].errors
    assert not Exam.objects.exists()


def test_blueprint_create_returns_to_exam_create_with_it_selected(instructor_client, instructor):
    response = instructor_client.post(
        reverse("teach:blueprint_create"),
        {
            "name": "Half day",
            "block_count": 4,
            "items_per_block": 40,
            "block_minutes": 60,
            "break_minutes": 30,
            "tutorial_minutes": 0,
        },
    )
    blueprint = Blueprint.objects.get(owner=instructor)
    assert response["Location"] == f"{reverse('teach:exam_create')}?blueprint={blueprint.uuid}"


def test_blueprint_create_refuses_out_of_range_values(instructor_client, instructor):
    response = instructor_client.post(
        reverse("teach:blueprint_create"),
        {"name": "X", "block_count": 50, "items_per_block": 10, "block_minutes": 10},
    )
    assert response.status_code == 200
    assert "block_count" in response.context["form"].errors
    assert not Blueprint.objects.filter(owner=instructor).exists()


def test_exam_detail_shows_the_blueprint_pool_and_analytics_link(instructor_client, exam):
    response = instructor_client.get(reverse("teach:exam_detail", args=[exam.uuid]))
    html = response.content.decode()
    assert "2 × 2 items × 5 min" in html
    assert response.context["pool"].total_available == 5
    assert response.context["day_length"] == "0 h 10 min"
    assert response.context["stats_url"] == reverse("teach:exam_stats", args=[exam.uuid])


def test_fixed_form_add_over_htmx_returns_the_editor(instructor_client, exam, bank):
    picks = list(bank.questions.order_by("external_id")[:2])
    response = instructor_client.post(
        reverse("teach:fixed_form_edit", args=[exam.uuid]),
        {"action": "add", "block_number": 2, "questions": [str(q.uuid) for q in picks]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b'id="fixed-form"' in response.content
    assert b"<html" not in response.content
    assert list(exam.fixed_items.values_list("block_number", "question")) == [
        (2, picks[0].pk),
        (2, picks[1].pk),
    ]


def test_fixed_form_overfilling_a_block_shows_the_error_and_keeps_the_form(
    instructor_client, exam, bank
):
    picks = list(bank.questions.all()[:3])
    response = instructor_client.post(
        reverse("teach:fixed_form_edit", args=[exam.uuid]),
        {"action": "add", "block_number": 1, "questions": [str(q.uuid) for q in picks]},
        HTTP_HX_REQUEST="true",
    )
    assert b"outside 1" in response.content
    assert not exam.fixed_items.exists()


def test_fixed_form_remove(instructor_client, exam, bank):
    question = bank.questions.first()
    authoring.fixed_form_set(exam=exam, items=[(1, 1, question)])
    instructor_client.post(
        reverse("teach:fixed_form_edit", args=[exam.uuid]),
        {"action": "remove", "question": str(question.uuid)},
    )
    assert not exam.fixed_items.exists()


def test_autofill_fills_the_form(instructor_client, exam):
    response = instructor_client.post(
        reverse("teach:fixed_form_autofill", args=[exam.uuid]), {"seed": 4}
    )
    assert response.status_code == 302
    assert exam.fixed_items.count() == 4


def test_exam_detail_pool_search_over_htmx_returns_the_editor(instructor_client, exam):
    response = instructor_client.get(
        reverse("teach:exam_detail", args=[exam.uuid]), {"q": "M3"}, HTTP_HX_REQUEST="true"
    )
    assert [q.external_id for q in response.context["pool_page"].object_list] == ["M3"]
    assert b"<html" not in response.content
    assert has_vary_header(response, "HX-Request")


def test_fixed_exam_page_and_its_editor_fragment_both_vary_on_hx_request(instructor_client, exam):
    url = reverse("teach:exam_detail", args=[exam.uuid])
    page = instructor_client.get(url)
    assert b"<html" in page.content
    assert has_vary_header(page, "HX-Request")
    edit = reverse("teach:fixed_form_edit", args=[exam.uuid])
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = instructor_client.post(edit, {"action": "clear"}, **headers)
        assert has_vary_header(response, "HX-Request")


# --------------------------------------------------------------------------- cohorts


def test_cohort_create_redirects_to_the_cohort(instructor_client, instructor):
    response = instructor_client.post(reverse("teach:cohort_create"), {"name": "July"})
    cohort = Cohort.objects.get(name="July")
    assert cohort.owner == instructor
    assert response["Location"] == reverse("teach:cohort_detail", args=[cohort.uuid])


def test_cohort_detail_lists_members_assignments_and_analytics_link(
    instructor_client, cohort, exam, t0
):
    from datetime import timedelta

    authoring.assignment_create(
        exam=exam, cohort=cohort, opens_at=t0, closes_at=t0 + timedelta(days=2), max_attempts=1
    )
    response = instructor_client.get(reverse("teach:cohort_detail", args=[cohort.uuid]))
    assert [m.username for m in response.context["members"]] == ["ada"]
    assert b"Fixed mock" in response.content
    assert response.context["stats_url"] == reverse("teach:cohort_stats", args=[cohort.uuid])


@pytest.mark.parametrize("name", ["ghost", "dr_osei"])
def test_adding_members_never_tells_which_accounts_exist_or_their_role(
    instructor_client, cohort, other_instructor, name
):
    # Issue #10, finding 2: an unknown name and an instructor's name get the same answer.
    response = instructor_client.post(
        reverse("teach:cohort_members_add", args=[cohort.uuid]),
        {"usernames": name},
        HTTP_HX_REQUEST="true",
    )
    assert b'id="members"' in response.content
    assert response.context["notice"] == "0 added; 1 could not be added."
    assert not response.context.get("error")
    assert name.encode() not in response.content
    assert list(cohort.members.values_list("username", flat=True)) == ["ada"]


def test_adding_members_adds_the_examinees_and_counts_the_rest(
    instructor_client, cohort, other_examinee, other_instructor
):
    response = instructor_client.post(
        reverse("teach:cohort_members_add", args=[cohort.uuid]),
        {"usernames": "ben, ghost, dr_osei"},
        HTTP_HX_REQUEST="true",
    )
    assert response.context["notice"] == "1 added; 2 could not be added."
    assert b"ghost" not in response.content
    assert set(cohort.members.values_list("username", flat=True)) == {"ada", "ben"}


def test_adding_members(instructor_client, cohort, other_examinee):
    instructor_client.post(
        reverse("teach:cohort_members_add", args=[cohort.uuid]), {"usernames": "ben"}
    )
    assert cohort.members.filter(username="ben").exists()


def test_removing_a_member_over_htmx(instructor_client, cohort, examinee):
    response = instructor_client.post(
        reverse("teach:cohort_member_remove", args=[cohort.uuid]),
        {"member": "ada"},
        HTTP_HX_REQUEST="true",
    )
    assert b"No members yet." in response.content
    assert not cohort.members.exists()


def test_setting_accommodations(instructor_client, cohort, examinee):
    instructor_client.post(
        reverse("teach:cohort_accommodation", args=[cohort.uuid]),
        {"member": "ada", "time_multiplier": "1.5", "extra_break_minutes": "20"},
    )
    row = Membership.objects.get(cohort=cohort, user=examinee)
    assert (row.time_multiplier, row.extra_break_minutes) == (Decimal("1.50"), 20)


def test_accommodation_outside_the_limits_is_refused(instructor_client, cohort, examinee):
    response = instructor_client.post(
        reverse("teach:cohort_accommodation", args=[cohort.uuid]),
        {"member": "ada", "time_multiplier": "4", "extra_break_minutes": "0"},
        HTTP_HX_REQUEST="true",
    )
    assert b"Not saved" in response.content
    assert Membership.objects.get(cohort=cohort, user=examinee).time_multiplier == Decimal("1.00")


def test_accommodation_for_a_non_member_is_refused(instructor_client, cohort, other_examinee):
    instructor_client.post(
        reverse("teach:cohort_accommodation", args=[cohort.uuid]),
        {"member": "ben", "time_multiplier": "2", "extra_break_minutes": "0"},
    )
    assert not Membership.objects.filter(user=other_examinee).exists()


def test_a_members_accommodations_are_edited_on_their_own_page(instructor_client, cohort, examinee):
    url = reverse("teach:cohort_member_edit", args=[cohort.uuid, examinee.pk])
    page = instructor_client.get(url)
    assert page.status_code == 200
    assert b'name="time_multiplier"' in page.content
    detail = instructor_client.get(reverse("teach:cohort_detail", args=[cohort.uuid]))
    # The members table links to the page instead of holding a form per row.
    assert url.encode() in detail.content
    assert b'name="time_multiplier"' not in detail.content
    response = instructor_client.post(url, {"time_multiplier": "1.25", "extra_break_minutes": "15"})
    assert response.status_code == 302
    row = Membership.objects.get(cohort=cohort, user=examinee)
    assert (row.time_multiplier, row.extra_break_minutes) == (Decimal("1.25"), 15)
    detail = instructor_client.get(reverse("teach:cohort_detail", args=[cohort.uuid]))
    assert "time ×1.25, +15 min break" in detail.content.decode()


def test_a_members_accommodation_page_refuses_bad_values_naming_the_field(
    instructor_client, cohort, examinee
):
    url = reverse("teach:cohort_member_edit", args=[cohort.uuid, examinee.pk])
    response = instructor_client.post(url, {"time_multiplier": "4", "extra_break_minutes": "0"})
    assert response.status_code == 200
    assert response.context["form"].errors["time_multiplier"]
    assert Membership.objects.get(cohort=cohort, user=examinee).time_multiplier == Decimal("1.00")


def test_the_accommodation_page_is_404_for_a_non_member(
    instructor_client, cohort, django_user_model
):
    stranger = django_user_model.objects.create_user(username="cy", role="examinee")
    url = reverse("teach:cohort_member_edit", args=[cohort.uuid, stranger.pk])
    assert instructor_client.get(url).status_code == 404
    assert instructor_client.post(url, {"time_multiplier": "2"}).status_code == 404


# --------------------------------------------------------------------------- assignments


def test_assignment_create_from_the_form(instructor_client, exam, cohort):
    response = instructor_client.post(
        reverse("teach:assignment_create"),
        {
            "exam": str(exam.uuid),
            "cohort": str(cohort.uuid),
            "opens_at": "2026-06-01T09:00",
            "closes_at": "2026-06-08T09:00",
            "max_attempts": 2,
        },
    )
    assignment = Assignment.objects.get()
    assert response["Location"] == reverse("teach:cohort_detail", args=[cohort.uuid])
    assert (assignment.exam, assignment.cohort, assignment.max_attempts) == (exam, cohort, 2)


def test_assignment_with_a_backwards_window_is_refused(instructor_client, exam, cohort):
    response = instructor_client.post(
        reverse("teach:assignment_create"),
        {
            "exam": str(exam.uuid),
            "cohort": str(cohort.uuid),
            "opens_at": "2026-06-08T09:00",
            "closes_at": "2026-06-01T09:00",
            "max_attempts": 1,
        },
    )
    assert response.status_code == 200
    assert "closes_at" in response.context["form"].errors
    assert not Assignment.objects.exists()


def test_assignment_form_cannot_pick_another_instructors_cohort(
    instructor_client, exam, other_instructor
):
    theirs = authoring.cohort_create(owner=other_instructor, name="Theirs")
    response = instructor_client.post(
        reverse("teach:assignment_create"),
        {
            "exam": str(exam.uuid),
            "cohort": str(theirs.uuid),
            "opens_at": "2026-06-01T09:00",
            "closes_at": "2026-06-08T09:00",
            "max_attempts": 1,
        },
    )
    assert "cohort" in response.context["form"].errors
    assert not Assignment.objects.exists()


def test_assignment_page_preselects_my_exam_and_404s_for_someone_elses(
    instructor_client, exam, other_instructor, preset
):
    url = reverse("teach:assignment_create")
    mine = instructor_client.get(url, {"exam": str(exam.uuid)})
    assert mine.context["form"].initial["exam"] == exam
    theirs = Exam.objects.create(owner=other_instructor, title="Theirs", blueprint=preset)
    assert instructor_client.get(url, {"exam": str(theirs.uuid)}).status_code == 404
    assert instructor_client.get(url, {"exam": "not-a-uuid"}).status_code == 404
