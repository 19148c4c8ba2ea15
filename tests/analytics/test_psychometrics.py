"""Item analysis against hand-worked cases, published LSAT values and independent code."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from analytics.psychometrics import (
    FACILITY_TOO_EASY,
    FACILITY_TOO_HARD,
    FLAG_LOW_DISCRIMINATION,
    FLAG_NEGATIVE_DISCRIMINATION,
    FLAG_TOO_EASY,
    FLAG_TOO_HARD,
    LOW_DISCRIMINATION,
    distractor_analysis,
    flags,
    item_analysis,
)

DATA = Path(__file__).resolve().parents[2] / "analytics" / "data"
ITEM_KEYS = {
    "id",
    "facility",
    "sd",
    "random_guess_score",
    "intended_weight",
    "effective_weight",
    "discrimination_index",
    "discriminative_efficiency",
}
TEST_KEYS = {
    "attempts",
    "mean",
    "median",
    "sd",
    "skewness",
    "kurtosis",
    "alpha",
    "error_ratio",
    "standard_error",
}


def load_responses(name: str) -> tuple[list[str], np.ndarray]:
    with open(DATA / name, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0][1:], np.array([[float(v) for v in row[1:]] for row in rows[1:]])


def by_id(result: dict) -> dict[str, dict]:
    return {item["id"]: item for item in result["items"]}


# --- hand-worked case -------------------------------------------------------------------


def test_four_attempts_three_items_match_the_hand_worked_moodle_figures():
    """Four attempts (rows) on three 1-mark items (columns):

        A: 1 1 0   total 2
        B: 1 0 0   total 1
        C: 0 1 1   total 2
        D: 1 1 1   total 3

    Test: mean 2, median (2+2)/2 = 2, deviations 0,-1,0,1 so SS = 2, SD = sqrt(2/3) = 0.8165.
    m2 = 2/4, m3 = 0, m4 = 2/4. k2 = 4·m2/3 = 2/3; skewness = k3/k2^1.5 = 0;
    k4 = 16·(5·0.5 - 3·3·0.25)/(3·2·1) = 2/3, kurtosis = k4/k2² = 1.5.

    Item 1 (1,1,0,1): facility 0.75, deviations .25,.25,-.75,.25, variance .75/3 = .25, SD .5.
      Rest (total minus item) = 1,0,2,2, mean 1.25, deviations -.25,-1.25,.75,.75,
      SS 2.75, variance 2.75/3. Cross products sum to -.75, covariance -.25.
      Discrimination = -.25 / sqrt(.25 · 2.75/3) = -0.52223.
      Sorted deviations paired: (-.75)(-1.25) + .25(-.25) + .25(.75) + .25(.75) = 1.25,
      so efficiency = -.75 / 1.25 = -0.6.  Covariance with the total: 0.
    Item 2 (1,0,1,1): facility .75, SD .5. Rest 1,1,1,2 (variance .25), covariance
      .25/3, discrimination (1/12)/.25 = 1/3. Sorted pairing sum .25 = cross-product sum,
      so efficiency 1.  Covariance with total 1/3.
    Item 3 (0,0,1,1): facility .5, variance 1/3, SD .57735. Rest 2,1,1,2: cross products
      sum to 0, so discrimination 0 and efficiency 0/1 = 0. Covariance with total 1/3.
    Effective weights: sqrt(0), sqrt(1/3), sqrt(1/3) over their sum = 0, .5, .5.
    Alpha: 3/2 · (1 - (.25 + .25 + 1/3)/(2/3)) = 1.5 · (1 - 1.25) = -0.375.
    Error ratio sqrt(1.375) = 1.17260; standard error 1.17260 · 0.81650 = 0.95743.
    """
    marks = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [1, 1, 1]], dtype=float)
    result = item_analysis(marks, item_ids=["q1", "q2", "q3"])

    assert set(result) == {"items", "test"}
    assert all(set(item) == ITEM_KEYS for item in result["items"])
    assert set(result["test"]) == TEST_KEYS
    q1, q2, q3 = result["items"]
    expected = {
        "q1": (0.75, 0.5, -0.52223, -0.6, 0.0),
        "q2": (0.75, 0.5, 1 / 3, 1.0, 0.5),
        "q3": (0.5, 0.57735, 0.0, 0.0, 0.5),
    }
    for item in (q1, q2, q3):
        facility, sd, di, de, ew = expected[item["id"]]
        assert item["facility"] == pytest.approx(facility)
        assert item["sd"] == pytest.approx(sd, abs=1e-5)
        assert item["discrimination_index"] == pytest.approx(di, abs=1e-5)
        assert item["discriminative_efficiency"] == pytest.approx(de, abs=1e-9)
        assert item["effective_weight"] == pytest.approx(ew, abs=1e-9)
        assert item["intended_weight"] == pytest.approx(1 / 3)
        assert item["random_guess_score"] is None

    test = result["test"]
    assert test["attempts"] == 4
    assert test["mean"] == pytest.approx(2.0)
    assert test["median"] == pytest.approx(2.0)
    assert test["sd"] == pytest.approx(0.81650, abs=1e-5)
    assert test["skewness"] == pytest.approx(0.0, abs=1e-12)
    assert test["kurtosis"] == pytest.approx(1.5)
    assert test["alpha"] == pytest.approx(-0.375)
    assert test["error_ratio"] == pytest.approx(1.17260, abs=1e-5)
    assert test["standard_error"] == pytest.approx(0.95743, abs=1e-5)


# --- published and reference values ----------------------------------------------------


def test_lsat6_facilities_mean_and_median_match_the_published_tables():
    """Ender's Stata output: p = 92.4, 70.9, 55.3, 76.3, 87.0 %, overall 76.38 % of 5 marks.
    The published score distribution 3, 20, 85, 237, 357, 298 (scores 0-5) puts the 500th and
    501st of 1,000 attempts at 4 (cumulative 3, 23, 108, 345, 702), so the median is 4."""
    item_ids, marks = load_responses("lsat6_responses.csv")
    result = item_analysis(marks, item_ids=item_ids)

    published = [0.924, 0.709, 0.553, 0.763, 0.870]
    assert [item["facility"] for item in result["items"]] == pytest.approx(published)
    assert result["test"]["attempts"] == 1000
    assert result["test"]["mean"] == pytest.approx(0.7638 * 5)
    assert result["test"]["median"] == 4.0


@pytest.mark.parametrize(
    ("name", "rest_correlations", "alpha", "sd"),
    [
        ("lsat6_responses.csv", [0.1128, 0.1532, 0.1728, 0.1444, 0.1216], 0.2950, 1.0350),
        ("lsat7_responses.csv", [0.2457, 0.2467, 0.3132, 0.2228, 0.1748], 0.4534, 1.1986),
    ],
)
def test_lsat_discrimination_alpha_and_sd_match_the_reference_ctt_tables(
    name, rest_correlations, alpha, sd
):
    """Moodle's discrimination index is the corrected item-total (item-rest) correlation,
    and its coefficient of internal consistency is Cronbach's alpha (KR-20 for 0/1 items)."""
    item_ids, marks = load_responses(name)
    result = item_analysis(marks, item_ids=item_ids)

    found = [item["discrimination_index"] for item in result["items"]]
    assert found == pytest.approx(rest_correlations, abs=5e-5)
    assert result["test"]["alpha"] == pytest.approx(alpha, abs=5e-5)
    assert result["test"]["sd"] == pytest.approx(sd, abs=5e-5)
    assert result["test"]["error_ratio"] == pytest.approx(math.sqrt(1 - alpha), abs=1e-4)
    assert result["test"]["standard_error"] == pytest.approx(math.sqrt(1 - alpha) * sd, abs=1e-4)


