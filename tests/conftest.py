"""The fixture cast shared by every test module.

The suite runs on a real PostgreSQL and Redis: `make test` points DATABASE_URL and
CELERY_BROKER_URL at TEST_DATABASE_URL / TEST_CELERY_BROKER_URL, or at a throwaway pair it
starts from the wheels (config/embedded.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-staple"
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    # Password hashing at production strength costs ~0.3 s per user; tests need none of it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def t0() -> datetime:
    """A fixed 'now' for the clock rules; tests move time by adding timedeltas."""
    return T0


def _make_user(django_user_model, username: str, role: str, **extra):
    return django_user_model.objects.create_user(
        username=username, password=PASSWORD, role=role, **extra
    )


@pytest.fixture
def examinee(django_user_model):
    return _make_user(django_user_model, "ada", "examinee", first_name="Ada")


@pytest.fixture
def other_examinee(django_user_model):
    return _make_user(django_user_model, "ben", "examinee", first_name="Ben")


@pytest.fixture
def instructor(django_user_model):
    return _make_user(django_user_model, "dr_ito", "instructor", first_name="Ito")


@pytest.fixture
def other_instructor(django_user_model):
    return _make_user(django_user_model, "dr_osei", "instructor", first_name="Osei")


@pytest.fixture
def examinee_client(client, examinee):
    client.force_login(examinee)
    return client


@pytest.fixture
def instructor_client(client, instructor):
    client.force_login(instructor)
    return client


@pytest.fixture(autouse=True)
def _fresh_login_throttle(settings):
    """Each test starts with no recorded failed logins (axes keeps them in the database)."""
    settings.AXES_ENABLED = True


def suite_database_url() -> str:
    """The URL of the test database (pytest-django's test_<name>), for processes the tests
    start; its host may be a socket directory (the embedded PostgreSQL of `make test`)."""
    from django.db import connection

    db = connection.settings_dict
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    return f"postgres://{db['USER'] or 'postgres'}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real Celery worker on the real Redis broker, pointed at the test database.

    Tests that use it must use `transactional_db`, so their rows are committed and visible to
    the worker. The worker is always stopped, even when a test fails.
    """
    (ROOT / "var").mkdir(exist_ok=True)
    env = dict(os.environ)
    env["DATABASE_URL"] = suite_database_url()
    log = open(ROOT / "var" / f"test-worker-{os.getpid()}.log", "w")  # noqa: SIM115 - closed in teardown
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "purge", "-f"],
        env=env,
        cwd=ROOT,
        check=False,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            "--hostname=test-worker@%h",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    from config.celery import app

    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"celery worker exited early; see {log.name}")
            if app.control.ping(timeout=0.5):
                break
        else:
            raise RuntimeError(f"celery worker did not answer a ping in 30 s; see {log.name}")
    except BaseException:
        # A worker left behind would keep consuming later tests' tasks (and later runs').
        os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        raise
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()
