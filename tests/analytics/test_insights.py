"""Response matrices and their statistics, checked against figures worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics import insights, psychometrics
from questions.models import Bank
from tests.analytics.insights_world import (
    FIXED_CORRECT,
    Builder,
    make_users,
)

pytestmark = pytest.mark.django_db


def by_label(matrix, analysis):
    labels = insights.question_labels(matrix.question_ids)
    return {labels[int(item["id"])]["external_id"]: item for item in analysis["items"]}


def test_fixed_form_matrix_has_one_row_per_attempt_and_one_column_per_item(fixed_form):
    _, exam = fixed_form
    matrix = insights.exam_matrix(exam)
    assert matrix.choices.shape == (5, 4)
    assert matrix.is_complete
    assert matrix.correct_counts.tolist() == [4, 3, 2, 2, 0]
    assert matrix.seen_counts.tolist() == [4, 4, 4, 4, 4]
    assert matrix.choices[4, 3] == insights.OMITTED
    assert matrix.time_ms.tolist() == [240_000] * 5
    np.testing.assert_array_equal(np.nan_to_num(matrix.marks), FIXED_CORRECT)


def test_fixed_form_statistics_match_hand_computation(fixed_form):
    _, exam = fixed_form
    matrix = insights.exam_matrix(exam)
    analysis = insights.analyse(matrix, min_sample=0)
    items = by_label(matrix, analysis)

    assert [items[q]["facility"] for q in ("Q1", "Q2", "Q3", "Q4")] == pytest.approx(
        [0.8, 0.6, 0.4, 0.4]
    )
    # Q1 against the rest of the test (3, 2, 1, 1, 0): cov 0.35, var 0.2 and 1.3.
    assert items["Q1"]["discrimination_index"] == pytest.approx(0.35 / math.sqrt(0.2 * 1.3))
    assert items["Q1"]["discriminative_efficiency"] == pytest.approx(1.0)
    # Q4 against (3, 3, 2, 1, 0): cov 0.1, var 0.3 and 1.7, hence a low-discrimination flag.
    assert items["Q4"]["discrimination_index"] == pytest.approx(0.1 / math.sqrt(0.3 * 1.7))
    assert items["Q4"]["flags"] == [psychometrics.FLAG_LOW_DISCRIMINATION]
    assert items["Q1"]["random_guess_score"] == pytest.approx(0.25)
    assert items["Q1"]["intended_weight"] == pytest.approx(0.25)
    assert items["Q1"]["attempts"] == 5

    test = analysis["test"]
    assert test["attempts"] == 5
    assert test["mean"] == pytest.approx(2.2)
    assert test["median"] == pytest.approx(2.0)
    assert test["sd"] == pytest.approx(math.sqrt(2.2))
    # Item variances 0.2 + 0.3 + 0.3 + 0.3 against a total variance of 2.2.
    assert test["alpha"] == pytest.approx(4 / 3 * (1 - 1.1 / 2.2))
    assert analysis["percent"]["mean"] == pytest.approx(55.0)
    assert analysis["percent"]["sd"] == pytest.approx(100 * math.sqrt(2.2) / 4)


def test_sparse_analysis_reduces_to_moodle_when_every_attempt_saw_every_item(fixed_form):
    _, exam = fixed_form
    matrix = insights.exam_matrix(exam)
    sparse = insights.sparse_item_analysis(matrix)
    exact = psychometrics.item_analysis(
        matrix.marks,
        item_ids=[str(q) for q in matrix.question_ids],
        random_guess=np.full(4, 0.25),
    )
    for mine, moodle in zip(sparse["items"], exact["items"], strict=True):
        for name, value in moodle.items():
            assert mine[name] == pytest.approx(value), name
    for name, value in exact["test"].items():
        assert sparse["test"][name] == pytest.approx(value), name


def test_distractors_count_each_option_and_the_mean_score_of_its_choosers(fixed_form):
    _, exam = fixed_form
    matrix = insights.exam_matrix(exam)
    q4 = insights.distractors(matrix)[matrix.question_ids[3].item()]
    options = {chr(65 + o["option"]): o for o in q4["options"]}
    assert options["D"]["is_key"] and not options["A"]["is_key"]
    assert [options[letter]["count"] for letter in "ABCD"] == [1, 1, 0, 2]
    assert options["D"]["share"] == pytest.approx(0.4)
    assert options["D"]["mean_total"] == pytest.approx((1.0 + 0.5) / 2)
    assert options["A"]["mean_total"] == pytest.approx(0.75)
    assert options["C"]["mean_total"] is None
    assert q4["omitted"]["count"] == 1
    assert q4["omitted"]["mean_total"] == pytest.approx(0.0)
    assert q4["excluded"] == 0


def test_distractors_only_tabulate_the_newest_version(fixed_form, django_user_model):
    build, exam = fixed_form
    question = build.questions["Q1"]
    build.version(question, key=3, number=2)
    (late,) = make_users(django_user_model, ["fay"])
    build.attempt(exam, late, [("closed", [("Q1", 3)])], minutes=30)
    matrix = insights.exam_matrix(exam)
    table = insights.distractors(matrix)[question.id]
    assert table["key"] == 3
    assert sum(o["count"] for o in table["options"]) == 1
    assert table["excluded"] == 5
    # Marking still uses the key of the version each attempt was shown.
    assert matrix.correct_counts.tolist()[-1] == 1


def test_items_in_blocks_not_closed_are_not_delivered(instructor, examinee, t0):
    build = Builder(instructor, t0)
    for i, external_id in enumerate(["Q1", "Q2", "Q3", "Q4"]):
        build.question(external_id, key=i)
    exam = build.exam()
    build.attempt(
        exam,
        examinee,
        [("closed", [("Q1", 0), ("Q2", 0)]), ("active", [("Q3", 2), ("Q4", 3)])],
        finished=False,
    )
    matrix = insights.exam_matrix(exam)
    assert matrix.choices.shape == (1, 2)
    assert set(matrix.question_ids.tolist()) == {build.questions["Q1"].id, build.questions["Q2"].id}
    assert matrix.correct_counts.tolist() == [1]


def test_attempt_with_no_closed_block_is_not_a_row(instructor, examinee, t0):
    build = Builder(instructor, t0)
    build.question("Q1", key=0)
    exam = build.exam()
    build.attempt(exam, examinee, [("active", [("Q1", 0)])], finished=False)
    matrix = insights.exam_matrix(exam)
    assert matrix.choices.shape == (0, 0)
    analysis = insights.analyse(matrix)
    assert analysis["items"] == []
    assert analysis["test"]["attempts"] == 0


# Forms drawn from a pool of three, two items each (keys A):
#   a1: Q1 right, Q2 right   100 %
#   a2: Q1 wrong, Q3 right    50 %
#   a3: Q2 right, Q3 wrong    50 %
#   a4: Q1 right, Q3 right   100 %
DRAWN = {
    "a1": [("Q1", 0), ("Q2", 0)],
    "a2": [("Q1", 1), ("Q3", 0)],
    "a3": [("Q2", 0), ("Q3", 2)],
    "a4": [("Q1", 0), ("Q3", 0)],
}


@pytest.fixture
def drawn_forms(instructor, django_user_model, t0):
    build = Builder(instructor, t0)
    for external_id in ("Q1", "Q2", "Q3"):
        build.question(external_id, key=0)
    exam = build.exam()
    for minute, (user, answers) in enumerate(
        zip(make_users(django_user_model, DRAWN), DRAWN.values(), strict=True)
    ):
        build.attempt(exam, user, [("closed", answers)], minutes=minute)
    return build, exam


def test_drawn_forms_describe_each_item_over_the_attempts_that_saw_it(drawn_forms):
    _, exam = drawn_forms
    matrix = insights.exam_matrix(exam)
    assert not matrix.is_complete
    assert matrix.seen.sum(axis=0).tolist() == [3, 2, 3]
    analysis = insights.analyse(matrix, min_sample=0)
    items = by_label(matrix, analysis)
    assert items["Q1"]["facility"] == pytest.approx(2 / 3)
    assert items["Q2"]["facility"] == pytest.approx(1.0)
    assert items["Q2"]["flags"] == [psychometrics.FLAG_TOO_EASY]
    assert items["Q2"]["attempts"] == 2
    # One item out of a two-item form, whatever the size of the pool.
    assert items["Q3"]["intended_weight"] == pytest.approx(0.5)
    assert analysis["items_per_attempt"] == 2


def test_drawn_forms_test_statistics_are_over_percent_scores(drawn_forms):
    _, exam = drawn_forms
    analysis = insights.analyse(insights.exam_matrix(exam))
    assert analysis["percent"]["mean"] == pytest.approx(75.0)
    assert analysis["percent"]["median"] == pytest.approx(75.0)
    assert analysis["percent"]["sd"] == pytest.approx(100 * math.sqrt(0.25 / 3))
    # Item variances 1/3, 0 and 1/3 weighted by exposure 3, 2, 3: 1/4 a item, 1/2 a form,
    # against a variance of 1/3 for the scores out of two.
    assert analysis["test"]["alpha"] == pytest.approx(2 * (1 - 0.5 / (1 / 3)))


def test_drawn_forms_distractors_count_only_the_attempts_that_saw_the_item(drawn_forms):
    build, exam = drawn_forms
    matrix = insights.exam_matrix(exam)
    q1 = insights.distractors(matrix)[build.questions["Q1"].id]
    options = {chr(65 + o["option"]): o for o in q1["options"]}
    assert [options[letter]["count"] for letter in "ABCD"] == [2, 1, 0, 0]
    assert options["A"]["share"] == pytest.approx(2 / 3)
    assert options["A"]["mean_total"] == pytest.approx(1.0)
    assert options["B"]["mean_total"] == pytest.approx(0.5)
    assert q1["omitted"]["count"] == 0


def test_bank_matrix_scores_whole_attempts_but_describes_only_its_questions(
    instructor, examinee, t0
):
    build = Builder(instructor, t0)
    build.question("Q1", key=0)
    other_bank = Bank.objects.create(slug="renal", name="Renal")
    build.question("R1", key=0, bank=other_bank)
    build.attempt(None, examinee, [("closed", [("Q1", 1), ("R1", 0)])])
    matrix = insights.bank_matrix(build.bank)
    assert matrix.in_scope.tolist() == [
        q == build.questions["Q1"].id for q in matrix.question_ids.tolist()
    ]
    assert matrix.percent_scores.tolist() == [0.5]
    analysis = insights.analyse(matrix)
    assert [int(item["id"]) for item in analysis["items"]] == [build.questions["Q1"].id]
    assert analysis["items"][0]["facility"] == 0.0
    assert list(insights.distractors(matrix)) == [build.questions["Q1"].id]


def test_bank_matrix_leaves_out_attempts_that_never_met_the_bank(instructor, examinee, t0):
    build = Builder(instructor, t0)
    build.question("Q1", key=0)
    other_bank = Bank.objects.create(slug="renal", name="Renal")
    build.question("R1", key=0, bank=other_bank)
    build.attempt(None, examinee, [("closed", [("R1", 0)])])
    assert insights.bank_matrix(build.bank).choices.shape == (0, 0)


def test_cohort_table_uses_members_attempts_on_assigned_exams_only(cohort_history):
    cohort, cardio, surgery = cohort_history
    areas = insights.cohort_area_table(cohort)
    assert [c["name"] for c in areas["columns"]] == ["Surgery", "Cardiovascular"]
    rows = {row["username"]: row for row in areas["rows"]}
    assert [c["percent"] for c in rows["ada"]["cells"]] == [75.0, 25.0]
    assert [c["percent"] for c in rows["ben"]["cells"]] == [None, 50.0]
    cardio_column = areas["columns"][1]
    assert (cardio_column["correct"], cardio_column["total"]) == (3, 8)
    assert [t["name"] for t in areas["weakest"]] == ["Cardiovascular", "Surgery"]


def test_cohort_matrix_holds_members_attempts_on_assigned_exams(cohort_history):
    cohort, _, _ = cohort_history
    matrix = insights.cohort_matrix(cohort)
    assert sorted(matrix.correct_counts.tolist()) == [1, 2]


def test_sort_rows_puts_blanks_last_and_rejects_unknown_keys():
    rows = [{"facility": 0.5}, {"facility": None}, {"facility": 0.9}]
    applied = insights.sort_rows(rows, "-facility", insights.ITEM_SORTS, "item")
    assert applied == "-facility"
    assert [r["facility"] for r in rows] == [0.9, 0.5, None]
    rows = [{"label": "b"}, {"label": "a"}]
    assert insights.sort_rows(rows, "password", insights.ITEM_SORTS, "item") == "item"
    assert [r["label"] for r in rows] == ["a", "b"]


def test_items_seen_by_too_few_attempts_are_not_flagged_but_say_so(fixed_form):
    _, exam = fixed_form
    matrix = insights.exam_matrix(exam)
    items = insights.analyse(matrix)["items"]
    assert {tuple(item["flags"]) for item in items} == {(insights.FLAG_TOO_FEW,)}
    rows = insights.item_rows(matrix, insights.analyse(matrix))
    assert rows[0]["badges"] == [("muted", f"n = {rows[0]['attempts']}: too few to judge")]
    flagged = insights.analyse(matrix, min_sample=len(matrix.attempt_ids))["items"]
    assert any(item["flags"] and item["flags"] != [insights.FLAG_TOO_FEW] for item in flagged)
