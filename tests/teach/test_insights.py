"""The instructor analytics pages: numbers, CSV exports, permissions and query counts."""

from __future__ import annotations

import csv
import io
import math
from datetime import timedelta

import numpy as np
import pytest
from django.urls import reverse

from analytics import psychometrics
from exams.models import Cohort
from tests.analytics.insights_world import (
    FIXED_CHOICES,
    FIXED_CORRECT,
    Builder,
    make_users,
)

pytestmark = pytest.mark.django_db


def exam_urls(exam):
    return [
        reverse("teach:exam_stats", args=[exam.uuid]),
        reverse("teach:exam_items_csv", args=[exam.uuid]),
        reverse("teach:exam_attempts_csv", args=[exam.uuid]),
        reverse("teach:exam_items_xlsx", args=[exam.uuid]),
        reverse("teach:exam_attempts_xlsx", args=[exam.uuid]),
    ]


@pytest.fixture
def every_url(fixed_form, instructor):
    build, exam = fixed_form
    cohort = Cohort.objects.create(owner=instructor, name="Spring")
    return [
        *exam_urls(exam),
        reverse("teach:bank_stats", args=[build.bank.uuid]),
        reverse("teach:cohort_stats", args=[cohort.uuid]),
        reverse("teach:bank_items_csv", args=[build.bank.uuid]),
        reverse("teach:bank_items_xlsx", args=[build.bank.uuid]),
        reverse("teach:cohort_items_csv", args=[cohort.uuid]),
        reverse("teach:cohort_items_xlsx", args=[cohort.uuid]),
    ]


def test_anonymous_visitors_are_sent_to_login(client, every_url):
    for url in every_url:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


def test_examinees_are_refused(examinee_client, every_url):
    for url in every_url:
        assert examinee_client.get(url).status_code == 403, url


def test_other_instructors_get_not_found(client, other_instructor, every_url):
    client.force_login(other_instructor)
    for url in every_url:
        assert client.get(url).status_code == 404, url


def test_owner_can_read_every_page(instructor_client, every_url):
    for url in every_url:
        assert instructor_client.get(url).status_code == 200, url


def test_pages_only_answer_get(instructor_client, every_url):
    for url in every_url:
        assert instructor_client.post(url).status_code == 405, url


def test_unknown_uuid_is_not_found(instructor_client, fixed_form):
    _, exam = fixed_form
    url = reverse("teach:exam_stats", args=["00000000-0000-0000-0000-000000000000"])
    assert instructor_client.get(url).status_code == 404


def test_exam_page_shows_psychometrics_figures_for_the_same_data(
    instructor_client,
    fixed_form,
):
    _, exam = fixed_form
    response = instructor_client.get(reverse("teach:exam_stats", args=[exam.uuid]))
    expected = psychometrics.item_analysis(
        FIXED_CORRECT, item_ids=["Q1", "Q2", "Q3", "Q4"], random_guess=np.full(4, 0.25)
    )
    shown = {item["label"].split("/")[-1]: item for item in response.context["items"]}
    for moodle in expected["items"]:
        for name, value in moodle.items():
            if name != "id":
                assert shown[moodle["id"]][name] == pytest.approx(value), (moodle["id"], name)
    assert response.context["analysis"]["test"] == pytest.approx(expected["test"])
    body = response.content.decode()
    # Q4's discrimination, 0.1 / sqrt(0.3 × 1.7), as a percentage in the table.
    assert f"{100 * 0.1 / math.sqrt(0.51):.1f}" in body
    # Five attempts are too few to flag anything: the flag says so and names n.
    assert "Low discrimination" not in body
    assert "n = 5: too few to judge" in body
    assert "55.00 %" in body  # mean score
    assert "<svg" in body and 'role="img"' in body
    assert "<details" in body and "key</span>" in body
    assert "style=" not in body and "<script>" not in body


def test_item_column_shows_the_stem_and_links_to_the_question(instructor_client, fixed_form):
    from questions.models import Question
    from questions.text import plain_text

    _, exam = fixed_form
    response = instructor_client.get(reverse("teach:exam_stats", args=[exam.uuid]))
    body = response.content.decode()
    question = Question.objects.get(uuid=response.context["items"][0]["uuid"])
    stem = plain_text(question.current_version.stem_html, limit=90)
    link = reverse("teach:question_detail", args=[question.uuid])
    assert f'<a href="{link}">{stem}</a>' in body


