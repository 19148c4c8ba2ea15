"""Predicted Step 2 CK score: calibration against published fits and simulated cohorts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from analytics.prediction import (
    MIN_ITEMS,
    PASSING_SCORE,
    SCALE_MEAN,
    SCALE_SD,
    ItemParams,
    calibrate_items,
    difficulties_from_p_values,
    predict_score,
)

DATA = Path(__file__).resolve().parents[2] / "analytics" / "data"


def simulate(
    rng: np.random.Generator, theta: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    p = 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    return (rng.random(p.shape) < p).astype(float)


def coverage(
    rng: np.random.Generator, params: ItemParams | None, a: np.ndarray, b: np.ndarray, n: int
) -> tuple[float, int]:
    """Share of fresh simulated examinees whose true scaled score lies in the 95% interval."""
    theta = rng.normal(size=n)
    answers = simulate(rng, theta, a, b)
    est_b = b if params is None else params.difficulties
    est_a = a if params is None else params.discriminations
    hits = shown = 0
    for row, true_theta in zip(answers, theta, strict=True):
        prediction = predict_score(correct=row, difficulties=est_b, discriminations=est_a)
        if prediction.is_shown:
            shown += 1
            hits += prediction.low <= SCALE_MEAN + SCALE_SD * true_theta <= prediction.high
    return hits / shown, shown


# --- calibration ------------------------------------------------------------------------


def test_2pl_calibration_of_lsat6_matches_the_published_ltm_fit():
    """ltm's marginal-ML 2PL fit of LSAT6 (logistic metric, θ ~ N(0, 1)), see the data README."""
    with open(DATA / "lsat6_responses.csv", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    responses = np.array([[float(v) for v in row[1:]] for row in rows])

    params = calibrate_items(responses)

    assert params.converged
    assert params.difficulties == pytest.approx(
        [-3.3597341, -1.3696497, -0.2798983, -1.8659189, -3.1235725], abs=0.01
    )
    assert params.discriminations == pytest.approx(
        [0.8253715, 0.7229499, 0.8904748, 0.6885502, 0.6574516], abs=0.005
    )
    assert list(params.n) == [1000] * 5


def test_2pl_calibration_recovers_known_parameters_when_items_are_missing_at_random():
    rng = np.random.default_rng(20260601)
    a = rng.uniform(0.6, 1.8, 60)
    b = rng.normal(0, 1, 60)
    responses = simulate(rng, rng.normal(size=4000), a, b)
    responses[rng.random(responses.shape) < 0.3] = np.nan  # each form shows 70% of the bank

    params = calibrate_items(responses)

    assert params.converged
    assert np.corrcoef(params.difficulties, b)[0, 1] > 0.99
    assert np.corrcoef(params.discriminations, a)[0, 1] > 0.9
    assert np.sqrt(np.mean((params.difficulties - b) ** 2)) < 0.12
    assert np.sqrt(np.mean((params.discriminations - a) ** 2)) < 0.12


def test_rasch_calibration_shares_one_discrimination_equal_to_the_ability_spread():
    """A Rasch cohort whose abilities have SD 1.4 is, on an N(0, 1) ability scale, a model
    with a common discrimination of 1.4 and difficulties b / 1.4."""
    rng = np.random.default_rng(5)
    b = np.linspace(-2, 2, 30)
    responses = simulate(rng, rng.normal(0, 1.4, 5000), np.ones(30), b)

    params = calibrate_items(responses, model="rasch")

    assert np.ptp(params.discriminations) == 0
    assert params.discriminations[0] == pytest.approx(1.4, abs=0.07)
    assert params.difficulties == pytest.approx(b / 1.4, abs=0.12)


def test_items_without_enough_or_varied_responses_stay_uncalibrated():
    rng = np.random.default_rng(8)
    responses = simulate(rng, rng.normal(size=500), np.ones(5), np.zeros(5))
    responses[:, 0] = 1.0  # everyone right
    responses[:, 1] = 0.0  # everyone wrong
    responses[10:, 2] = np.nan  # seen by only 10

    params = calibrate_items(responses, min_responses=30)

    assert np.isnan(params.difficulties[:3]).all()
    assert np.isnan(params.discriminations[:3]).all()
    assert np.isfinite(params.difficulties[3:]).all()
    assert list(params.n) == [500, 500, 10, 500, 500]


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        (np.array([[1.0, 2.0]]), "1, 0 or NaN"),
        (np.array([1.0, 0.0]), "2-D"),
    ],
)
def test_calibration_refuses_malformed_responses(responses, message):
    with pytest.raises(ValueError, match=message):
        calibrate_items(responses)


def test_p_value_difficulties_approximate_rasch_difficulties():
    rng = np.random.default_rng(13)
    b = np.linspace(-2.5, 2.5, 21)
    responses = simulate(rng, rng.normal(size=20000), np.ones(21), b)
    p, n = responses.mean(axis=0), np.full(21, 20000)

    approx = difficulties_from_p_values(p, n)

    assert np.max(np.abs(approx - b)) < 0.15
    assert np.all(np.diff(approx) > 0)  # fewer correct answers, harder item


