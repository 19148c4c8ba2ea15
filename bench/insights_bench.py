"""Time the instructor statistics page's work on a full-size exam, straight from PostgreSQL.

    DATABASE_URL=postgres://... .venv/bin/python bench/insights_bench.py \
        [--attempts 10000] [--items 320] [--repeat 3]

Seeds one fixed-form exam (items split into blocks of 40) and its attempts with COPY, inside a
transaction that is rolled back at the end, so the database is left as it was; the schema must
already be migrated. Then times, each ``--repeat`` times: building the response matrix (its two
queries plus the NumPy reshaping), the Moodle analysis, the distractor tables, and the whole
page data (matrix, analysis, item rows with labels and distractors, the attempts table).
Prints a markdown table for docs/instructor-analytics.md.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from analytics import insights  # noqa: E402
from exams.models import Attempt, Blueprint, Exam  # noqa: E402
from questions.models import Bank, Question, QuestionVersion  # noqa: E402

OPTIONS = 5
PER_BLOCK = 40
EXAMINEES = 200
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class Rollback(Exception):
    pass


def copy_rows(table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(r"\N" if v is None else str(v) for v in row))
        buffer.write("\n")
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        copy.write(buffer.getvalue())


def seed(attempts: int, items: int, rng: np.random.Generator) -> Exam:
    owner = User.objects.create_user(username="bench-owner", role="instructor")
    users = User.objects.bulk_create(
        User(username=f"bench-{i:04d}", role="examinee") for i in range(EXAMINEES)
    )
    bank = Bank.objects.create(slug="bench-insights", name="Bench")
    blocks = -(-items // PER_BLOCK)
    blueprint = Blueprint.objects.create(
        slug="bench-insights",
        name="Bench",
        block_count=blocks,
        items_per_block=PER_BLOCK,
        block_minutes=60,
    )
    exam = Exam.objects.create(
        title="Bench", owner=owner, blueprint=blueprint, assembly=Exam.Assembly.FIXED
    )
    exam.banks.add(bank)
    questions = Question.objects.bulk_create(
        Question(bank=bank, external_id=f"q{i:03d}") for i in range(items)
    )
    keys = rng.integers(0, OPTIONS, items)
    versions = QuestionVersion.objects.bulk_create(
        QuestionVersion(
            question=q,
            number=1,
            stem_html="<p>stem</p>",
            options=[{"text": str(o)} for o in range(OPTIONS)],
            key_index=int(k),
            content_hash=f"bench-{q.id}",
        )
        for q, k in zip(questions, keys, strict=True)
    )

    copy_rows(
        "exams_attempt",
        [
            "uuid",
            "user_id",
            "exam_id",
            "kind",
            "title",
            "mode",
            "state",
            "block_count",
            "break_seconds",
            "tutorial_seconds",
            "time_multiplier",
            "started_at",
            "finished_at",
            "last_activity_at",
            "last_seq",
        ],  # fmt: skip
        (
            (
                f"00000000-0000-4000-8000-{i:012d}",
                users[i % EXAMINEES].id,
                exam.id,
                "exam",
                "Bench",
                "timed",
                "finished",
                blocks,
                0,
                0,
                "1.00",
                T0,
                T0 + timedelta(hours=8),
                T0,
                0,
            )  # fmt: skip
            for i in range(attempts)
        ),
    )
    attempt_ids = list(
        Attempt.objects.filter(exam=exam).order_by("id").values_list("id", flat=True)
    )
    copy_rows(
        "exams_attemptblock",
        [
            "uuid",
            "attempt_id",
            "number",
            "state",
            "started_at",
            "closed_at",
            "close_reason",
            "current_position",
            "analytics_state",
        ],  # fmt: skip
        (
            (
                f"00000000-0000-4000-9000-{i * blocks + b:012d}",
                attempt_id,
                b + 1,
                "closed",
                T0,
                T0 + timedelta(hours=1),
                "ended",
                1,
                "done",
            )  # fmt: skip
            for i, attempt_id in enumerate(attempt_ids)
            for b in range(blocks)
        ),
    )
    block_ids = np.array(
        list(
            connection.cursor()
            .execute(
                "SELECT id FROM exams_attemptblock WHERE attempt_id = ANY(%s) "
                "ORDER BY attempt_id, number",
                [attempt_ids],
            )
            .fetchall()
        )
    ).reshape(len(attempt_ids), blocks)

    # 2PL answers with guessing, five options, about 2% omitted.
    theta = rng.normal(size=(attempts, 1))
    a = rng.uniform(0.4, 1.8, items)
    b = rng.normal(-0.5, 1.0, items)
    right = rng.random((attempts, items)) < 0.2 + 0.8 / (1 + np.exp(-a * (theta - b)))
    wrong = (keys + rng.integers(1, OPTIONS, (attempts, items))) % OPTIONS
    choices = np.where(right, keys, wrong)
    omitted = rng.random((attempts, items)) < 0.02
    times = rng.integers(20_000, 150_000, (attempts, items))
    question_ids = [q.id for q in questions]
    version_ids = [v.id for v in versions]

    def responses():
        for i, attempt_id in enumerate(attempt_ids):
            for j in range(items):
                choice = None if omitted[i, j] else int(choices[i, j])
                yield (
                    attempt_id, int(block_ids[i, j // PER_BLOCK]), j % PER_BLOCK + 1,
                    question_ids[j], version_ids[j], choice, 0, "f", "[]", "[]", "", "f",
                    "{}", int(times[i, j]),
                )  # fmt: skip

    copy_rows(
        "exams_response",
        [
            "attempt_id",
            "block_id",
            "position",
            "question_id",
            "version_id",
            "choice",
            "change_count",
            "is_marked",
            "struck",
            "highlights",
            "note",
            "is_locked",
            "field_seqs",
            "time_spent_ms",
        ],  # fmt: skip
        responses(),
    )
    return exam


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return min(runs), statistics.median(runs)


def page_data(exam: Exam) -> None:
    matrix = insights.exam_matrix(exam)
    analysis = insights.analyse(matrix)
    insights.item_rows(matrix, analysis)
    insights.attempt_rows(matrix, insights.exam_attempts(exam))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=320)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)

    try:
        with transaction.atomic():
            start = time.perf_counter()
            exam = seed(args.attempts, args.items, rng)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE exams_response; ANALYZE exams_attemptblock")
            seeded = time.perf_counter() - start
            matrix = insights.exam_matrix(exam)
            assert matrix.choices.shape == (args.attempts, args.items), matrix.choices.shape
            rows = [
                (
                    "responses query (PostgreSQL + transfer)",
                    lambda: insights._packed_responses(
                        insights._closed_responses().filter(attempt__exam=exam)
                    ),
                ),
                ("response matrix (queries + NumPy)", lambda: insights.exam_matrix(exam)),
                ("item and test analysis", lambda: insights.analyse(matrix)),
                ("distractor tables", lambda: insights.distractors(matrix)),
                ("whole page data", lambda: page_data(exam)),
            ]
            print(
                f"{args.attempts} attempts × {args.items} items "
                f"({args.attempts * args.items:,} responses, seeded in {seeded:.0f} s); "
                f"Python {platform.python_version()}, NumPy {np.__version__}, "
                f"{platform.machine()}\n"
            )
            print(f"| step | best of {args.repeat} (s) | median (s) |")
            print("| --- | ---: | ---: |")
            for label, fn in rows:
                best, median = timed(fn, args.repeat)
                print(f"| {label} | {best:.2f} | {median:.2f} |")
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
