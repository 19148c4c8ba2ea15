"""The floor under Django for the save benchmark: a WSGI handler with no framework in the
request path that does what an answer save must do at the least.

    gunicorn bench.floor:application   (bench/run_bench.py --floor starts it like the app)

Per request, as the real save does: read the session row (the same prepared statement as
accounts/sessions.py) and verify its signature, read the user and check the session's auth hash
(what django.contrib.auth's middleware does), check the CSRF header against the cookie, then run
the save's own statement through psycopg, with the same activity update every
ACTIVITY_RESOLUTION. The statement is not copied: at start-up Django builds it once through
`answers.answer_save_fast` on an attempt that does not exist (it writes nothing) and the text is
captured, so the floor can never drift from the app. Only the choice field is saved (wrk's
saves post seq + choice). Anything but the plain case answers 409: there is no locked path.

Django is imported at start-up only (settings, the session codec, the statement); a request runs
the WSGI function below, psycopg and hmac.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import uuid as uuidlib
from datetime import UTC, datetime
from urllib.parse import parse_qs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bench_settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils.crypto import salted_hmac  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.sessions import SessionStore  # noqa: E402
from exams import answers, clock  # noqa: E402
from exams.models import Attempt  # noqa: E402


def _capture_save_sql() -> str:
    captured: list[str] = []

    def wrapper(execute, sql, params, many, context):
        captured.append(sql)
        return execute(sql, params, many, context)

    now = datetime.now(UTC)
    with connection.execute_wrapper(wrapper):
        answers.answer_save_fast(
            attempt_uuid=uuidlib.UUID(int=0), user_id=0, position=1, seq=1, now=now, choice=0
        )
    connection.close()
    return captured[0]


SAVE_SQL = _capture_save_sql()
SESSION_SQL = (
    "SELECT session_data, expire_date FROM django_session"
    " WHERE session_key = %s AND expire_date > %s"
)
USER_SQL = f"SELECT password FROM {User._meta.db_table} WHERE id = %s AND is_active"  # noqa: S608
ACTIVITY_SQL = (
    f"UPDATE {Attempt._meta.db_table} SET"  # noqa: S608 - model metadata
    " last_activity_at = GREATEST(last_activity_at, %s), last_seq = GREATEST(last_seq, %s)"
    " WHERE id = %s"
)
PATH_RE = re.compile(r"^/exams/a/([0-9a-f-]{36})/item/(\d+)/save/$")
_store = SessionStore()
_auth_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
_conn: psycopg.Connection | None = None


def _db() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        db = settings.DATABASES["default"]
        _conn = psycopg.connect(
            host=db["HOST"] or None,
            port=db["PORT"] or None,
            dbname=db["NAME"],
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            autocommit=True,
        )
    return _conn


def _reply(start_response, status: str, body: dict):
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def _cookies(environ) -> dict[str, str]:
    out = {}
    for part in environ.get("HTTP_COOKIE", "").split(";"):
        k, _, v = part.strip().partition("=")
        out[k] = v
    return out


def application(environ, start_response):
    if environ["PATH_INFO"] == "/healthz":
        return _reply(start_response, "200 OK", {"ok": True})
    m = PATH_RE.match(environ["PATH_INFO"])
    if environ["REQUEST_METHOD"] != "POST" or not m:
        return _reply(start_response, "404 Not Found", {"ok": False})
    cookies = _cookies(environ)
    token = cookies.get("csrftoken", "")
    if not token or not hmac.compare_digest(token, environ.get("HTTP_X_CSRFTOKEN", "")):
        return _reply(start_response, "403 Forbidden", {"ok": False, "error": "csrf"})
    length = int(environ.get("CONTENT_LENGTH") or 0)
    form = parse_qs(environ["wsgi.input"].read(length).decode())
    try:
        seq = int(form["seq"][0])
        choice = answers._parse_choice(form.get("choice", [""])[0])
        attempt_uuid = uuidlib.UUID(m.group(1))
        position = int(m.group(2))
    except (KeyError, ValueError):
        return _reply(start_response, "400 Bad Request", {"ok": False, "error": "invalid"})
    now = datetime.now(UTC)
    conn = _db()
    # Autocommit, statement by statement, as the app runs them (no ATOMIC_REQUESTS).
    row = conn.execute(SESSION_SQL, [cookies.get("sessionid", ""), now], prepare=True).fetchone()
    data = _store.decode(row[0]) if row else {}
    user_id = data.get(SESSION_KEY)
    user = user_id and conn.execute(USER_SQL, [int(user_id)], prepare=True).fetchone()
    if not user or not hmac.compare_digest(
        data.get(HASH_SESSION_KEY, ""),
        salted_hmac(_auth_salt, user[0], algorithm="sha256").hexdigest(),
    ):
        return _reply(start_response, "403 Forbidden", {"ok": False, "error": "login"})
    params = {
        "uuid": attempt_uuid,
        "user_id": int(user_id),
        "position": position,
        "seq": seq,
        "now": now,
        "cutoff": clock.write_cutoff(now),
        "seqs": json.dumps({"choice": seq}),
        "choice": choice,
    }
    saved = conn.execute(SAVE_SQL, params, prepare=True).fetchone()
    if saved is None:
        return _reply(start_response, "409 Conflict", {"ok": False})
    attempt_id, last_activity_at = saved[0], saved[3]
    if now - last_activity_at >= answers.ACTIVITY_RESOLUTION:
        conn.execute(ACTIVITY_SQL, [now, seq, attempt_id], prepare=True)
    return _reply(start_response, "200 OK", {"ok": True})
