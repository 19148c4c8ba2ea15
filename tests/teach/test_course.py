"""Running a course: edits that protect attempts, archive/delete rules, per-examinee overrides,
the gradebook and its exports, and time zones."""

from __future__ import annotations

import csv
import io
import random
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from exams import access, authoring, services
from exams.models import Assignment, AssignmentOverride, Attempt, Blueprint, Cohort, Exam
from exams.timezones import time_zone_set
from questions.models import Bank
from tests.teach.test_exams_and_cohorts import make_question

pytestmark = pytest.mark.django_db

UTC = UTC


@pytest.fixture
def blueprint(instructor):
    return authoring.blueprint_create(
        owner=instructor, name="Two by two", block_count=2, items_per_block=2, block_minutes=10
    )


@pytest.fixture
def bank(instructor):
    bank = Bank.objects.create(slug="course", name="Course bank")
    bank.owners.add(instructor)
    for i in range(6):
        make_question(bank, f"C{i}", discipline="medicine" if i < 3 else "surgery")
    return bank


@pytest.fixture
def exam(instructor, blueprint, bank):
    return authoring.exam_create(
        owner=instructor,
        title="Course mock",
        blueprint=blueprint,
        banks=[bank],
        discipline_weights={"medicine": 1, "surgery": 1},
        system_weights={},
    )


@pytest.fixture
def fixed(instructor, blueprint, bank):
    """A fixed-form exam on the course blueprint and bank, with no form set yet."""
    return authoring.exam_create(
        owner=instructor,
        title="Fixed",
        blueprint=blueprint,
        banks=[bank],
        assembly=Exam.Assembly.FIXED,
        discipline_weights={},
        system_weights={},
    )


@pytest.fixture
def cohort(instructor, examinee, other_examinee):
    cohort = authoring.cohort_create(owner=instructor, name="June")
    cohort.members.add(examinee, other_examinee)
    return cohort


@pytest.fixture
def assignment(exam, cohort, t0):
    return authoring.assignment_create(
        exam=exam,
        cohort=cohort,
        opens_at=t0 - timedelta(days=1),
        closes_at=t0 + timedelta(days=1),
        max_attempts=1,
    )


def start(user, exam, now):
    return services.attempt_start(user=user, exam=exam, now=now, rng=random.Random(1))


# Edits never change an attempt already started ------------------------------------------------


def test_editing_exam_and_blueprint_keeps_a_started_attempt_as_drawn(
    exam, assignment, examinee, blueprint, t0
):
    attempt = start(examinee, exam, t0)
    items = list(attempt.responses.values_list("question_id", "version_id", "block_id"))
    authoring.blueprint_update(
        blueprint=blueprint,
        name="Longer",
        block_count=1,
        items_per_block=3,
        block_minutes=40,
    )
    authoring.exam_update(
        exam=exam,
        title="Renamed",
        blueprint=blueprint,
        banks=list(exam.banks.all()),
        mode=Exam.Mode.TUTOR,
        assembly=exam.assembly,
        discipline_weights={"medicine": 1},
        system_weights={},
        is_public=False,
    )
    attempt.refresh_from_db()
    assert attempt.title == "Course mock"
    assert attempt.mode == Exam.Mode.TIMED
    assert attempt.block_count == 2 and attempt.block_seconds == 600
    assert list(attempt.responses.values_list("question_id", "version_id", "block_id")) == items


def test_exam_edit_refuses_banks_the_fixed_form_still_uses(instructor, blueprint, bank, fixed):
    authoring.fixed_form_set(exam=fixed, items=[(1, 1, bank.questions.first())])
    other = Bank.objects.create(slug="other-course", name="Other")
    other.owners.add(instructor)
    with pytest.raises(ValidationError) as err:
        authoring.exam_update(
            exam=fixed,
            title="Fixed",
            blueprint=blueprint,
            banks=[other],
            mode=fixed.mode,
            assembly=fixed.assembly,
            discipline_weights={},
            system_weights={},
            is_public=False,
        )
    assert "banks" in err.value.message_dict


def test_blueprint_edit_refuses_a_shape_the_fixed_form_does_not_fit(blueprint, bank, fixed):
    authoring.fixed_form_set(exam=fixed, items=[(2, 1, bank.questions.first())])
    with pytest.raises(ValidationError) as err:
        authoring.blueprint_update(
            blueprint=blueprint, name="One", block_count=1, items_per_block=2, block_minutes=10
        )
    assert "Fixed" in str(err.value)


