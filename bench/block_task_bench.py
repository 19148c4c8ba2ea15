"""How long does one block's analytics take once a cohort has answered the bank?

Seeds (once; reused on later runs) a 400-question bank and 2,000 closed 20-item blocks, one per
examinee, then times `block_analytics_compute` for one more closed block: ~30 runs, median and
p95. Goal: at most 200 ms. Needs PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mb_bench .venv/bin/python bench/block_task_bench.py

Use a scratch database: the script migrates it and leaves its rows behind (--cleanup removes
them). Options: --blocks N, --questions N, --items N, --runs N, --reseed, --cleanup.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("HTTPS", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from analytics import services  # noqa: E402
from exams.models import Attempt, AttemptBlock, Response  # noqa: E402
from questions.models import Bank, Question, QuestionVersion, Tag  # noqa: E402

BANK_SLUG = "bench-analytics"
USER_PREFIX = "bench-analytics-"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DISCIPLINES = ["medicine", "surgery", "pediatrics", "obgyn", "psychiatry", "neurology"]
SYSTEMS = [
    "cardiovascular",
    "respiratory",
    "renal",
    "gastrointestinal",
    "nervous",
    "endocrine",
    "musculoskeletal",
    "reproductive",
    "hematology",
    "skin",
]
TASKS = ["diagnosis", "management", "mechanism"]


def _tags(kind: str, slugs: list[str]) -> list[Tag]:
    return [
        Tag.objects.get_or_create(kind=kind, slug=slug, bank=None, defaults={"name": slug})[0]
        for slug in slugs
    ]


def cleanup() -> None:
    with transaction.atomic():
        Attempt.objects.filter(user__username__startswith=USER_PREFIX).delete()
        User.objects.filter(username__startswith=USER_PREFIX).delete()
        Bank.objects.filter(slug=BANK_SLUG).delete()


def seed(*, questions: int, blocks: int, items: int, rng: random.Random) -> list[QuestionVersion]:
    bank = Bank.objects.create(slug=BANK_SLUG, name="Analytics benchmark")
    disciplines, systems, tasks = (
        _tags("discipline", DISCIPLINES),
        _tags("system", SYSTEMS),
        _tags("task", TASKS),
    )
    qs = Question.objects.bulk_create(
        Question(bank=bank, external_id=f"b{i:04d}") for i in range(questions)
    )
    versions = QuestionVersion.objects.bulk_create(
        QuestionVersion(
            question=q,
            number=1,
            stem_html="<p>stem</p>",
            options=[{"text": f"option {j}", "explanation": ""} for j in range(5)],
            key_index=rng.randrange(5),
            content_hash=f"{q.id:064d}",
        )
        for q in qs
    )
    for q, v in zip(qs, versions, strict=True):
        q.current_version = v
    Question.objects.bulk_update(qs, ["current_version"])
    through = Question.tags.through
    through.objects.bulk_create(
        through(question_id=q.id, tag_id=tag.id)
        for q in qs
        for tag in (rng.choice(disciplines), rng.choice(systems), rng.choice(tasks))
    )
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"{USER_PREFIX}{i}", password=unusable) for i in range(blocks)
    )
    attempts = Attempt.objects.bulk_create(
        Attempt(
            user=u,
            title="Bench",
            kind=Attempt.Kind.PRACTICE,
            state=Attempt.State.FINISHED,
            block_count=1,
            block_seconds=3600,
            started_at=T0,
            finished_at=T0 + timedelta(hours=1),
            last_activity_at=T0,
        )
        for u in users
    )
    bench_blocks = AttemptBlock.objects.bulk_create(
        AttemptBlock(
            attempt=a,
            number=1,
            state=AttemptBlock.State.CLOSED,
            started_at=T0,
            deadline_at=T0 + timedelta(hours=1),
            closed_at=T0 + timedelta(minutes=55),
            close_reason=AttemptBlock.CloseReason.ENDED,
            analytics_state=AttemptBlock.AnalyticsState.PENDING,
        )
        for a in attempts
    )
    batch = []
    for block in bench_blocks:
        for position, v in enumerate(rng.sample(versions, items), start=1):
            batch.append(_response(block, position, v, rng))
        if len(batch) >= 20_000:
            Response.objects.bulk_create(batch)
            batch = []
    Response.objects.bulk_create(batch)
    services.analytics_rebuild(now=T0 + timedelta(hours=2))
    return versions


def _response(block: AttemptBlock, position: int, v: QuestionVersion, rng: random.Random):
    roll = rng.random()
    choice = None if roll < 0.03 else (v.key_index if roll < 0.65 else rng.randrange(5))
    return Response(
        attempt_id=block.attempt_id,
        block=block,
        position=position,
        question_id=v.question_id,
        version=v,
        choice=choice,
        first_choice=choice,
        time_spent_ms=rng.randrange(10_000, 180_000),
        answered_with_seconds_left=rng.randrange(0, 3000) if choice is not None else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=400)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--cleanup", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if args.cleanup:
        cleanup()
        print("removed the benchmark rows")
        return
    rng = random.Random(7)
    if args.reseed:
        cleanup()
    if Bank.objects.filter(slug=BANK_SLUG).exists():
        versions = list(QuestionVersion.objects.filter(question__bank__slug=BANK_SLUG))
        print(f"reusing the seeded cohort ({len(versions)} questions)")
    else:
        started = time.perf_counter()
        versions = seed(questions=args.questions, blocks=args.blocks, items=args.items, rng=rng)
        print(f"seeded {args.blocks} blocks in {time.perf_counter() - started:.1f} s")

    user, _ = User.objects.get_or_create(username=f"{USER_PREFIX}timed")
    Attempt.objects.filter(user=user).delete()
    attempt = Attempt.objects.create(
        user=user,
        title="Bench (timed block)",
        kind=Attempt.Kind.PRACTICE,
        state=Attempt.State.FINISHED,
        block_count=1,
        block_seconds=3600,
        started_at=T0,
        finished_at=T0 + timedelta(hours=1),
        last_activity_at=T0,
    )
    block = AttemptBlock.objects.create(
        attempt=attempt,
        number=1,
        state=AttemptBlock.State.CLOSED,
        started_at=T0,
        deadline_at=T0 + timedelta(hours=1),
        closed_at=T0 + timedelta(minutes=55),
        close_reason=AttemptBlock.CloseReason.ENDED,
        analytics_state=AttemptBlock.AnalyticsState.PENDING,
    )
    Response.objects.bulk_create(
        _response(block, position, v, rng)
        for position, v in enumerate(rng.sample(versions, args.items), start=1)
    )
    # Production tables have planner statistics (autovacuum); freshly bulk-loaded ones do not.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    prior = Response.objects.filter(
        version_id__in=block.responses.values("version_id"), block__state="closed"
    ).count()

    timings = []
    queries = 0
    for run in range(args.runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            services.block_analytics_compute(block=block, now=T0 + timedelta(hours=3, seconds=run))
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    print(
        f"block_analytics_compute: {args.items}-item block; {prior} responses to its items in "
        f"closed blocks; {Response.objects.count()} responses in all; database "
        f"{settings.DATABASES['default']['NAME']}"
    )
    print(
        f"runs={len(timings)} median={statistics.median(timings):.1f} ms "
        f"p95={p95:.1f} ms max={timings[-1]:.1f} ms queries/run={queries} (goal: <= 200 ms)"
    )


if __name__ == "__main__":
    main()
