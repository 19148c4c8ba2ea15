"""Selectors for the instructor analytics pages: response matrices and their statistics.

A response matrix is built from one query over ``Response``, packed by PostgreSQL into one
binary row per attempt, plus one small query for the keys and option counts of the versions
shown; NumPy does the rest. No model instance or tuple is created per response, so 10,000
attempts × 320 items stay a matter of seconds (docs/instructor-analytics.md, "Benchmark").

What counts (see docs/instructor-analytics.md):

* Only responses in **closed** blocks count. A row is an attempt with at least one closed
  block (a finished attempt has all of them closed); items in blocks still open or never
  started are treated as not delivered, not as wrong.
* An item delivered but not answered scores 0, as in Moodle.
* When every attempt saw every item (a fixed form, sat to the end) the figures are exactly
  ``psychometrics.item_analysis`` over the matrix. When attempts saw different items (forms
  drawn by proportions, attempts cut short, a bank's items spread over many exams) each item's
  statistics are computed over the attempts that saw it, against the attempt's *percent*
  score, and the test statistics over percent scores: see ``sparse_item_analysis``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import QuerySet, Sum

from analytics import psychometrics
from analytics.models import BlockPerformance
from exams.models import Attempt, AttemptBlock, Cohort, Exam, Response
from questions.models import Bank, Question, QuestionVersion, Tag
from questions.text import plain_text

NOT_SEEN = -2
OMITTED = -1
# Same meaning as psychometrics' guard: a variance this small is rounding noise, not spread.
_ZERO_VARIANCE = 1e-20


@dataclass
class ResponseMatrix:
    """Attempts × questions, in the order of ``attempt_ids`` and ``question_ids``.

    ``choices`` holds the option index chosen, ``OMITTED`` (-1) or ``NOT_SEEN`` (-2);
    ``keys`` and ``versions`` the key index and version id of what that attempt was shown.
    ``in_scope`` marks the columns whose statistics are wanted; the others still count in
    each attempt's score (a bank's items inside a practice block that mixed banks).
    """

    attempt_ids: np.ndarray
    question_ids: np.ndarray
    choices: np.ndarray
    keys: np.ndarray
    versions: np.ndarray
    n_options: np.ndarray
    time_ms: np.ndarray
    in_scope: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.in_scope is None:
            self.in_scope = np.ones(len(self.question_ids), dtype=bool)

    @property
    def seen(self) -> np.ndarray:
        return self.choices != NOT_SEEN

    @property
    def marks(self) -> np.ndarray:
        """Fractions 0..1 of each item's mark; NaN where the item was not delivered."""
        marks = (self.choices == self.keys).astype(float)
        marks[~self.seen] = np.nan
        return marks

    @property
    def correct_counts(self) -> np.ndarray:
        return (self.seen & (self.choices == self.keys)).sum(axis=1)

    @property
    def seen_counts(self) -> np.ndarray:
        return self.seen.sum(axis=1)

    @property
    def percent_scores(self) -> np.ndarray:
        """Each attempt's score as a fraction 0..1 of the items it was shown."""
        counts = self.seen_counts
        return np.divide(self.correct_counts, counts, out=np.zeros(len(counts)), where=counts > 0)

    @property
    def is_complete(self) -> bool:
        """Every attempt saw every item, all in scope: Moodle's own assumption."""
        return bool(self.in_scope.all() and self.seen.all())


def _closed_responses() -> QuerySet:
    return Response.objects.filter(block__state=AttemptBlock.State.CLOSED)


# One response as PostgreSQL packs it below: question id, version id, choice, time spent.
_PACKED = np.dtype([("question", ">i8"), ("version", ">i8"), ("choice", ">i2"), ("time", ">i4")])