def test_skewness_and_kurtosis_equal_scipys_bias_corrected_estimators():
    rng = np.random.default_rng(7)
    marks = (rng.random((257, 12)) < rng.uniform(0.3, 0.9, 12)).astype(float)
    marks[:, :3] *= rng.integers(0, 5, (257, 3)) / 4  # some partial credit
    totals = marks.sum(axis=1)

    test = item_analysis(marks, item_ids=[f"i{j}" for j in range(12)])["test"]

    assert test["skewness"] == pytest.approx(stats.skew(totals, bias=False))
    assert test["kurtosis"] == pytest.approx(stats.kurtosis(totals, fisher=True, bias=False))
    assert test["median"] == pytest.approx(float(np.median(totals)))
    assert test["sd"] == pytest.approx(float(np.std(totals, ddof=1)))


def _moodle_walk(marks: np.ndarray, max_marks: np.ndarray) -> list[dict]:
    """A deliberately plain, attempt-by-attempt re-reading of Moodle's question calculator:
    sums of squared and cross deviations, sorted-array pairing, sqrt-covariance weights."""
    n, k = marks.shape
    scored = [[marks[a][i] * max_marks[i] for i in range(k)] for a in range(n)]
    totals = [sum(row) for row in scored]
    out, roots = [], []
    for i in range(k):
        mine = [scored[a][i] for a in range(n)]
        rest = [totals[a] - scored[a][i] for a in range(n)]
        mean, rest_mean, total_mean = sum(mine) / n, sum(rest) / n, sum(totals) / n
        var = sum((x - mean) ** 2 for x in mine) / (n - 1)
        rest_var = sum((y - rest_mean) ** 2 for y in rest) / (n - 1)
        cov = sum((x - mean) * (y - rest_mean) for x, y in zip(mine, rest, strict=True)) / (n - 1)
        cov_max = sum(
            (x - mean) * (y - rest_mean) for x, y in zip(sorted(mine), sorted(rest), strict=True)
        ) / (n - 1)
        cov_total = sum(
            (x - mean) * (t - total_mean) for x, t in zip(mine, totals, strict=True)
        ) / (n - 1)
        out.append(
            {
                "facility": mean / max_marks[i],
                "sd": math.sqrt(var) / max_marks[i],
                "discrimination_index": cov / math.sqrt(var * rest_var),
                "discriminative_efficiency": cov / cov_max,
                "cov_total": cov_total,
            }
        )
        if cov_total >= 0:
            roots.append(math.sqrt(cov_total))
    for row in out:
        ct = row.pop("cov_total")
        row["effective_weight"] = None if ct < 0 else math.sqrt(ct) / sum(roots)
    return out


