"""Real processes for the fault tests: gunicorn on the test database and a private Redis.

The server runs with production settings (DEBUG off, sync workers) as a separate process, so
it only sees committed rows: the tests use `transactional_db`. Its broker is a redis-server of
our own on a free port, never the shared one, so stopping it disturbs nobody. Everything
started here is stopped in teardown, by process group.
"""

from __future__ import annotations

import os
import random
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from bench import procs
from bench.faultlib import ExamClient, login_session
from exams import attempts, clock
from exams.models import Blueprint, Exam
from questions.models import Bank
from tests.conftest import suite_database_url

ROOT = Path(__file__).resolve().parent.parent.parent
ITEMS = 5


@pytest.fixture(scope="module")
def own_redis():
    redis = procs.OwnRedis(port=procs.free_port())
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture(scope="module")
def server_env(django_db_setup, django_db_blocker, own_redis):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=suite_database_url(),
        CELERY_BROKER_URL=own_redis.url(0),
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY=settings.SECRET_KEY,
        DEBUG="0",
        HTTPS="0",
        STATIC_NO_MANIFEST="1",
        LOG_LEVEL="WARNING",
    )
    return env


@pytest.fixture(scope="module")
def server(server_env):
    """gunicorn, 2 sync workers, on a free port; yields (process, port)."""
    (ROOT / "var").mkdir(exist_ok=True)
    port = procs.free_port()
    proc = procs.start_gunicorn(
        server_env, port, workers=2, log=ROOT / "var" / "test-faults-gunicorn.log"
    )
    try:
        yield proc, port
    finally:
        procs.stop(proc)


@pytest.fixture
def fault_exam(instructor):
    from tests.exams.conftest import DISCIPLINES, SYSTEMS, make_question

    bank = Bank.objects.create(slug="fault-bank", name="Fault bank")
    for n in range(30):
        make_question(bank, n, discipline=DISCIPLINES[n % 5], system=SYSTEMS[n % 4], key=n % 5)
    bp = Blueprint.objects.create(
        slug="fault-2x5",
        name="Fault 2 x 5",
        block_count=2,
        items_per_block=ITEMS,
        block_minutes=10,
        break_minutes=10,
    )
    exam = Exam.objects.create(title="Fault exam", owner=instructor, blueprint=bp, is_public=True)
    exam.banks.add(bank)
    return exam


@pytest.fixture
def in_block(fault_exam, django_user_model, server):
    """make(name, started_ago=0) -> ExamClient for a new examinee inside block 1."""

    def make(name: str, started_ago: timedelta = timedelta(0)) -> ExamClient:
        user = django_user_model.objects.create_user(username=name, password=None)
        now = timezone.now() - started_ago
        attempt = attempts.attempt_start(
            user=user, exam=fault_exam, now=now, rng=random.Random(len(name))
        )
        attempt = clock.block_start(attempt=attempt, now=now)
        session, csrf = login_session(user)
        return ExamClient(port=server[1], session=session, csrf=csrf, attempt=str(attempt.uuid))

    return make
