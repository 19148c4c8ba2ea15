"""Probes behind /healthz. Each answers quickly, and never raises.

Each names the service it probed: `embedded` (the private server `make run` started from its
wheel, config/embedded.py) or `configured` (DATABASE_URL / CELERY_BROKER_URL)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def database_state() -> dict:
    # The engine's last dotted name ("postgresql"), the only one the settings accept.
    state = {
        "vendor": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "service": settings.DATABASE_SERVICE,
    }
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the message is the diagnosis
        return {"ok": False, **state, "error": str(exc).splitlines()[0]}
    return {"ok": True, **state}


def broker_state() -> dict:
    from config.celery import app

    state = {"mode": "redis", "service": settings.BROKER_SERVICE}
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
    except Exception as exc:  # kombu raises many transport-specific errors
        return {"ok": False, **state, "error": str(exc).splitlines()[0]}
    return {"ok": True, **state}


def worker_state(*, timeout: float = 0.5, tries: int = 2) -> dict:
    from config.celery import app

    replies: list = []
    # A broadcast ping over Redis now and then loses its reply (the reply queue is declared
    # while the ping is in flight), so one silent round is not yet proof of no worker.
    for _ in range(tries):
        try:
            replies = app.control.ping(timeout=timeout) or []
        except Exception as exc:
            return {"ok": False, "workers": 0, "error": str(exc).splitlines()[0]}
        if replies:
            break
    return {"ok": bool(replies), "workers": len(replies)}