def _packed_responses(responses: QuerySet) -> tuple[np.ndarray, np.ndarray]:
    """Every response of the query as a NumPy record array, plus its attempt ids.

    PostgreSQL packs each attempt's responses into one ``bytea`` of fixed-size big-endian
    records, so the client receives one row per attempt instead of one per response and
    NumPy reads the records with ``frombuffer``. Building millions of Python tuples instead
    (a plain ``values_list``) costs tens of seconds at 3.2 million responses.
    """
    base = responses.order_by().values_list(
        "attempt_id", "question_id", "version_id", "choice", "time_spent_ms"
    )
    sql, params = base.query.sql_with_params()
    # The inner SQL is the ORM's own; its values stay bound parameters.
    packed_sql = (
        "SELECT r.a, COUNT(*), string_agg(int8send(r.q) || int8send(r.v)"  # noqa: S608
        " || int2send(COALESCE(r.c, %s)::int2) || int4send(r.t), ''::bytea)"
        f" FROM ({sql}) AS r(a, q, v, c, t) GROUP BY r.a"
    )
    with connection.cursor() as cursor:
        cursor.execute(packed_sql, [OMITTED, *params])
        rows = cursor.fetchall()
    if not rows:
        return np.zeros(0, dtype=_PACKED), np.zeros(0, dtype=np.int64)
    records = np.frombuffer(b"".join(bytes(row[2]) for row in rows), dtype=_PACKED)
    attempts = np.repeat(
        np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows)),
        np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows)),
    )
    return records, attempts


def build_matrix(responses: QuerySet, *, scope_question_ids=None) -> ResponseMatrix:
    """Reshape the responses into a ``ResponseMatrix``: one query for the responses, one for
    the keys and option counts of the versions they were shown."""
    records, attempt_col = _packed_responses(responses)
    question_col = records["question"].astype(np.int64)
    version_col = records["version"].astype(np.int64)
    choice_col = records["choice"].astype(np.int16)
    time_col = records["time"].astype(np.int64)
    version_ids = np.unique(version_col)
    version_info = (
        [
            (version_id, key, len(options))
            for version_id, key, options in QuestionVersion.objects.filter(
                id__in=version_ids.tolist()
            )
            .order_by("id")
            .values_list("id", "key_index", "options")
        ]
        if len(version_ids)
        else []
    )
    info = np.array(version_info, dtype=np.int64).reshape(-1, 3)
    at = np.searchsorted(info[:, 0], version_col) if len(info) else np.zeros(0, dtype=np.int64)
    key_col = info[at, 1] if len(info) else np.zeros(0, dtype=np.int64)
    options_col = info[at, 2] if len(info) else np.zeros(0, dtype=np.int64)

    attempt_ids, rows_at = np.unique(attempt_col, return_inverse=True)
    question_ids, cols_at = np.unique(question_col, return_inverse=True)
    shape = (len(attempt_ids), len(question_ids))
    choices = np.full(shape, NOT_SEEN, dtype=np.int16)
    keys = np.full(shape, NOT_SEEN, dtype=np.int16)
    versions = np.zeros(shape, dtype=np.int64)
    choices[rows_at, cols_at] = choice_col
    keys[rows_at, cols_at] = key_col
    versions[rows_at, cols_at] = version_col
    # Options of the newest version delivered: the one the distractor table describes.
    n_options = np.zeros(len(question_ids), dtype=np.int64)
    if len(version_col):
        order = np.lexsort((version_col, cols_at))
        last = np.r_[cols_at[order][1:] != cols_at[order][:-1], True]
        n_options[cols_at[order][last]] = options_col[order][last]
    time_ms = np.bincount(rows_at, weights=time_col, minlength=len(attempt_ids))
    in_scope = None
    if scope_question_ids is not None:
        in_scope = np.isin(question_ids, np.fromiter(scope_question_ids, dtype=np.int64))
    return ResponseMatrix(
        attempt_ids=attempt_ids,
        question_ids=question_ids,
        choices=choices,
        keys=keys,
        versions=versions,
        n_options=n_options,
        time_ms=time_ms.astype(np.int64),
        in_scope=in_scope,
    )


