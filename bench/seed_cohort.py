"""Seed and check the benchmark database (run with DJANGO_SETTINGS_MODULE=bench.bench_settings).

    python bench/seed_cohort.py bank
    python bench/seed_cohort.py save-users  N OUT.tsv   # examinees with a started block
    python bench/seed_cohort.py cohort-users N OUT.tsv  # examinees with nothing started yet
    python bench/seed_cohort.py deadline-users N OUT.tsv [MINUTES]  # bench/deadline.py's
    python bench/seed_cohort.py deadline-report  # block deadlines and closes, as JSON
    python bench/seed_cohort.py verify-saves OUT.tsv ACK_DIR
    python bench/seed_cohort.py verify-cohort ACKS.json [USER_PREFIX]
    python bench/seed_cohort.py analytics [--sweep]

Users get an unusable password and a session created straight in the session store, so seeding
a thousand examinees costs no password hashing (the login view is not what is measured). Each
TSV row is: username, session key, CSRF token, attempt uuid (or "-"), exam uuid.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bench_settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.sessions import SessionStore  # noqa: E402
from exams import services  # noqa: E402
from exams.models import Attempt, AttemptBlock, Blueprint, Exam, Response  # noqa: E402
from questions.models import Bank, Question, QuestionVersion, Tag  # noqa: E402

DISCIPLINES = ["medicine", "surgery", "pediatrics", "obstetrics-gynecology", "psychiatry"]
SYSTEMS = ["cardiovascular", "respiratory", "gastrointestinal", "renal-urinary", "nervous"]
POOL = 400
# exam slug -> (blocks, items per block, minutes per block)
EXAMS = {
    "bench-save": (1, 40, 240),
    "bench-cohort": (2, 10, 60),
    # bench/deadline.py: short blocks, so a whole cohort reaches the deadline within a minute.
    "bench-deadline": (2, 10, 1),
}


def bank() -> None:
    """A 400-question bank and the two benchmark exams (idempotent)."""
    owner, _ = User.objects.get_or_create(
        username="bench_owner", defaults={"role": User.Role.INSTRUCTOR}
    )
    b, created = Bank.objects.get_or_create(slug="bench", defaults={"name": "Bench bank"})
    if created:
        b.owners.add(owner)
        tags = {}
        for kind, slugs in ((Tag.Kind.DISCIPLINE, DISCIPLINES), (Tag.Kind.SYSTEM, SYSTEMS)):
            for slug in slugs:
                tags[slug], _ = Tag.objects.get_or_create(
                    kind=kind, slug=slug, bank=None, defaults={"name": slug.title()}
                )
        with transaction.atomic():
            for n in range(POOL):
                q = Question.objects.create(bank=b, external_id=f"b{n}")
                v = QuestionVersion.objects.create(
                    question=q,
                    number=1,
                    stem_html=f"<p>A 54-year-old man comes to the emergency department ({n}).</p>"
                    * 6,
                    options=[
                        {"text": f"Option {c} of {n}", "explanation": f"Why {c}"} for c in "ABCDE"
                    ],
                    key_index=n % 5,
                    explanation_html=f"<p>Explanation {n}</p>",
                    objective_html=f"<p>Objective {n}</p>",
                    content_hash=hashlib.sha256(f"bench{n}".encode()).hexdigest(),
                )
                q.current_version = v
                q.save(update_fields=["current_version"])
                q.tags.add(tags[DISCIPLINES[n % 5]], tags[SYSTEMS[(n // 5) % 5]])
    for slug, (blocks, items, minutes) in EXAMS.items():
        bp, _ = Blueprint.objects.get_or_create(
            slug=slug,
            defaults={
                "name": slug,
                "block_count": blocks,
                "items_per_block": items,
                "block_minutes": minutes,
                "break_minutes": 45,
                "tutorial_minutes": 0,
            },
        )
        exam, created = Exam.objects.get_or_create(
            title=slug, defaults={"owner": owner, "blueprint": bp, "is_public": True}
        )
        if created:
            exam.banks.add(b)


def _users(prefix: str, n: int) -> list[User]:
    existing = {u.username: u for u in User.objects.filter(username__startswith=prefix)}
    new = [
        User(username=f"{prefix}{i:05d}", role=User.Role.EXAMINEE, password="!bench")  # noqa: S106 - an unusable hash
        for i in range(n)
        if f"{prefix}{i:05d}" not in existing
    ]
    User.objects.bulk_create(new, batch_size=500)
    return list(User.objects.filter(username__startswith=prefix).order_by("username")[:n])


def _sessions(users: list[User]) -> dict[int, str]:
    store = SessionStore()
    expire = timezone.now() + timedelta(hours=12)
    keys = {}
    rows = []
    for u in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(u.pk),
            BACKEND_SESSION_KEY: "accounts.backends.ModelBackend",
            HASH_SESSION_KEY: u.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        keys[u.pk] = key
    Session.objects.bulk_create(rows, batch_size=500)
    return keys


def _write(out: str, users, keys, attempts: dict, exam: Exam) -> None:
    # Freshly loaded tables have no statistics until autovacuum gets round to them; a
    # production database has them, so the benchmark plans its queries with them too.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with open(out, "w") as f:
        for u in users:
            a = attempts.get(u.pk)
            f.write(
                f"{u.username}\t{keys[u.pk]}\t{get_random_string(32)}\t"
                f"{a.uuid if a else '-'}\t{exam.uuid}\n"
            )


def save_users(n: int, out: str) -> None:
    """Examinees inside block 1 of the 40-item save exam, one fresh attempt each."""
    bank()
    exam = Exam.objects.get(title="bench-save")
    users = _users("bsave", n)
    Attempt.objects.filter(user__in=users).delete()
    now = timezone.now()
    # One draw for everyone: attempt_start reloads and re-draws the whole pool per call
    # (~0.3 s each on this machine), which would make seeding the slowest part of `make bench`.
    blocks = services.exam_blocks(exam=exam, rng=random.Random(7))
    bp = exam.blueprint
    attempts = {}
    for u in users:
        with transaction.atomic():
            a = services._create_attempt(
                user=u,
                exam=exam,
                assignment=None,
                kind=Attempt.Kind.EXAM,
                title=exam.title,
                mode=exam.mode,
                blocks=blocks,
                block_seconds=bp.block_minutes * 60,
                break_seconds=bp.break_minutes * 60,
                tutorial_seconds=0,
                now=now,
            )
        attempts[u.pk] = services.block_start(attempt=a, now=now)
    _write(out, users, _sessions(users), attempts, exam)


def cohort_users(n: int, out: str) -> None:
    bank()
    exam = Exam.objects.get(title="bench-cohort")
    users = _users("bcoh", n)
    Attempt.objects.filter(user__in=users).delete()
    _write(out, users, _sessions(users), {}, exam)


def deadline_users(n: int, out: str, minutes: int = 1) -> None:
    bank()
    Blueprint.objects.filter(slug="bench-deadline").update(block_minutes=minutes)
    exam = Exam.objects.get(title="bench-deadline")
    users = _users("bdl", n)
    Attempt.objects.filter(user__in=users).delete()
    _write(out, users, _sessions(users), {}, exam)


def deadline_report() -> int:
    """Each deadline-bench attempt's blocks: deadline and close, as epoch seconds."""
    rows = AttemptBlock.objects.filter(attempt__user__username__startswith="bdl").values_list(
        "attempt__uuid", "number", "deadline_at", "closed_at", "close_reason", "state"
    )
    report: dict = {}
    for uuid, number, deadline, closed, reason, state in rows:
        report.setdefault(str(uuid), {})[str(number)] = {
            "deadline": deadline.timestamp() if deadline else None,
            "closed": closed.timestamp() if closed else None,
            "reason": reason,
            "state": state,
        }
    print(json.dumps(report))
    return 0