def test_preset_blueprints_cannot_be_edited_or_deleted():
    preset = Blueprint.objects.create(
        slug="p", name="Preset", block_count=1, items_per_block=1, block_minutes=1
    )
    with pytest.raises(ValidationError):
        authoring.blueprint_update(
            blueprint=preset, name="X", block_count=1, items_per_block=1, block_minutes=1
        )
    with pytest.raises(ValidationError):
        authoring.blueprint_delete(blueprint=preset)


def test_a_blueprint_in_use_cannot_be_deleted_an_unused_one_can(exam, instructor, blueprint):
    with pytest.raises(ValidationError):
        authoring.blueprint_delete(blueprint=blueprint)
    spare = authoring.blueprint_create(
        owner=instructor, name="Spare", block_count=1, items_per_block=1, block_minutes=1
    )
    authoring.blueprint_delete(blueprint=spare)
    assert not Blueprint.objects.filter(pk=spare.pk).exists()


def test_an_exam_with_attempts_is_archived_not_deleted(exam, assignment, examinee, t0):
    start(examinee, exam, t0)
    with pytest.raises(ValidationError, match="archive it instead"):
        authoring.exam_delete(exam=exam)
    authoring.exam_archive(exam=exam, now=t0)
    exam.refresh_from_db()
    assert exam.is_archived and Attempt.objects.filter(exam=exam).count() == 1


def test_an_exam_nobody_sat_can_be_deleted(exam):
    authoring.exam_delete(exam=exam)
    assert not Exam.objects.filter(pk=exam.pk).exists()


def test_an_archived_exam_cannot_be_started_and_restoring_reopens_it(
    exam, assignment, examinee, t0
):
    authoring.exam_archive(exam=exam, now=t0)
    exam.refresh_from_db()
    with pytest.raises(services.NotAllowed):
        start(examinee, exam, t0)
    authoring.exam_restore(exam=exam)
    exam.refresh_from_db()
    assert start(examinee, exam, t0).pk


def test_an_archived_cohort_opens_none_of_its_assignments(exam, assignment, cohort, examinee, t0):
    authoring.cohort_archive(cohort=cohort, now=t0)
    assert access.open_assignments(user=examinee, exam=exam, now=t0) == []
    with pytest.raises(services.NotAllowed):
        start(examinee, exam, t0)


def test_a_cohort_with_attempts_cannot_be_deleted(exam, assignment, cohort, examinee, t0):
    start(examinee, exam, t0)
    with pytest.raises(ValidationError, match="archive it instead"):
        authoring.cohort_delete(cohort=cohort)
    authoring.cohort_update(cohort=cohort, name="July", time_zone="Europe/Paris")
    cohort.refresh_from_db()
    assert (cohort.name, cohort.time_zone) == ("July", "Europe/Paris")


def test_a_cohort_nobody_sat_can_be_deleted(cohort):
    authoring.cohort_delete(cohort=cohort)
    assert not Cohort.objects.filter(pk=cohort.pk).exists()


def test_closing_an_assignment_early_leaves_a_started_attempt_running(
    exam, assignment, examinee, t0
):
    attempt = services.block_start(attempt=start(examinee, exam, t0), now=t0)
    authoring.assignment_close(assignment=assignment, now=t0 + timedelta(minutes=1))
    attempt = services.attempt_refresh(attempt=attempt, now=t0 + timedelta(minutes=2))
    assert attempt.state == Attempt.State.IN_BLOCK
    with pytest.raises(ValidationError, match="close it now"):
        authoring.assignment_delete(assignment=assignment)


def test_assignment_update_checks_the_window_and_lowering_attempts_stops_only_new_ones(
    exam, assignment, examinee, t0
):
    with pytest.raises(ValidationError):
        authoring.assignment_update(
            assignment=assignment, opens_at=t0, closes_at=t0, max_attempts=1
        )
    authoring.assignment_update(
        assignment=assignment,
        opens_at=assignment.opens_at,
        closes_at=assignment.closes_at,
        max_attempts=2,
    )
    first = start(examinee, exam, t0)
    services.attempt_refresh(attempt=first, now=t0 + timedelta(hours=3))  # day expired
    authoring.assignment_update(
        assignment=assignment,
        opens_at=assignment.opens_at,
        closes_at=assignment.closes_at,
        max_attempts=1,
    )
    assert access.attempts_left(user=examinee, exam=exam, now=t0 + timedelta(hours=3)) == 0
    assert Attempt.objects.filter(pk=first.pk).exists()


def test_an_assignment_nobody_sat_can_be_deleted(assignment):
    authoring.assignment_delete(assignment=assignment)
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


# Overrides -------------------------------------------------------------------------------------