def test_p_value_difficulties_are_finite_at_the_extremes_and_nan_when_unseen():
    approx = difficulties_from_p_values(
        np.array([0.0, 1.0, 0.5, 0.5, np.nan]), np.array([100, 100, 5, 0, 100]), min_n=20
    )

    assert np.isfinite(approx[:2]).all()
    assert approx[0] > 0 > approx[1]
    assert np.isnan(approx[2:]).all()


# --- prediction ---------------------------------------------------------------------------


def test_95_percent_interval_covers_the_true_score_in_92_to_98_percent_with_known_items():
    rng = np.random.default_rng(2718)
    a = rng.uniform(0.6, 1.6, 80)
    b = rng.normal(0, 1, 80)

    rate, shown = coverage(rng, None, a, b, 2000)

    assert shown == 2000
    assert 0.92 <= rate <= 0.98


def test_95_percent_interval_keeps_its_coverage_with_items_calibrated_from_a_cohort():
    rng = np.random.default_rng(31415)
    a = rng.uniform(0.6, 1.6, 100)
    b = rng.normal(0, 1, 100)
    cohort = simulate(rng, rng.normal(size=3000), a, b)
    cohort[rng.random(cohort.shape) < 0.25] = np.nan

    params = calibrate_items(cohort)
    rate, shown = coverage(rng, params, a, b, 2000)

    assert shown == 2000
    assert 0.92 <= rate <= 0.98


def test_too_few_calibrated_answers_are_not_shown_and_say_why():
    difficulties = np.zeros(60)
    difficulties[30:] = np.nan  # half the bank is not calibrated yet
    correct = np.ones(60)

    prediction = predict_score(correct=correct, difficulties=difficulties, min_items=40)

    assert not prediction.is_shown
    assert prediction.n_items == 30
    assert prediction.score is None and prediction.p_pass is None
    assert "30" in prediction.reason and "40" in prediction.reason


def test_unanswered_items_do_not_count_toward_the_minimum():
    correct = np.full(MIN_ITEMS + 10, np.nan)
    correct[: MIN_ITEMS - 1] = 1.0

    prediction = predict_score(correct=correct, difficulties=np.zeros(MIN_ITEMS + 10))

    assert not prediction.is_shown
    assert prediction.n_items == MIN_ITEMS - 1


def test_an_estimate_too_uncertain_is_not_shown():
    prediction = predict_score(
        correct=np.tile([1.0, 0.0], 25),
        difficulties=np.zeros(50),
        discriminations=np.full(50, 0.2),  # items that barely measure anything
    )

    assert not prediction.is_shown
    assert "uncertain" in prediction.reason


def test_more_correct_answers_give_a_higher_predicted_score():
    rng = np.random.default_rng(99)
    b = rng.normal(0, 1, 120)
    a = rng.uniform(0.7, 1.5, 120)
    order = rng.permutation(120)

    scores = []
    for k in range(0, 121, 10):
        correct = np.zeros(120)
        correct[order[:k]] = 1.0
        prediction = predict_score(correct=correct, difficulties=b, discriminations=a)
        assert prediction.is_shown
        scores.append(prediction.score)

    assert all(later > earlier for earlier, later in zip(scores, scores[1:], strict=False))


def test_interval_and_pass_probability_follow_the_standard_error():
    rng = np.random.default_rng(4)
    b = rng.normal(0, 1, 100)
    correct = (rng.random(100) < 0.6).astype(float)

    wide = predict_score(correct=correct, difficulties=b, level=0.95)
    narrow = predict_score(correct=correct, difficulties=b, level=0.80)

    assert wide.score == narrow.score
    assert wide.high - wide.low == pytest.approx(2 * norm.ppf(0.975) * wide.se)
    assert narrow.high - narrow.low == pytest.approx(2 * norm.ppf(0.90) * wide.se)
    assert wide.p_pass == pytest.approx(norm.cdf((wide.score - PASSING_SCORE) / wide.se))
    assert wide.se == pytest.approx(SCALE_SD * wide.theta_se)
    assert wide.score == pytest.approx(SCALE_MEAN + SCALE_SD * wide.theta)


def test_pass_probability_is_high_for_strong_and_low_for_weak_examinees():
    b = np.linspace(-2, 2, 200)
    strong = predict_score(correct=(b < 1.5).astype(float), difficulties=b)
    weak = predict_score(correct=(b < -1.8).astype(float), difficulties=b)

    assert strong.score > PASSING_SCORE and strong.p_pass > 0.99
    assert weak.score < PASSING_SCORE and weak.p_pass < 0.01


def test_prediction_refuses_misaligned_or_non_binary_answers():
    with pytest.raises(ValueError, match="aligned"):
        predict_score(correct=np.ones(3), difficulties=np.zeros(4))
    with pytest.raises(ValueError, match="1, 0 or NaN"):
        predict_score(correct=np.array([0.5]), difficulties=np.zeros(1))
    with pytest.raises(ValueError, match="level"):
        predict_score(correct=np.ones(1), difficulties=np.zeros(1), level=1.0)