def verify_saves(tsv: str, ack_dir: str) -> int:
    """Every 2xx save wrk logged must be in the database (or overtaken by a newer seq)."""
    uuids = [line.split("\t")[3] for line in Path(tsv).read_text().splitlines()]
    last: dict[tuple[str, int], tuple[int, int]] = {}
    acks = 0
    for path in Path(ack_dir).rglob("*.log"):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 4:
                continue
            idx, pos, seq, choice = (int(p) for p in parts)
            acks += 1
            key = (uuids[idx], pos)
            if key not in last or seq > last[key][0]:
                last[key] = (seq, choice)
    stored = {
        (str(u), p): (c, fs.get("choice", 0))
        for u, p, c, fs in Response.objects.filter(attempt__uuid__in=set(uuids)).values_list(
            "attempt__uuid", "position", "choice", "field_seqs"
        )
    }
    lost = [
        k
        for k, (seq, choice) in last.items()
        if stored[k][1] < seq or (stored[k][1] == seq and stored[k][0] != choice)
    ]
    answered = sum(1 for c, _ in stored.values() if c is not None)
    print(
        json.dumps(
            {
                "acknowledged_saves": acks,
                "distinct_slots_acknowledged": len(last),
                "responses_with_choice": answered,
                "lost": len(lost),
            }
        )
    )
    return 1 if lost or answered < len(last) else 0