def exam_attempts(exam: Exam) -> QuerySet:
    return Attempt.objects.filter(exam=exam)


def exam_matrix(exam: Exam) -> ResponseMatrix:
    """Every closed response of the exam's attempts."""
    return build_matrix(_closed_responses().filter(attempt__exam=exam))


def bank_matrix(bank: Bank) -> ResponseMatrix:
    """Every attempt that closed a response to one of the bank's questions, in any exam or
    practice block. Its other items count towards its score but get no statistics here."""
    touched = _closed_responses().filter(question__bank=bank).values("attempt_id")
    return build_matrix(
        _closed_responses().filter(attempt_id__in=touched),
        scope_question_ids=Question.objects.filter(bank=bank).values_list("id", flat=True),
    )


def cohort_assigned_attempts(cohort: Cohort) -> QuerySet:
    """Members' attempts on the exams assigned to the cohort, whichever route they came by."""
    return Attempt.objects.filter(
        user__in=cohort.members.all(),
        exam_id__in=cohort.assignments.values("exam_id"),
    )


def cohort_matrix(cohort: Cohort) -> ResponseMatrix:
    return build_matrix(
        _closed_responses().filter(attempt_id__in=cohort_assigned_attempts(cohort).values("id"))
    )


# --- statistics -------------------------------------------------------------------------


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def typical_length(matrix: ResponseMatrix) -> int:
    """Items an attempt was shown, as the median over attempts: a form's length."""
    counts = matrix.seen_counts
    return int(round(float(np.median(counts)))) if len(counts) else 0


def sparse_item_analysis(matrix: ResponseMatrix) -> dict[str, Any]:
    """Moodle's statistics when attempts saw different items.

    Each in-scope item is described over the attempts that saw it: facility and SD of its
    marks; discrimination index and efficiency against the rest of the attempt's score as a
    fraction of the other items it was shown; effective weight from its covariance with the
    attempt's percent score. Intended weight is one item out of a typical form (the median
    number of items per attempt, ``k``). Test statistics are Moodle's over percent scores
    rescaled to marks out of ``k``; Cronbach's alpha uses ``k`` times the exposure-weighted
    mean item variance as the sum of item variances of a form. With complete data all of this
    reduces to ``psychometrics.item_analysis`` (scores out of k are then linear in the raw
    totals, and every figure used is invariant to that scaling).
    """
    seen = matrix.seen
    x = np.where(seen, (matrix.choices == matrix.keys).astype(float), 0.0)
    s = seen.astype(float)
    score = x.sum(axis=1)
    count = s.sum(axis=1)
    pct = np.divide(score, count, out=np.zeros_like(score), where=count > 0)
    rest = (score[:, None] - x) / np.maximum(count - 1, 1)[:, None]

    cols = np.flatnonzero(matrix.in_scope)
    x, s, rest = x[:, cols], s[:, cols], rest[:, cols]
    n_i = s.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        facility = x.sum(axis=0) / n_i
        dx = (x - facility) * s
        dr = (rest - (rest * s).sum(axis=0) / n_i) * s
        dt = (pct[:, None] - (pct[:, None] * s).sum(axis=0) / n_i) * s
        dof = n_i - 1
        var = (dx**2).sum(axis=0) / dof
        rest_var = (dr**2).sum(axis=0) / dof
        cov_rest = (dx * dr).sum(axis=0) / dof
        cov_total = (dx * dt).sum(axis=0) / dof
        # Sorted pairing of the seen deviations gives the largest covariance the marginals
        # allow; unseen cells sort last as NaN and then drop out.
        sorted_dx = np.nan_to_num(np.sort(np.where(s > 0, dx, np.nan), axis=0))
        sorted_dr = np.nan_to_num(np.sort(np.where(s > 0, dr, np.nan), axis=0))
        cov_max = (sorted_dx * sorted_dr).sum(axis=0) / dof
        many = n_i > 1
        var = np.where(many, var, np.nan)
        spread = many & (var > _ZERO_VARIANCE) & (rest_var > _ZERO_VARIANCE)
        discrimination = np.where(
            spread, np.clip(cov_rest / np.sqrt(var * rest_var), -1.0, 1.0), np.nan
        )
        efficiency = np.where(spread & (cov_max > 0), cov_rest / cov_max, np.nan)
        cov_total = np.where(np.abs(cov_total) <= _ZERO_VARIANCE, 0.0, cov_total)
        negative = ~many | (cov_total < 0)
        root_sum = np.sqrt(np.where(negative, 0.0, cov_total)).sum()
        effective = (
            np.where(negative, np.nan, np.sqrt(np.clip(cov_total, 0, None)) / root_sum)
            if root_sum > 0
            else np.full(len(cols), np.nan)
        )
    k = typical_length(matrix)
    guess = 1.0 / np.maximum(matrix.n_options[cols], 1)
    items = [
        {
            "id": str(matrix.question_ids[c]),
            "facility": _num(facility[j]) if n_i[j] else None,
            "sd": _num(np.sqrt(var[j])),
            "random_guess_score": _num(guess[j]),
            "intended_weight": 1.0 / k if k else None,
            "effective_weight": _num(effective[j]),
            "discrimination_index": _num(discrimination[j]),
            "discriminative_efficiency": _num(efficiency[j]),
        }
        for j, c in enumerate(cols)
    ]
    exposure = n_i[many]
    mean_var = float((var[many] * exposure).sum() / exposure.sum()) if exposure.sum() else 0.0
    rows = count > 0
    test = psychometrics.total_score_statistics(
        pct[rows] * k, k, k * mean_var, _ZERO_VARIANCE * max(k, 1) ** 2
    )
    return {"items": items, "test": test, "items_per_attempt": k}


