"""State that must hold across web nodes lives in shared services, not in one process."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

ROOT = Path(__file__).resolve().parent.parent.parent


def _in_another_process(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_the_cache_is_shared_between_processes():
    key = f"shared-{uuid.uuid4().hex}"
    cache.set(key, "written here", 60)
    try:
        seen = _in_another_process(
            f"from django.core.cache import cache; print(cache.get({key!r}))"
        )
    finally:
        cache.delete(key)
    assert seen == "written here"


def test_sessions_and_the_login_throttle_are_kept_in_the_database():
    # Every node reads the same rows; nothing of either lives in a process (docs/scaling.md).
    assert settings.SESSION_ENGINE == "accounts.sessions"
    from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

    from accounts.sessions import SessionStore

    assert issubclass(SessionStore, DatabaseStore)
    from axes.handlers.database import AxesDatabaseHandler
    from django.utils.module_loading import import_string

    assert issubclass(import_string(settings.AXES_HANDLER), AxesDatabaseHandler)
