"""How soon after a block ends are its analytics visible, with many blocks ending at once?

Starts a real Celery worker (prefork, 2 processes) on Redis, seeds N examinees each inside a
20-item block with every item answered, then ends all N blocks from 8 threads as fast as
PostgreSQL allows (the worst case: a whole cohort's block time running out together) and
records, per block, the delay from the block's close to `analytics_done_at`. Goal: results
visible within 2 s of a block's end. Needs PostgreSQL and Redis:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mb_latency \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/analytics_latency.py --blocks 200

Use a scratch database: the script migrates it and deletes its own rows first.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("HTTPS", "0")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from exams import services  # noqa: E402
from exams.models import AttemptBlock, Blueprint, Exam, Response  # noqa: E402
from questions.models import Bank, Question, QuestionVersion, Tag  # noqa: E402

PREFIX = "latency-"


def seed(n_blocks: int) -> list:
    # Users first: their responses protect the bank's questions from deletion.
    User.objects.filter(username__startswith=PREFIX).delete()
    Bank.objects.filter(slug="latency-bank").delete()
    owner = User.objects.create(username=PREFIX + "owner", role="instructor")
    bank = Bank.objects.create(slug="latency-bank", name="Latency bank")
    tags = {
        kind: [
            Tag.objects.get_or_create(
                kind=kind, slug=f"lat-{kind}-{i}", bank=bank, defaults={"name": f"{kind} {i}"}
            )[0]
            for i in range(6)
        ]
        for kind in ("discipline", "system", "task")
    }
    for n in range(200):
        q = Question.objects.create(bank=bank, external_id=f"lat-{n}")
        v = QuestionVersion.objects.create(
            question=q,
            number=1,
            stem_html=f"<p>Q{n}</p>",
            options=[{"text": c, "explanation": ""} for c in "ABCDE"],
            key_index=n % 5,
            content_hash=f"{n:064d}",
        )
        q.current_version = v
        q.save(update_fields=["current_version"])
        q.tags.add(*(random.choice(tags[k]) for k in tags))
    blueprint, _ = Blueprint.objects.get_or_create(
        slug="latency-1x20",
        defaults={"name": "1x20", "block_count": 1, "items_per_block": 20, "block_minutes": 30},
    )
    exam = Exam.objects.create(title="Latency", owner=owner, blueprint=blueprint, is_public=True)
    exam.banks.add(bank)
    attempts = []
    now = timezone.now()
    for i in range(n_blocks):
        user = User.objects.create(username=f"{PREFIX}{i}", role="examinee")
        attempt = services.attempt_start(user=user, exam=exam, now=now, rng=random.Random(i))
        attempt = services.block_start(attempt=attempt, now=now)
        block = attempt.blocks.get(number=1)
        Response.objects.filter(block=block).update(choice=random.randrange(5))
        attempts.append(attempt)
    return attempts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=200)
    parser.add_argument(
        "--spread",
        type=float,
        default=0.0,
        help="end the blocks evenly over this many seconds (0: all at once, the worst case)",
    )
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"seeding {args.blocks} examinees in an open 20-item block …", flush=True)
    attempts = seed(args.blocks)
    connection.close()
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "purge", "-f"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        from config.celery import app

        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise SystemExit("worker did not start")
        started = time.monotonic()

        def end(item):
            index, attempt = item
            if args.spread:
                time.sleep(
                    max(0.0, started + index * args.spread / len(attempts) - time.monotonic())
                )
            services.block_end(attempt=attempt, now=timezone.now())
            connection.close()

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(end, enumerate(attempts)))
        ended_in = time.monotonic() - started
        ids = [a.id for a in attempts]
        wait_until = time.monotonic() + 120
        while time.monotonic() < wait_until:
            pending = AttemptBlock.objects.filter(
                attempt_id__in=ids, analytics_done_at__isnull=True
            ).count()
            if not pending:
                break
            time.sleep(0.2)
        rows = list(
            AttemptBlock.objects.filter(attempt_id__in=ids).values_list(
                "closed_at", "analytics_done_at"
            )
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    delays = sorted((done - closed).total_seconds() for closed, done in rows if done)
    missing = sum(1 for _, done in rows if done is None)
    q = statistics.quantiles(delays, n=100) if len(delays) > 1 else delays * 99
    print(
        f"\nspread: {args.spread:g} s"
        "\n| blocks ended | ending took (s) | p50 delay (s) | p95 (s) | p99 (s) | max (s) "
        "| never computed |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        f"| {len(rows)} | {ended_in:.1f} | {statistics.median(delays):.2f} | {q[94]:.2f} "
        f"| {q[98]:.2f} | {max(delays):.2f} | {missing} |"
    )
    return 0 if missing == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
