"""Classical item analysis with the definitions of Moodle's quiz statistics report.

Everything here is pure NumPy over an attempts × items matrix, so the same code serves the
instructor views, the Celery tasks and the ``itemstats`` command. The formulas follow Moodle's
"Quiz statistics calculations" (``question/classes/statistics/questions/calculator.php`` and
``mod/quiz/report/statistics/classes/calculator.php``); docs/psychometrics.md restates each one.
Where Moodle reports a percentage we return a fraction. A value that is undefined for the data
(no variance, too few attempts, ...) is ``None``, never NaN or infinity, so results serialise
to JSON as they are.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Thresholds used by flags(); documented in docs/psychometrics.md.
LOW_DISCRIMINATION = 0.2
FACILITY_TOO_HARD = 0.2
FACILITY_TOO_EASY = 0.95

FLAG_NEGATIVE_DISCRIMINATION = "negative_discrimination"
FLAG_LOW_DISCRIMINATION = "low_discrimination"
FLAG_TOO_HARD = "too_hard"
FLAG_TOO_EASY = "too_easy"

# Marks are fractions of an item's maximum; allow for the rounding of stored decimals.
_RANGE_TOLERANCE = 1e-9
# A variance below this share of the squared test maximum is rounding noise, not spread.
_ZERO_VARIANCE = 1e-20


def _num(value: float | np.floating | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _check_marks(marks: np.ndarray, item_ids: list[str]) -> np.ndarray:
    marks = np.asarray(marks, dtype=float)
    if marks.ndim != 2:
        raise ValueError(f"marks must be a 2-D attempts × items array, got {marks.ndim} dimensions")
    if marks.shape[1] != len(item_ids):
        raise ValueError(f"{marks.shape[1]} item columns but {len(item_ids)} item ids")
    if np.isinf(marks).any():
        raise ValueError("marks contain infinity")
    # An omitted item scores zero, as in Moodle's report.
    marks = np.nan_to_num(marks, nan=0.0)
    if marks.size and (marks.min() < -_RANGE_TOLERANCE or marks.max() > 1 + _RANGE_TOLERANCE):
        raise ValueError("marks must be fractions between 0 and 1")
    return np.clip(marks, 0.0, 1.0)


def item_analysis(
    marks: np.ndarray,
    *,
    item_ids: list[str],
    max_marks: np.ndarray | None = None,
    random_guess: np.ndarray | None = None,
) -> dict[str, Any]:
    """Moodle's per-item and whole-test statistics for one set of attempts.

    ``marks[a, i]`` is the fraction (0..1) of item ``i``'s maximum that attempt ``a`` scored;
    NaN means omitted and counts 0. ``max_marks`` gives each item's maximum (1 each if None),
    so test figures are in marks out of ``max_marks.sum()``. ``random_guess`` is the expected
    fraction from blind guessing (e.g. 1/5 for five options), passed through for display.
    """
    fractions = _check_marks(marks, item_ids)
    n, k = fractions.shape
    weights = np.ones(k) if max_marks is None else np.asarray(max_marks, dtype=float)
    if weights.shape != (k,):
        raise ValueError(f"max_marks must have one value per item ({k})")
    if (weights < 0).any() or not np.isfinite(weights).all():
        raise ValueError("max_marks must be finite and non-negative")
    if random_guess is not None:
        random_guess = np.asarray(random_guess, dtype=float)
        if random_guess.shape != (k,):
            raise ValueError(f"random_guess must have one value per item ({k})")
    test_max = float(weights.sum())
    zero = _ZERO_VARIANCE * max(test_max, 1.0) ** 2

    item_marks = fractions * weights  # attempts × items, in marks
    totals = item_marks.sum(axis=1)
    rest = totals[:, None] - item_marks  # the test score without each item

    facility = item_marks.mean(axis=0) / np.where(weights > 0, weights, np.nan) if n else None
    stats: dict[str, np.ndarray] = {}
    if n > 1:
        dev = item_marks - item_marks.mean(axis=0)
        rest_dev = rest - rest.mean(axis=0)
        total_dev = totals - totals.mean()
        # A column that never varies must have exactly zero spread, whatever the rounding.
        constant = item_marks.max(axis=0) == item_marks.min(axis=0)
        dev[:, constant] = 0.0
        var = (dev**2).sum(axis=0) / (n - 1)
        rest_var = (rest_dev**2).sum(axis=0) / (n - 1)
        cov_rest = np.einsum("ai,ai->i", dev, rest_dev) / (n - 1)
        cov_total = total_dev @ dev / (n - 1)
        # Largest covariance the two marginal distributions allow: pair them in sorted order.
        cov_max = np.einsum("ia,ia->i", np.sort(dev.T, axis=1), np.sort(rest_dev.T, axis=1)) / (
            n - 1
        )
        spread = (var > zero) & (rest_var > zero)
        with np.errstate(divide="ignore", invalid="ignore"):
            discrimination = np.where(
                spread, np.clip(cov_rest / np.sqrt(var * rest_var), -1.0, 1.0), np.nan
            )
            efficiency = np.where(spread & (cov_max > 0), cov_rest / cov_max, np.nan)
        cov_total[np.abs(cov_total) <= zero] = 0.0
        negative = cov_total < 0
        root_sum = np.sqrt(cov_total[~negative]).sum()
        if root_sum > 0:
            effective = np.where(negative, np.nan, np.sqrt(np.clip(cov_total, 0, None)) / root_sum)
        else:
            effective = np.full(k, np.nan)
        stats = {
            "sd": np.sqrt(var) / np.where(weights > 0, weights, np.nan),
            "discrimination": discrimination,
            "efficiency": efficiency,
            "effective": effective,
            "variance": var,
        }

    items = []
    for i, item_id in enumerate(item_ids):
        items.append(
            {
                "id": item_id,
                "facility": _num(facility[i]) if facility is not None else None,
                "sd": _num(stats["sd"][i]) if stats else None,
                "random_guess_score": (_num(random_guess[i]) if random_guess is not None else None),
                "intended_weight": _num(weights[i] / test_max) if test_max > 0 else None,
                "effective_weight": _num(stats["effective"][i]) if stats else None,
                "discrimination_index": _num(stats["discrimination"][i]) if stats else None,
                "discriminative_efficiency": _num(stats["efficiency"][i]) if stats else None,
            }
        )
    item_variance_sum = float(stats["variance"].sum()) if stats else 0.0
    return {"items": items, "test": total_score_statistics(totals, k, item_variance_sum, zero)}


def total_score_statistics(
    totals: np.ndarray, k: int, item_variance_sum: float, zero: float
) -> dict:
    n = len(totals)
    result: dict[str, Any] = dict.fromkeys(
        ("mean", "median", "sd", "skewness", "kurtosis", "alpha", "error_ratio", "standard_error")
    )
    result = {"attempts": n, **result}
    if n == 0:
        return result
    mean = totals.mean()
    result["mean"] = _num(mean)
    result["median"] = _num(np.median(totals))
    if n < 2:
        return result
    dev = totals - mean
    power2 = float(dev @ dev)
    result["sd"] = _num(math.sqrt(power2 / (n - 1)))
    # Moodle reports skewness, kurtosis and alpha only from three attempts up.
    if n < 3:
        return result
    m2, m3, m4 = power2 / n, float((dev**3).sum()) / n, float((dev**4).sum()) / n
    k2 = n * m2 / (n - 1)
    if k2 <= zero:
        return result
    k3 = n * n * m3 / ((n - 1) * (n - 2))
    result["skewness"] = _num(k3 / k2**1.5)
    if n > 3:
        k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2) / ((n - 1) * (n - 2) * (n - 3))
        result["kurtosis"] = _num(k4 / (k2 * k2))
    if k > 1:
        alpha = k / (k - 1) * (1 - item_variance_sum / k2)
        error_ratio = math.sqrt(max(0.0, 1 - alpha))
        result["alpha"] = _num(alpha)
        result["error_ratio"] = _num(error_ratio)
        result["standard_error"] = _num(error_ratio * result["sd"])
    return result


def distractor_analysis(
    choices: np.ndarray,
    keys: np.ndarray,
    totals: np.ndarray,
    n_options: list[int] | None = None,
    *,
    item_ids: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Who chose each option of each item, and how well those examinees did overall.

    ``choices[a, i]`` is the option index attempt ``a`` chose on item ``i`` (-1 = omitted),
    ``keys[i]`` the correct option and ``totals[a]`` the attempt's test score. A working
    distractor draws examinees whose mean total is below that of the key's choosers.
    """
    choices = np.asarray(choices)
    if choices.ndim != 2:
        raise ValueError("choices must be a 2-D attempts × items array")
    if (
        choices.size
        and not np.issubdtype(choices.dtype, np.integer)
        and not np.array_equal(choices, np.round(choices))
    ):
        raise ValueError("choices must be whole option indexes")
    choices = choices.astype(np.int64)
    n, k = choices.shape
    keys = np.asarray(keys, dtype=np.int64)
    totals = np.asarray(totals, dtype=float)
    if keys.shape != (k,):
        raise ValueError(f"keys must have one value per item ({k})")
    if totals.shape != (n,):
        raise ValueError(f"totals must have one value per attempt ({n})")
    if item_ids is not None and len(item_ids) != k:
        raise ValueError(f"item_ids must have one value per item ({k})")
    if choices.size and choices.min() < -1:
        raise ValueError("choices must be -1 (omitted) or an option index")
    if n_options is None:
        seen = choices.max(axis=0) + 1 if n else np.zeros(k, dtype=np.int64)
        options = np.maximum(seen, keys + 1)
    else:
        options = np.asarray(n_options, dtype=np.int64)
        if options.shape != (k,):
            raise ValueError(f"n_options must have one value per item ({k})")
        if n and (choices.max(axis=0) >= options).any():
            raise ValueError("a choice is beyond its item's number of options")
    if (keys < 0).any() or (keys >= options).any():
        raise ValueError("each key must be one of its item's options")

    # One bincount over (item, option) cells; slot 0 of each item is "omitted".
    width = int(options.max()) + 1 if k else 1
    cells = (np.arange(k) * width)[None, :] + choices + 1
    counts = np.bincount(cells.ravel(), minlength=k * width).reshape(k, width)
    sums = np.bincount(cells.ravel(), weights=np.repeat(totals, k), minlength=k * width).reshape(
        k, width
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        means = sums / counts

    def cell(i: int, slot: int) -> dict[str, Any]:
        count = int(counts[i, slot])
        return {
            "count": count,
            "share": count / n if n else None,
            "mean_total": _num(means[i, slot]) if count else None,
        }

    result = []
    for i in range(k):
        result.append(
            {
                "id": item_ids[i] if item_ids is not None else str(i),
                "key": int(keys[i]),
                "options": [
                    {"option": j, "is_key": j == keys[i], **cell(i, j + 1)}
                    for j in range(int(options[i]))
                ],
                "omitted": cell(i, 0),
            }
        )
    return result


def flags(item: dict[str, Any]) -> list[str]:
    """Warnings for one row of ``item_analysis()["items"]``; an empty list means no concern."""
    found = []
    discrimination = item.get("discrimination_index")
    if discrimination is not None:
        if discrimination < 0:
            found.append(FLAG_NEGATIVE_DISCRIMINATION)
        elif discrimination < LOW_DISCRIMINATION:
            found.append(FLAG_LOW_DISCRIMINATION)
    facility = item.get("facility")
    if facility is not None:
        if facility < FACILITY_TOO_HARD:
            found.append(FLAG_TOO_HARD)
        elif facility > FACILITY_TOO_EASY:
            found.append(FLAG_TOO_EASY)
    return found