def test_distractor_tables_show_option_text_and_their_denominator(instructor_client, fixed_form):
    from questions.models import Question
    from questions.text import plain_text

    _, exam = fixed_form
    response = instructor_client.get(reverse("teach:exam_stats", args=[exam.uuid]))
    version = Question.objects.get(uuid=response.context["items"][0]["uuid"]).current_version
    first_option = plain_text(version.options[0]["text"], limit=120)
    assert f"A. {first_option}" in response.content.decode()
    assert "Share of 5 who saw this version" in response.content.decode()


def test_exam_page_sorts_items_on_request(instructor_client, fixed_form):
    _, exam = fixed_form
    url = reverse("teach:exam_stats", args=[exam.uuid])
    response = instructor_client.get(url, {"sort": "-facility"})
    facilities = [item["facility"] for item in response.context["items"]]
    assert facilities == sorted(facilities, reverse=True)
    assert response.context["item_sorts"]["facility"]["state"] == "descending"
    response = instructor_client.get(url, {"asort": "-percent"})
    percents = [row["percent"] for row in response.context["attempts"]]
    assert percents == [100.0, 75.0, 50.0, 50.0, 0.0]


def read_csv(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_items_csv_lists_every_item_with_its_statistics(
    instructor_client,
    fixed_form,
):
    _, exam = fixed_form
    response = instructor_client.get(reverse("teach:exam_items_csv", args=[exam.uuid]))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="form-a-items.csv"'
    header, *rows = read_csv(response)
    assert header[:4] == ["item", "question_uuid", "attempts", "facility_pct"]
    assert [row[0] for row in rows] == ["cardio/Q1", "cardio/Q2", "cardio/Q3", "cardio/Q4"]
    assert [row[3] for row in rows] == ["80.00", "60.00", "40.00", "40.00"]
    assert rows[3][header.index("discrimination_index_pct")] == f"{100 * 0.1 / math.sqrt(0.51):.2f}"
    assert rows[3][-1] == "too_few"  # n = 5 is below the minimum sample for a flag


def test_attempts_csv_has_one_row_per_attempt(instructor_client, fixed_form):
    _, exam = fixed_form
    response = instructor_client.get(reverse("teach:exam_attempts_csv", args=[exam.uuid]))
    assert response["Content-Disposition"] == 'attachment; filename="form-a-attempts.csv"'
    header, *rows = read_csv(response)
    assert header == [
        "examinee",
        "username",
        "started_at",
        "finished_at",
        "correct",
        "items",
        "percent",
        "minutes",
    ]
    assert [row[1] for row in rows] == list(FIXED_CHOICES)
    assert [row[4] for row in rows] == ["4", "3", "2", "2", "0"]
    assert [row[6] for row in rows] == ["100.00", "75.00", "50.00", "50.00", "0.00"]
    assert rows[0][7] == "4.0"


def test_csv_cells_cannot_start_a_spreadsheet_formula(
    instructor_client, instructor, django_user_model, t0
):
    build = Builder(instructor, t0)
    build.question("=HYPERLINK(1)", key=0)
    exam = build.exam()
    user = django_user_model.objects.create_user(
        username="mallory", password="x", first_name="=cmd|"
    )
    build.attempt(exam, user, [("closed", [("=HYPERLINK(1)", 0)])])
    _, row = read_csv(instructor_client.get(reverse("teach:exam_attempts_csv", args=[exam.uuid])))
    assert row[0] == "'=cmd|"
    _, row = read_csv(instructor_client.get(reverse("teach:exam_items_csv", args=[exam.uuid])))
    assert row[0] == "cardio/=HYPERLINK(1)"


def read_xlsx(response):
    from openpyxl import load_workbook

    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def test_item_and_attempt_tables_download_as_xlsx_with_the_csvs_rows(instructor_client, fixed_form):
    _, exam = fixed_form
    for table in ("items", "attempts"):
        as_csv = read_csv(
            instructor_client.get(reverse(f"teach:exam_{table}_csv", args=[exam.uuid]))
        )
        response = instructor_client.get(reverse(f"teach:exam_{table}_xlsx", args=[exam.uuid]))
        assert response["Content-Disposition"] == f'attachment; filename="form-a-{table}.xlsx"'
        as_xlsx = read_xlsx(response)
        assert [[str(v) for v in row] for row in as_xlsx] == as_csv


def test_bank_and_cohort_item_tables_export_every_item(instructor_client, fixed_form, instructor):
    build, exam = fixed_form
    exam_rows = read_csv(instructor_client.get(reverse("teach:exam_items_csv", args=[exam.uuid])))
    bank_csv = instructor_client.get(reverse("teach:bank_items_csv", args=[build.bank.uuid]))
    assert bank_csv["Content-Disposition"].endswith('-items.csv"')
    header, *rows = read_csv(bank_csv)
    assert header == exam_rows[0]
    assert [row[0] for row in rows] == ["cardio/Q1", "cardio/Q2", "cardio/Q3", "cardio/Q4"]
    bank_xlsx = read_xlsx(
        instructor_client.get(reverse("teach:bank_items_xlsx", args=[build.bank.uuid]))
    )
    assert [row[0] for row in bank_xlsx[1:]] == [row[0] for row in rows]
    cohort = Cohort.objects.create(owner=instructor, name="Empty")
    header, *rows = read_csv(
        instructor_client.get(reverse("teach:cohort_items_csv", args=[cohort.uuid]))
    )
    assert header == exam_rows[0] and rows == []


def test_xlsx_cells_that_look_like_formulas_stay_text(
    instructor_client, instructor, django_user_model, t0
):
    build = Builder(instructor, t0)
    build.question("=HYPERLINK(1)", key=0)
    exam = build.exam()
    user = django_user_model.objects.create_user(
        username="mallory", password="x", first_name="=cmd|"
    )
    build.attempt(exam, user, [("closed", [("=HYPERLINK(1)", 0)])])
    from openpyxl import load_workbook

    response = instructor_client.get(reverse("teach:exam_attempts_xlsx", args=[exam.uuid]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    cell = sheet.cell(row=2, column=1)
    assert cell.data_type == "s"
    assert str(cell.value).endswith("=cmd|")


def test_bank_page_lists_the_banks_items(instructor_client, fixed_form):
    build, _ = fixed_form
    response = instructor_client.get(reverse("teach:bank_stats", args=[build.bank.uuid]))
    assert [item["label"] for item in response.context["items"]] == [
        "cardio/Q1",
        "cardio/Q2",
        "cardio/Q3",
        "cardio/Q4",
    ]
    assert response.context["items"][0]["facility"] == pytest.approx(0.8)


def test_cohort_page_shows_members_by_area_and_weakest_first(
    instructor_client,
    cohort_history,
):
    cohort, _, _ = cohort_history
    response = instructor_client.get(reverse("teach:cohort_stats", args=[cohort.uuid]))
    body = response.content.decode()
    assert "Cardiovascular" in body and "Surgery" in body
    assert body.index("Cardiovascular") < body.index("Surgery")
    assert "37.5 % correct" in body  # 3 of 8 across the two members
    assert "zed" not in body.lower()
    # The members' two attempts on the assigned exam: Q1 right twice, Q2 right once.
    facilities = {item["label"]: item["facility"] for item in response.context["items"]}
    assert facilities == {"cardio/Q1": 1.0, "cardio/Q2": 0.5}
    assert response.context["analysis"]["test"]["attempts"] == 2


def grow_exam(build, exam, django_user_model, count, prefix):
    users = make_users(django_user_model, [f"{prefix}{i}" for i in range(count)])
    for i, user in enumerate(users):
        answers = [(q, (i + j) % 4) for j, q in enumerate(["Q1", "Q2", "Q3", "Q4"])]
        build.attempt(exam, user, [("closed", answers)], minutes=60 + i)


@pytest.mark.parametrize("extra", [0, 12])
def test_exam_page_queries_do_not_grow_with_attempts(
    instructor_client,
    fixed_form,
    django_user_model,
    django_assert_max_num_queries,
    extra,
):
    build, exam = fixed_form
    grow_exam(build, exam, django_user_model, extra, "x")
    # Session, user, exam, the responses, their versions, question labels, attempt details.
    with django_assert_max_num_queries(7):
        response = instructor_client.get(reverse("teach:exam_stats", args=[exam.uuid]))
    assert len(response.context["attempts"]) == 5 + extra


@pytest.mark.parametrize("extra", [0, 12])
def test_bank_and_cohort_queries_do_not_grow_with_attempts(
    instructor_client,
    instructor,
    fixed_form,
    django_user_model,
    django_assert_max_num_queries,
    extra,
    t0,
):
    build, exam = fixed_form
    grow_exam(build, exam, django_user_model, extra, "y")
    cohort = Cohort.objects.create(owner=instructor, name="All")
    cohort.members.set(django_user_model.objects.filter(role="examinee"))
    cohort.assignments.create(exam=exam, opens_at=t0, closes_at=t0 + timedelta(days=1))
    # Session, user, bank, responses, versions, the bank's question ids, question labels.
    with django_assert_max_num_queries(7):
        instructor_client.get(reverse("teach:bank_stats", args=[build.bank.uuid]))
    # Session, user, cohort, responses, versions, labels, its members and the tag tallies.
    with django_assert_max_num_queries(8):
        response = instructor_client.get(reverse("teach:cohort_stats", args=[cohort.uuid]))
    assert len(response.context["areas"]["rows"]) == 5 + extra