def test_an_extension_lets_one_examinee_start_after_the_close(
    exam, assignment, examinee, other_examinee, t0
):
    late = assignment.closes_at + timedelta(hours=2)
    authoring.override_set(
        assignment=assignment,
        member=examinee,
        closes_at=assignment.closes_at + timedelta(days=1),
        extra_attempts=0,
        extra_block_minutes=0,
        extra_break_minutes=0,
        now=t0,
    )
    with pytest.raises(services.NotAllowed):
        start(other_examinee, exam, late)
    attempt = start(examinee, exam, late)
    assert attempt.assignment_id == assignment.pk
    assert "window to" in attempt.override_summary


def test_extra_attempts_and_time_are_honoured_and_frozen_on_the_attempt(
    exam, assignment, examinee, t0
):
    override = authoring.override_set(
        assignment=assignment,
        member=examinee,
        closes_at=None,
        extra_attempts=1,
        extra_block_minutes=5,
        extra_break_minutes=10,
        reason="Illness",
        now=t0,
    )
    first = start(examinee, exam, t0)
    assert first.block_seconds == 15 * 60
    assert first.break_seconds == 10 * 60
    assert first.override_summary == "+1 attempt; +5 min per block; +10 min break"
    authoring.override_delete(override=override)
    first.refresh_from_db()
    assert first.block_seconds == 15 * 60 and first.override_summary
    assert not AssignmentOverride.objects.exists()


def test_an_override_adds_attempts(exam, assignment, examinee, t0):
    assert access.attempts_left(user=examinee, exam=exam, now=t0) == 1
    authoring.override_set(
        assignment=assignment,
        member=examinee,
        closes_at=None,
        extra_attempts=2,
        extra_block_minutes=0,
        extra_break_minutes=0,
        now=t0,
    )
    assert access.attempts_left(user=examinee, exam=exam, now=t0) == 3


def test_an_override_is_only_for_a_member_and_only_extends(
    assignment, instructor, other_instructor, t0, django_user_model
):
    stranger = django_user_model.objects.create_user(username="stranger", password="x")
    with pytest.raises(ValidationError) as err:
        authoring.override_set(
            assignment=assignment,
            member=stranger,
            closes_at=assignment.closes_at - timedelta(hours=1),
            extra_attempts=0,
            extra_block_minutes=0,
            extra_break_minutes=0,
            now=t0,
        )
    assert {"member", "closes_at"} <= set(err.value.message_dict)


def test_override_page_saves_and_the_cohort_page_shows_it(
    instructor_client, assignment, cohort, examinee
):
    url = reverse("teach:assignment_override", args=[assignment.uuid])
    page = instructor_client.get(url)
    assert b"recorded on that attempt" in page.content
    response = instructor_client.post(
        url,
        {
            "member": examinee.username,
            "closes_at": "",
            "extra_attempts": 1,
            "extra_block_minutes": 0,
            "extra_break_minutes": 15,
            "reason": "Broken arm",
        },
    )
    assert response.status_code == 302
    detail = instructor_client.get(reverse("teach:cohort_detail", args=[cohort.uuid]))
    assert b"Broken arm" in detail.content and b"+15 min break" in detail.content
    instructor_client.post(url, {"action": "delete", "member": examinee.username})
    assert not AssignmentOverride.objects.exists()


def test_wrong_instructor_cannot_override_or_edit(client, other_instructor, assignment, examinee):
    client.force_login(other_instructor)
    for name in ("assignment_override", "assignment_edit", "assignment_remove"):
        url = reverse(f"teach:{name}", args=[assignment.uuid])
        assert (
            client.post(url, {"member": examinee.username, "extra_attempts": 5}).status_code == 404
        )
    assert not AssignmentOverride.objects.exists()
    assert Assignment.objects.filter(pk=assignment.pk).exists()


# Pages state their rules -----------------------------------------------------------------------


def test_edit_pages_state_their_rules(instructor_client, exam, assignment, cohort, blueprint):
    pages = {
        reverse("teach:exam_edit", args=[exam.uuid]): b"keeps the questions, blocks and minutes",
        reverse("teach:exam_detail", args=[exam.uuid]): b"it can only be archived",
        reverse("teach:blueprint_edit", args=[blueprint.uuid]): b"cannot be deleted",
        reverse("teach:cohort_edit", args=[cohort.uuid]): b"archive it instead",
        reverse("teach:assignment_edit", args=[assignment.uuid]): b"runs on its own clock",
    }
    for url, rule in pages.items():
        response = instructor_client.get(url)
        assert response.status_code == 200, url
        assert rule in response.content, url