def test_vectorised_statistics_agree_with_an_attempt_by_attempt_walk():
    rng = np.random.default_rng(11)
    ability = rng.normal(size=(60, 1))
    marks = (rng.normal(size=(60, 7)) + ability > 0).astype(float)
    marks[:, 6] = rng.integers(0, 4, 60) / 3  # a partial-credit item
    marks[:, 5] = 1 - marks[:, 0]  # runs against the test: negative covariance
    max_marks = np.array([1, 2, 1, 3, 1, 1, 2], dtype=float)

    found = item_analysis(marks, item_ids=list("abcdefg"), max_marks=max_marks)["items"]
    expected = _moodle_walk(marks, max_marks)

    assert found[5]["effective_weight"] is None
    for got, want in zip(found, expected, strict=True):
        for key, value in want.items():
            if value is None:
                assert got[key] is None
            else:
                assert got[key] == pytest.approx(value, abs=1e-10), key


# --- marks, weights and edge cases -----------------------------------------------------


def test_max_marks_put_test_figures_in_marks_and_set_intended_weights():
    marks = np.array([[1, 0.5, 0], [0.5, 1, 1], [0, 0, 1], [1, 1, 0.5], [0.5, 0, 0]])
    ids = ["a", "b", "c"]
    plain = item_analysis(marks, item_ids=ids)
    weighted = item_analysis(marks, item_ids=ids, max_marks=np.array([2.0, 1.0, 1.0]))
    doubled = item_analysis(marks, item_ids=ids, max_marks=np.array([2.0, 2.0, 2.0]))

    assert [i["intended_weight"] for i in weighted["items"]] == pytest.approx([0.5, 0.25, 0.25])
    assert weighted["test"]["mean"] == pytest.approx((marks * [2, 1, 1]).sum(axis=1).mean())
    # Scaling every item alike doubles the marks but leaves every ratio untouched.
    assert doubled["test"]["mean"] == pytest.approx(2 * plain["test"]["mean"])
    assert doubled["test"]["sd"] == pytest.approx(2 * plain["test"]["sd"])
    assert doubled["test"]["standard_error"] == pytest.approx(2 * plain["test"]["standard_error"])
    assert doubled["test"]["alpha"] == pytest.approx(plain["test"]["alpha"])
    for key in ("facility", "sd", "discrimination_index", "effective_weight"):
        assert [i[key] for i in doubled["items"]] == pytest.approx([i[key] for i in plain["items"]])
    # Unequal weights change how much each item counts.
    assert [i["effective_weight"] for i in weighted["items"]] != pytest.approx(
        [i["effective_weight"] for i in plain["items"]]
    )


