"""The embedded services (config/embedded.py) and the commands the README documents with them:
`python -m config.embedded start|status|env|stop`, and manage.py finding the same database as
`make run`, or saying in one line that nothing runs."""

import os
import subprocess
import sys

import pytest

from config import embedded
from tests.conftest import ROOT

# The suite's own services come through these; the commands under test must find theirs.
UNSET = {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}


def run(args, embedded_dir, **extra):
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(EMBEDDED_DIR=str(embedded_dir), **extra)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_manage_command_with_nothing_running_says_so_in_one_line(tmp_path):
    nothing = tmp_path / "var"
    result = run(["manage.py", "check"], nothing)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"mockboard: DATABASE_URL is unset and this checkout's embedded services are not "
        f"running ({nothing}): start them with `make run` (or `python -m config.embedded "
        "start`), or set the variable"
    ]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no stray database file, no directory


def test_status_with_nothing_running_says_so_and_creates_nothing(tmp_path):
    result = run(["-m", "config.embedded", "status"], tmp_path / "var")
    assert result.returncode == 3
    assert result.stdout.splitlines() == [
        f"postgres: not running ({tmp_path / 'var' / 'pg'})",
        f"redis: not running ({tmp_path / 'var' / 'redis'})",
    ]
    env = run(["-m", "config.embedded", "env"], tmp_path / "var")
    assert env.returncode == 1 and len(env.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    base = tmp_path_factory.mktemp("embedded")
    started = run(["-m", "config.embedded", "start", "--ephemeral"], base)
    try:
        assert started.returncode == 0, started.stderr
        assert started.stdout.split() == ["postgres", "redis"]
        yield base
    finally:
        run(["-m", "config.embedded", "stop"], base)


def test_manage_py_finds_the_running_embedded_database_and_broker(services):
    code = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='localhost').get('/healthz');"
        "print(json.dumps(r.json()))"
    )
    result = run(["-c", code], services, DJANGO_SETTINGS_MODULE="config.settings")
    assert result.returncode == 0, result.stderr
    import json

    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert body["database"] == {"ok": True, "vendor": "postgresql", "service": "embedded"}
    assert body["broker"] == {"ok": True, "mode": "redis", "service": "embedded"}
    migrated = run(["manage.py", "showmigrations", "accounts"], services)
    assert migrated.returncode == 0, migrated.stderr
    assert "[ ] 0001_initial" in migrated.stdout


def test_status_env_and_a_second_start_name_the_running_services(services):
    status = run(["-m", "config.embedded", "status"], services)
    assert status.returncode == 0
    assert status.stdout.splitlines() == [
        f"postgres: running at {embedded.database_url(services)}",
        f"redis: running at {embedded.broker_url(services)}",
    ]
    # The socket lives with the data: another checkout's server can never answer here.
    assert str(services / "pg").replace("/", "%2F") in embedded.database_url(services)
    again = run(["-m", "config.embedded", "start"], services)
    assert again.returncode == 0 and again.stdout.strip() == ""  # started nothing
    env = run(["-m", "config.embedded", "env"], services)
    assert env.stdout.splitlines() == [
        f"export DATABASE_URL={embedded.database_url(services)}",
        f"export CELERY_BROKER_URL={embedded.broker_url(services)}",
    ]


def test_stop_leaves_no_server_behind(tmp_path):
    base = tmp_path / "var"
    assert run(["-m", "config.embedded", "start", "--ephemeral"], base).returncode == 0
    pids = [embedded._postmaster(base)["pid"], embedded._redis(base)["pid"]]
    stopped = run(["-m", "config.embedded", "stop"], base)
    assert stopped.returncode == 0
    assert [embedded._alive(pid) for pid in pids] == [False, False]
    assert embedded.database_url(base) is None and embedded.broker_url(base) is None