def test_exam_edit_page_saves(instructor_client, exam, bank, blueprint):
    response = instructor_client.post(
        reverse("teach:exam_edit", args=[exam.uuid]),
        {
            "title": "New title",
            "description": "",
            "blueprint": str(blueprint.uuid),
            "banks": [str(bank.uuid)],
            "mode": "tutor",
            "assembly": "proportions",
            "discipline_weights": "medicine: 2",
            "system_weights": "",
        },
    )
    assert response.status_code == 302
    exam.refresh_from_db()
    assert (exam.title, exam.mode, exam.discipline_weights) == (
        "New title",
        "tutor",
        {"medicine": 2.0},
    )


def test_delete_button_refuses_an_exam_with_attempts(
    instructor_client, exam, assignment, examinee, t0
):
    start(examinee, exam, t0)
    response = instructor_client.post(reverse("teach:exam_delete", args=[exam.uuid]), follow=True)
    assert b"archive it instead" in response.content
    assert Exam.objects.filter(pk=exam.pk).exists()
    instructor_client.post(reverse("teach:exam_archive", args=[exam.uuid]), {"action": "archive"})
    exam.refresh_from_db()
    assert exam.is_archived


# Time zones ------------------------------------------------------------------------------------


def test_windows_are_entered_in_the_cohorts_zone_and_stored_in_utc(instructor_client, exam, cohort):
    authoring.cohort_update(cohort=cohort, name=cohort.name, time_zone="America/New_York")
    response = instructor_client.post(
        reverse("teach:assignment_create"),
        {
            "exam": str(exam.uuid),
            "cohort": str(cohort.uuid),
            # The day the clocks go forward in New York: 01:30 is EST, 03:30 is EDT.
            "opens_at": "2025-03-09T01:30",
            "closes_at": "2025-03-09T03:30",
            "max_attempts": 1,
        },
    )
    assert response.status_code == 302
    a = Assignment.objects.get()
    assert a.opens_at == datetime(2025, 3, 9, 6, 30, tzinfo=UTC)
    assert a.closes_at == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)


def test_a_wall_time_skipped_by_dst_is_refused_with_the_field_named(
    instructor_client, exam, cohort
):
    authoring.cohort_update(cohort=cohort, name=cohort.name, time_zone="America/New_York")
    response = instructor_client.post(
        reverse("teach:assignment_create"),
        {
            "exam": str(exam.uuid),
            "cohort": str(cohort.uuid),
            "opens_at": "2025-03-09T02:30",  # does not exist in New York
            "closes_at": "2025-03-10T02:30",
            "max_attempts": 1,
        },
    )
    assert response.status_code == 200
    assert "opens_at" in response.context["form"].errors
    assert not Assignment.objects.exists()


def test_the_instructors_zone_is_used_when_the_cohort_has_none(
    instructor_client, instructor, exam, cohort
):
    time_zone_set(user=instructor, time_zone="Europe/London")
    instructor_client.post(
        reverse("teach:assignment_create"),
        {
            "exam": str(exam.uuid),
            "cohort": str(cohort.uuid),
            # The last Sunday of October: 01:30 happens twice in London; 12:00 is GMT.
            "opens_at": "2025-10-26T12:00",
            "closes_at": "2025-10-27T12:00",
            "max_attempts": 1,
        },
    )
    a = Assignment.objects.get()
    assert a.opens_at == datetime(2025, 10, 26, 12, 0, tzinfo=UTC)


def test_an_examinee_sees_the_window_in_their_own_zone(examinee_client, examinee, assignment):
    from django.utils import timezone

    now = timezone.now().replace(second=0, microsecond=0)
    authoring.assignment_update(
        assignment=assignment,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(hours=5, minutes=7),
        max_attempts=1,
    )
    assignment.refresh_from_db()
    time_zone_set(user=examinee, time_zone="Asia/Kolkata")
    page = examinee_client.get(reverse("exams:examinee_home")).content.decode()
    local = assignment.closes_at.astimezone(zoneinfo.ZoneInfo("Asia/Kolkata"))
    assert f"{local:%H:%M}" in page


# Gradebook -------------------------------------------------------------------------------------


def finish(attempt, now):
    for _ in range(attempt.block_count):
        attempt = services.block_start(attempt=attempt, now=now)
        attempt = services.block_end(attempt=attempt, now=now)
    return attempt


