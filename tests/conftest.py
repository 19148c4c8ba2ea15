"""The fixture cast shared by every test module.

The suite runs on a real PostgreSQL and Redis: `make test` points DATABASE_URL and
CELERY_BROKER_URL at TEST_DATABASE_URL / TEST_CELERY_BROKER_URL, or at a throwaway pair it
starts from the wheels (config/embedded.py).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import threading
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


class Inbox:
    """The messages a real SMTP server (aiosmtpd, on a loopback port) received."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[email.message.EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._arrived:
            self.messages.clear()

    def wait_for(self, count: int, timeout: float = 20) -> list[email.message.EmailMessage]:
        """At least `count` messages, waiting for a worker that sends them asynchronously."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            assert len(self.messages) >= count, f"{len(self.messages)} of {count} mails arrived"
            return list(self.messages)

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    @staticmethod
    def link(message: email.message.EmailMessage) -> str:
        """The one http(s) link in a message's text."""
        body = message.get_body(preferencelist=("plain",)).get_content()
        links = re.findall(r"https?://\S+", body)
        assert len(links) == 1, links
        return links[0]


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on a free loopback port for the whole session. Its address is also put
    in the environment, so the Celery worker (started after it) sends there too."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox(port)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: os.environ.get(k) for k in ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS")}
    os.environ.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port), EMAIL_USE_TLS="0")
    try:
        yield inbox
    finally:
        controller.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def mailbox(smtp_server, settings):
    """This process sends through the real SMTP server (pytest-django would keep mail in
    memory); the inbox starts empty."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    smtp_server.clear()
    yield smtp_server


@pytest.fixture
def eager_tasks():
    """Tasks queued on commit run in this process (tests that do not need the real worker)."""
    from config.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, smtp_server):
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