def analyse(matrix: ResponseMatrix, *, min_sample: int | None = None) -> dict[str, Any]:
    """Item and test statistics, Moodle's where the data allow it (see the module docstring).

    An item seen by fewer than ``min_sample`` attempts (MIN_FLAG_SAMPLE) is not flagged.

    Test statistics are in marks out of ``items_per_attempt``; ``percent`` adds mean, median,
    SD and standard error as percentages for display.
    """
    if matrix.is_complete:
        k = len(matrix.question_ids)
        result = psychometrics.item_analysis(
            matrix.marks,
            item_ids=[str(q) for q in matrix.question_ids],
            random_guess=1.0 / np.maximum(matrix.n_options, 1),
        )
        result["items_per_attempt"] = k
    else:
        result = sparse_item_analysis(matrix)
    result["is_complete"] = matrix.is_complete
    k = result["items_per_attempt"]
    test = result["test"]
    result["percent"] = {
        name: (100 * test[name] / k if test[name] is not None and k else None)
        for name in ("mean", "median", "sd", "standard_error")
    }
    exposure = matrix.seen[:, matrix.in_scope].sum(axis=0)
    for item, n in zip(result["items"], exposure, strict=True):
        item["attempts"] = int(n)
        # Below the minimum sample a facility of 0 or 1 is what one or two attempts give by
        # chance: say so instead of flagging the item.
        enough = n >= (MIN_FLAG_SAMPLE if min_sample is None else min_sample)
        item["flags"] = psychometrics.flags(item) if enough else [FLAG_TOO_FEW]
    return result


# Fewest attempts that saw an item before its statistics may flag it.
MIN_FLAG_SAMPLE = 20
FLAG_TOO_FEW = "too_few"


