"""`make run`'s embedded mode: SQLite and in-process tasks, with the sweeps still working."""

import os
import subprocess
import sys

from tests.conftest import ROOT


def run(args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_sweeps_run_on_the_embedded_sqlite(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    migrated = run(["migrate", "--noinput", "-v0"], env)
    assert migrated.returncode == 0, migrated.stderr
    # The analytics sweep used PostgreSQL-only SQL and stopped `make run`'s sweep loop.
    swept = run(["run_sweeps", "--once"], env)
    assert swept.returncode == 0, swept.stderr
    assert "closed 0 attempts' expired blocks" in swept.stdout