def test_item_everyone_answers_alike_has_no_discrimination_but_a_zero_weight():
    marks = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 0, 1]], dtype=float)
    item = item_analysis(marks, item_ids=["easy", "b", "c"])["items"][0]

    assert item["facility"] == 1.0
    assert item["sd"] == 0.0
    assert item["discrimination_index"] is None
    assert item["discriminative_efficiency"] is None
    assert item["effective_weight"] == 0.0


def test_one_attempt_gives_none_instead_of_nan():
    result = item_analysis(np.array([[1.0, 0.0]]), item_ids=["a", "b"])

    assert result["items"][0]["facility"] == 1.0
    assert result["items"][0]["sd"] is None
    assert result["items"][0]["discrimination_index"] is None
    assert result["test"] == {
        "attempts": 1,
        "mean": 1.0,
        "median": 1.0,
        "sd": None,
        "skewness": None,
        "kurtosis": None,
        "alpha": None,
        "error_ratio": None,
        "standard_error": None,
    }


def test_no_attempts_gives_only_nones():
    result = item_analysis(np.empty((0, 2)), item_ids=["a", "b"])

    assert result["test"]["attempts"] == 0
    assert all(v is None for k, v in result["test"].items() if k != "attempts")
    assert result["items"][0]["facility"] is None
    assert result["items"][0]["intended_weight"] == 0.5


def test_identical_totals_leave_test_spread_statistics_undefined():
    marks = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=float)
    test = item_analysis(marks, item_ids=["a", "b"])["test"]

    assert test["sd"] == 0.0
    assert test["skewness"] is None
    assert test["kurtosis"] is None
    assert test["alpha"] is None


def test_omitted_items_count_as_zero():
    with_nan = np.array([[1, np.nan], [0, 1], [1, 1], [np.nan, 0]])
    with_zero = np.nan_to_num(with_nan)

    assert item_analysis(with_nan, item_ids=["a", "b"]) == item_analysis(
        with_zero, item_ids=["a", "b"]
    )


def test_random_guess_scores_are_passed_through():
    marks = np.array([[1, 0], [0, 1], [1, 1]], dtype=float)
    items = item_analysis(marks, item_ids=["a", "b"], random_guess=np.array([0.2, np.nan]))["items"]

    assert items[0]["random_guess_score"] == 0.2
    assert items[1]["random_guess_score"] is None


@pytest.mark.parametrize(
    ("marks", "kwargs", "message"),
    [
        (np.array([[1.2, 0.0]]), {}, "between 0 and 1"),
        (np.array([[-0.5, 0.0]]), {}, "between 0 and 1"),
        (np.array([[np.inf, 0.0]]), {}, "infinity"),
        (np.array([[1.0, 0.0]]), {"item_ids": ["only-one"]}, "item ids"),
        (np.array([1.0, 0.0]), {}, "2-D"),
        (np.array([[1.0, 0.0]]), {"max_marks": np.array([1.0])}, "max_marks"),
        (np.array([[1.0, 0.0]]), {"max_marks": np.array([1.0, -1.0])}, "non-negative"),
    ],
)
def test_malformed_input_is_refused(marks, kwargs, message):
    kwargs = {"item_ids": ["a", "b"], **kwargs}
    with pytest.raises(ValueError, match=message):
        item_analysis(marks, **kwargs)


@settings(max_examples=150, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(0, 12), st.integers(1, 6)),
        elements=st.sampled_from([0.0, 0.25, 1 / 3, 0.5, 1.0, np.nan]),
    )
)
def test_any_marks_table_gives_json_safe_bounded_statistics(marks):
    result = item_analysis(marks, item_ids=[f"q{i}" for i in range(marks.shape[1])])

    json.dumps(result, allow_nan=False)  # raises on NaN or infinity
    weights = [i["effective_weight"] for i in result["items"]]
    for item in result["items"]:
        if item["discrimination_index"] is not None:
            assert -1.0 <= item["discrimination_index"] <= 1.0
        if item["discriminative_efficiency"] is not None:
            assert item["discriminative_efficiency"] <= 1.0 + 1e-9
        if item["facility"] is not None:
            assert 0.0 <= item["facility"] <= 1.0
    if weights and all(w is not None for w in weights) and sum(weights) > 0:
        assert sum(weights) == pytest.approx(1.0)
    if result["test"]["alpha"] is not None:
        assert result["test"]["alpha"] <= 1.0 + 1e-9