def distractors(matrix: ResponseMatrix) -> dict[int, dict[str, Any]]:
    """Per in-scope question: who chose each option and their mean percent score.

    Only answers to the newest version delivered are tabulated, since an edit may reorder
    or add options; ``excluded`` counts the answers to older versions left out.
    """
    totals = matrix.percent_scores
    cols = np.flatnonzero(matrix.in_scope)
    versions = matrix.versions[:, cols]
    if len(matrix.attempt_ids) and matrix.seen[:, cols].all() and (versions == versions[0]).all():
        # A fixed form sat in full, in one version per item: one call for every item.
        tables = psychometrics.distractor_analysis(
            matrix.choices[:, cols],
            matrix.keys[0, cols],
            totals,
            n_options=matrix.n_options[cols].tolist(),
            item_ids=[str(q) for q in matrix.question_ids[cols]],
        )
        return {
            int(t["id"]): {**t, "excluded": 0, "version_id": int(versions[0, j])}
            for j, t in enumerate(tables)
        }
    result = {}
    for c in cols:
        seen = matrix.seen[:, c]
        newest = matrix.versions[seen, c].max() if seen.any() else 0
        rows = seen & (matrix.versions[:, c] == newest)
        key = int(matrix.keys[rows, c][0]) if rows.any() else 0
        (table,) = psychometrics.distractor_analysis(
            matrix.choices[rows, c : c + 1],
            np.array([key]),
            totals[rows],
            n_options=[int(matrix.n_options[c])],
            item_ids=[str(matrix.question_ids[c])],
        )
        table["excluded"] = int(seen.sum() - rows.sum())
        table["version_id"] = int(newest)
        result[int(matrix.question_ids[c])] = table
    return result


STEM_PREVIEW_CHARS = 90


def question_labels(question_ids) -> dict[int, dict[str, Any]]:
    rows = Question.objects.filter(id__in=[int(q) for q in question_ids]).values(
        "id",
        "uuid",
        "external_id",
        "bank__slug",
        "current_version_id",
        "current_version__stem_html",
        "current_version__options",
    )
    out = {}
    for row in rows:
        row["stem"] = plain_text(row.pop("current_version__stem_html"), limit=STEM_PREVIEW_CHARS)
        out[row["id"]] = row
    return out


def option_texts(version_ids) -> dict[int, list[str]]:
    """Each version's option texts as plain text, in one query."""
    rows = QuestionVersion.objects.filter(pk__in=list(version_ids)).values_list("pk", "options")
    return {pk: [plain_text(o.get("text", ""), limit=120) for o in options] for pk, options in rows}


def attempt_rows(matrix: ResponseMatrix, attempts: QuerySet) -> list[dict[str, Any]]:
    """The cohort table: one row per attempt in the matrix, from one more query.

    ``attempts`` should be narrowed to the matrix's scope (an exam's attempts); rows it holds
    that the matrix does not (nothing closed yet) are skipped, which is cheaper than sending
    thousands of ids back to the database.
    """
    info = {
        row["id"]: row
        for row in attempts.values(
            "id",
            "uuid",
            "started_at",
            "finished_at",
            "state",
            "user__username",
            "user__first_name",
            "user__last_name",
        )
    }
    correct = matrix.correct_counts
    seen = matrix.seen_counts
    pct = matrix.percent_scores
    rows = []
    for i, attempt_id in enumerate(matrix.attempt_ids):
        row = info.get(int(attempt_id))
        if row is None:
            continue
        name = f"{row['user__first_name']} {row['user__last_name']}".strip()
        rows.append(
            {
                "uuid": row["uuid"],
                "examinee": name or row["user__username"],
                "username": row["user__username"],
                "started_at": row["started_at"],
                "finished_at": row["finished_at"],
                "is_finished": row["state"] == Attempt.State.FINISHED,
                "correct": int(correct[i]),
                "items": int(seen[i]),
                "percent": float(pct[i]) * 100,
                "minutes": float(matrix.time_ms[i]) / 60000,
            }
        )
    return rows


# --- cohort areas -----------------------------------------------------------------------