def test_gradebook_has_a_row_per_examinee_and_a_column_per_attempt(
    instructor_client, exam, assignment, cohort, examinee, other_examinee, t0
):
    authoring.override_set(
        assignment=assignment,
        member=examinee,
        closes_at=None,
        extra_attempts=1,
        extra_block_minutes=0,
        extra_break_minutes=0,
        now=t0,
    )
    finish(start(examinee, exam, t0), t0)
    finish(start(examinee, exam, t0 + timedelta(hours=1)), t0 + timedelta(hours=1))
    url = reverse("teach:gradebook", args=[exam.uuid]) + f"?cohort={cohort.uuid}"
    page = instructor_client.get(url)
    book = page.context["book"]
    rows = {r.username: r for r in book.rows}
    assert set(rows) == {examinee.username, other_examinee.username}
    assert (
        len(rows[examinee.username].attempts) == 2 and rows[other_examinee.username].attempts == []
    )
    assert book.attempt_columns == 2
    assert set(book.subjects) <= {"Medicine", "Surgery"}
    assert b"override: +1 attempt" in page.content

    exported = instructor_client.get(url + "&export=csv")
    assert exported["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.content.decode())))
    assert table[0][:3] == ["Username", "Name", "Attempt 1 score %"]
    assert len(table) == 3

    xlsx = instructor_client.get(url + "&export=xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(1, 1).value == "Username" and sheet.max_row == 3


def test_gradebook_export_keeps_formulas_as_text(exam, cohort, django_user_model):
    from analytics import gradebook

    evil = django_user_model.objects.create_user(
        username="evil", password="x", first_name="=HYPERLINK(1)"
    )
    cohort.members.add(evil)
    header, rows = gradebook.table(gradebook.gradebook(exam=exam, cohort=cohort))
    text = gradebook.to_csv(header, rows)
    assert "'=HYPERLINK(1)" in text
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(gradebook.to_xlsx(header, rows, title="G"))).active
    names = [sheet.cell(r, 2) for r in range(2, sheet.max_row + 1)]
    assert any(c.value == "=HYPERLINK(1)" and c.data_type == "s" for c in names)


def test_wrong_instructor_cannot_read_a_gradebook(client, other_instructor, exam, cohort):
    client.force_login(other_instructor)
    url = reverse("teach:gradebook", args=[exam.uuid])
    assert client.get(url).status_code == 404
    assert client.get(url + "?export=csv").status_code == 404


# Bank export -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv", "moodlexml", "gift", "qti"])
def test_bank_page_exports_in_the_chosen_format_and_it_reimports(instructor_client, bank, fmt):
    from questions.importing import ImportFile
    from questions.services import questions_import

    assert (
        b"Export as"
        in instructor_client.get(reverse("teach:bank_detail", args=[bank.uuid])).content
    )
    response = instructor_client.get(
        reverse("teach:bank_export", args=[bank.uuid]), {"format": fmt}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="course.')
    copy = Bank.objects.create(slug=f"copy-{fmt}", name="Copy")
    name = response["Content-Disposition"].split('"')[1]
    summary = questions_import(
        bank=copy,
        files=[ImportFile(name, response.content)],
        format=fmt,
        skip_unsupported=False,
        now=datetime(2025, 1, 1, tzinfo=UTC),
        dry_run=False,
    )
    assert copy.questions.count() == bank.questions.count() == 6, summary


def test_bank_export_refuses_an_unknown_format_and_another_instructors_bank(
    instructor_client, client, other_instructor, bank
):
    url = reverse("teach:bank_export", args=[bank.uuid])
    response = instructor_client.get(url, {"format": "docx"})
    assert response.status_code == 400 and b"format must be one of" in response.content
    client.force_login(other_instructor)
    assert client.get(url, {"format": "json"}).status_code == 404


def test_a_user_sets_their_own_zone_and_a_bad_name_is_refused(examinee_client, examinee):
    from exams.timezones import user_zone_name

    url = reverse("exams:time_zone")
    assert examinee_client.post(url, {"time_zone": "Mars/Olympus"}).status_code == 400
    assert user_zone_name(examinee) == "UTC"
    assert examinee_client.post(url, {"time_zone": "Asia/Tokyo"}).status_code == 302
    examinee.refresh_from_db()
    assert user_zone_name(examinee) == "Asia/Tokyo"
    assert "in Asia/Tokyo" in examinee_client.get(url).content.decode()


def test_the_cohort_page_shows_windows_in_the_cohorts_zone(instructor_client, cohort, assignment):
    authoring.cohort_update(cohort=cohort, name=cohort.name, time_zone="Australia/Sydney")
    page = instructor_client.get(reverse("teach:cohort_detail", args=[cohort.uuid]))
    local = assignment.closes_at.astimezone(zoneinfo.ZoneInfo("Australia/Sydney"))
    assert f"{local:%H:%M}" in page.content.decode() and b"Australia/Sydney" in page.content