# --- distractors ------------------------------------------------------------------------


def test_distractor_shares_and_mean_totals_per_option():
    # One item, key C (index 2), four options, six attempts; option D is never chosen.
    choices = np.array([[2], [2], [0], [1], [-1], [2]])
    totals = np.array([90.0, 80.0, 40.0, 50.0, 30.0, 70.0])

    (item,) = distractor_analysis(choices, np.array([2]), totals, [4], item_ids=["q1"])

    assert item["id"] == "q1"
    assert item["key"] == 2
    options = item["options"]
    assert [o["count"] for o in options] == [1, 1, 3, 0]
    assert [o["share"] for o in options] == pytest.approx([1 / 6, 1 / 6, 0.5, 0.0])
    assert [o["mean_total"] for o in options] == [40.0, 50.0, 80.0, None]
    assert [o["is_key"] for o in options] == [False, False, True, False]
    assert item["omitted"] == {"count": 1, "share": pytest.approx(1 / 6), "mean_total": 30.0}


def test_distractor_counts_match_a_plain_count_on_random_data():
    rng = np.random.default_rng(3)
    choices = rng.integers(-1, 5, size=(400, 9))
    keys = rng.integers(0, 5, size=9)
    totals = rng.normal(200, 20, size=400)

    result = distractor_analysis(choices, keys, totals, [5] * 9)

    for i, item in enumerate(result):
        for option in item["options"]:
            chose = choices[:, i] == option["option"]
            assert option["count"] == chose.sum()
            assert option["mean_total"] == pytest.approx(totals[chose].mean())
        assert item["omitted"]["count"] == (choices[:, i] == -1).sum()
        assert sum(o["share"] for o in item["options"]) + item["omitted"]["share"] == (
            pytest.approx(1.0)
        )


def test_option_count_defaults_to_what_was_seen_or_the_key():
    choices = np.array([[0, 1], [1, 1]])
    result = distractor_analysis(choices, np.array([3, 0]), np.array([1.0, 2.0]))

    assert [len(item["options"]) for item in result] == [4, 2]


@pytest.mark.parametrize(
    ("choices", "keys", "n_options", "message"),
    [
        (np.array([[4]]), np.array([0]), [4], "beyond"),
        (np.array([[-2]]), np.array([0]), [4], "omitted"),
        (np.array([[0]]), np.array([4]), [4], "key"),
        (np.array([[0.5]]), np.array([0]), [4], "whole"),
    ],
)
def test_impossible_choices_and_keys_are_refused(choices, keys, n_options, message):
    with pytest.raises(ValueError, match=message):
        distractor_analysis(choices, keys, np.array([1.0]), n_options)


# --- flags ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("discrimination", "facility", "expected"),
    [
        (0.35, 0.6, []),
        (LOW_DISCRIMINATION, 0.6, []),
        (LOW_DISCRIMINATION - 0.01, 0.6, [FLAG_LOW_DISCRIMINATION]),
        (0.0, 0.6, [FLAG_LOW_DISCRIMINATION]),
        (-0.01, 0.6, [FLAG_NEGATIVE_DISCRIMINATION]),
        (0.3, FACILITY_TOO_HARD, []),
        (0.3, FACILITY_TOO_HARD - 0.01, [FLAG_TOO_HARD]),
        (0.3, FACILITY_TOO_EASY, []),
        (0.3, FACILITY_TOO_EASY + 0.01, [FLAG_TOO_EASY]),
        (-0.2, 0.99, [FLAG_NEGATIVE_DISCRIMINATION, FLAG_TOO_EASY]),
        (None, None, []),
    ],
)
def test_flags_mark_items_at_the_documented_thresholds(discrimination, facility, expected):
    assert flags({"discrimination_index": discrimination, "facility": facility}) == expected


def test_flags_read_item_analysis_rows():
    marks = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [1, 1, 1]], dtype=float)
    rows = by_id(item_analysis(marks, item_ids=["q1", "q2", "q3"]))

    assert flags(rows["q1"]) == [FLAG_NEGATIVE_DISCRIMINATION]
    assert flags(rows["q2"]) == []
    assert flags(rows["q3"]) == [FLAG_LOW_DISCRIMINATION]