def cohort_area_table(cohort: Cohort) -> dict[str, Any]:
    """Members × discipline/system percent correct, from the per-block tag tallies."""
    members = list(
        cohort.members.order_by("last_name", "first_name", "username").values(
            "id", "username", "first_name", "last_name"
        )
    )
    tallies = (
        BlockPerformance.objects.filter(
            attempt_id__in=cohort_assigned_attempts(cohort).values("id"),
            tag__kind__in=[Tag.Kind.DISCIPLINE, Tag.Kind.SYSTEM],
        )
        .values("attempt__user_id", "tag_id", "tag__kind", "tag__name")
        .annotate(correct=Sum("correct"), total=Sum("total"))
    )
    tags: dict[int, dict[str, Any]] = {}
    cells: dict[tuple[int, int], tuple[int, int]] = {}
    for row in tallies:
        tag = tags.setdefault(
            row["tag_id"],
            {
                "id": row["tag_id"],
                "kind": row["tag__kind"],
                "kind_label": Tag.Kind(row["tag__kind"]).label,
                "name": row["tag__name"],
            },
        )
        tag["correct"] = tag.get("correct", 0) + row["correct"]
        tag["total"] = tag.get("total", 0) + row["total"]
        cells[(row["attempt__user_id"], row["tag_id"])] = (row["correct"], row["total"])
    for tag in tags.values():
        tag["percent"] = 100 * tag["correct"] / tag["total"] if tag["total"] else None
    columns = sorted(tags.values(), key=lambda t: (t["kind"], t["name"]))
    table = []
    for member in members:
        name = f"{member['first_name']} {member['last_name']}".strip() or member["username"]
        row_cells = []
        for tag in columns:
            correct, total = cells.get((member["id"], tag["id"]), (0, 0))
            row_cells.append(
                {
                    "correct": correct,
                    "total": total,
                    "percent": 100 * correct / total if total else None,
                }
            )
        table.append({"examinee": name, "username": member["username"], "cells": row_cells})
    weakest = sorted(
        (t for t in columns if t["percent"] is not None), key=lambda t: (t["percent"], t["name"])
    )
    return {"columns": columns, "rows": table, "weakest": weakest[:5]}


# --- page data --------------------------------------------------------------------------

ITEM_SORTS = {
    "item": "label",
    "attempts": "attempts",
    "facility": "facility",
    "sd": "sd",
    "guess": "random_guess_score",
    "intended": "intended_weight",
    "effective": "effective_weight",
    "discrimination": "discrimination_index",
    "efficiency": "discriminative_efficiency",
}
ATTEMPT_SORTS = {
    "examinee": "examinee",
    "date": "started_at",
    "score": "correct",
    "percent": "percent",
    "time": "minutes",
}


def sort_rows(rows: list[dict], sort: str, allowed: dict[str, str], default: str) -> str:
    """Sort in place by ``?sort=name`` or ``-name``; blanks go last either way.

    Returns the sort actually applied, so an unknown value falls back to the default.
    """
    name = sort.removeprefix("-")
    if name not in allowed:
        sort, name = default, default.removeprefix("-")
    key = allowed[name]
    descending = sort.startswith("-")
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    present.sort(key=lambda r: r[key], reverse=descending)
    rows[:] = present + missing
    return sort


_FRACTION_FIELDS = (
    "facility",
    "sd",
    "random_guess_score",
    "intended_weight",
    "effective_weight",
    "discrimination_index",
    "discriminative_efficiency",
)
FLAG_BADGES = {
    psychometrics.FLAG_NEGATIVE_DISCRIMINATION: ("bad", "Negative discrimination"),
    psychometrics.FLAG_LOW_DISCRIMINATION: ("warn", "Low discrimination"),
    psychometrics.FLAG_TOO_HARD: ("warn", "Very hard"),
    psychometrics.FLAG_TOO_EASY: ("warn", "Very easy"),
}


def _percent(value: float | None) -> float | None:
    return None if value is None else 100 * value