def verify_cohort(acks_path: str, prefix: str = "bcoh") -> int:
    data = json.loads(Path(acks_path).read_text())
    last: dict = {}
    for a, b, p, s, c in data["acks"]:
        if (a, b, p) not in last or s > last[(a, b, p)][0]:
            last[(a, b, p)] = (s, c)
    stored = {
        (str(u), b, p): (c, fs.get("choice", 0))
        for u, b, p, c, fs in Response.objects.filter(
            attempt__uuid__in={k[0] for k in last}
        ).values_list("attempt__uuid", "block__number", "position", "choice", "field_seqs")
    }
    lost = [
        k
        for k, (seq, choice) in last.items()
        if k not in stored or stored[k][1] < seq or (stored[k][1] == seq and stored[k][0] != choice)
    ]
    blocks = AttemptBlock.objects.filter(attempt__user__username__startswith=prefix)
    print(
        json.dumps(
            {
                "answers_acknowledged": len(last),
                "lost": len(lost),
                "attempts": Attempt.objects.filter(user__username__startswith=prefix).count(),
                "blocks_closed": blocks.filter(state="closed").count(),
                "blocks_analytics_done": blocks.filter(analytics_state="done").count(),
            }
        )
    )
    return 1 if lost else 0


def analytics(sweep: bool) -> int:
    from analytics.services import analytics_sweep

    swept = analytics_sweep(now=timezone.now(), limit=100000) if sweep else 0
    closed = AttemptBlock.objects.filter(state="closed")
    not_done = closed.exclude(analytics_state="done").count()
    print(json.dumps({"swept": swept, "closed": closed.count(), "not_done": not_done}))
    return 1 if not_done else 0


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "bank":
        bank()
    elif cmd == "save-users":
        save_users(int(args[0]), args[1])
    elif cmd == "cohort-users":
        cohort_users(int(args[0]), args[1])
    elif cmd == "verify-saves":
        sys.exit(verify_saves(args[0], args[1]))
    elif cmd == "verify-cohort":
        sys.exit(verify_cohort(*args[:2]))
    elif cmd == "deadline-users":
        deadline_users(int(args[0]), args[1], int(args[2]) if len(args) > 2 else 1)
    elif cmd == "deadline-report":
        sys.exit(deadline_report())
    elif cmd == "analytics":
        sys.exit(analytics("--sweep" in args))
    else:
        sys.exit(f"unknown command {cmd}")