def test_rows(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """The test statistics table as Moodle lays it out: scores and ratios as percentages."""
    test, percent = analysis["test"], analysis["percent"]
    return [
        {"label": "Attempts", "value": test["attempts"], "unit": ""},
        {"label": "Items per attempt", "value": analysis["items_per_attempt"], "unit": ""},
        {"label": "Mean score", "value": percent["mean"], "unit": "%"},
        {"label": "Median score", "value": percent["median"], "unit": "%"},
        {"label": "Standard deviation", "value": percent["sd"], "unit": "%"},
        {"label": "Skewness", "value": test["skewness"], "unit": ""},
        {"label": "Kurtosis", "value": test["kurtosis"], "unit": ""},
        {
            "label": "Coefficient of internal consistency (alpha)",
            "value": _percent(test["alpha"]),
            "unit": "%",
        },
        {"label": "Error ratio", "value": _percent(test["error_ratio"]), "unit": "%"},
        {"label": "Standard error", "value": percent["standard_error"], "unit": "%"},
    ]


def item_rows(matrix: ResponseMatrix, analysis: dict[str, Any], *, with_distractors=True):
    """The item table: statistics, the question's label and its distractor table."""
    labels = question_labels(matrix.question_ids[matrix.in_scope])
    options = distractors(matrix) if with_distractors else {}
    # Option texts of the version each table tabulates: the current one comes with the labels;
    # only an older version costs a query.
    texts = {
        label["current_version_id"]: [
            plain_text(o.get("text", ""), limit=120)
            for o in label["current_version__options"] or []
        ]
        for label in labels.values()
        if label.get("current_version_id")
    }
    older = {t["version_id"] for t in options.values() if t.get("version_id")} - set(texts)
    if older:
        texts.update(option_texts(older))
    rows = []
    for item in analysis["items"]:
        question_id = int(item["id"])
        label = labels.get(question_id, {})
        row = {
            **item,
            "question_id": question_id,
            "uuid": label.get("uuid"),
            "label": f"{label.get('bank__slug', '?')}/{label.get('external_id', question_id)}",
            "stem": label.get("stem", ""),
            "distractors": _distractor_display(options.get(question_id), texts),
            "pct": {name: _percent(item[name]) for name in _FRACTION_FIELDS},
            "badges": _badges(item),
        }
        rows.append(row)
    return rows


def _badges(item: dict[str, Any]) -> list[tuple[str, str]]:
    if FLAG_TOO_FEW in item["flags"]:
        return [("muted", f"n = {item['attempts']}: too few to judge")]
    return [FLAG_BADGES[flag] for flag in item["flags"] if flag in FLAG_BADGES]


def _distractor_display(
    table: dict[str, Any] | None, texts: dict[int, list[str]] | None = None
) -> dict[str, Any] | None:
    if table is None:
        return None
    option_text = (texts or {}).get(table.get("version_id"), [])
    rows = [
        {
            "letter": chr(ord("A") + option["option"]),
            "text": option_text[option["option"]] if option["option"] < len(option_text) else "",
            "is_key": option["is_key"],
            "count": option["count"],
            "share": _percent(option["share"]),
            "mean_total": _percent(option["mean_total"]),
        }
        for option in table["options"]
    ]
    omitted = table["omitted"]
    rows.append(
        {
            "letter": "Omitted",
            "text": "",
            "is_key": False,
            "count": omitted["count"],
            "share": _percent(omitted["share"]),
            "mean_total": _percent(omitted["mean_total"]),
        }
    )
    return {
        "rows": rows,
        "excluded": table["excluded"],
        # The denominator of every share in the table: answers to the version tabulated.
        "n": sum(r["count"] for r in rows),
    }


def score_percents(matrix: ResponseMatrix) -> list[float]:
    return [float(p) * 100 for p in matrix.percent_scores[matrix.seen_counts > 0]]
