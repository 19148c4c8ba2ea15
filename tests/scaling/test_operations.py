"""Operations: the request id crosses into queued tasks; the metrics endpoint needs its token;
a pg_dump of the database restores every acknowledged answer and every stored file."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from urllib.parse import quote

import psycopg
import pytest
import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from config.celery import app
from config.embedded import postgres_bin
from config.observability import request_id
from exams.models import Response
from tests.analytics.conftest import build  # noqa: F401 - the fixture

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.mark.django_db
def test_a_request_keeps_the_balancers_request_id_and_answers_with_it(client):
    response = client.get("/livez", headers={"X-Request-ID": "0A0B_10.77.0.30:5123_abc"})
    assert response["X-Request-ID"] == "0A0B_10.77.0.30:5123_abc"
    fresh = client.get("/livez", headers={"X-Request-ID": "<script>"})
    assert fresh["X-Request-ID"] != "<script>" and len(fresh["X-Request-ID"]) == 32


def test_a_task_queued_during_a_request_carries_its_request_id():
    queue = f"rid-test-{uuid.uuid4().hex[:8]}"
    token = request_id.set("req-1234567890")
    try:
        app.send_task("questions.tasks.purge_expired_uploads", queue=queue)
    finally:
        request_id.reset(token)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        [message] = client.lrange(queue, 0, -1)
    finally:
        client.delete(queue)
    assert json.loads(message)["headers"]["request_id"] == "req-1234567890"


@pytest.mark.django_db
def test_metrics_need_the_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    client.get("/livez")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="livez"}'
        in body
    )
    # The outcome series: the two refused scrapes above were counted as 404s of the view.
    assert re.search(
        r'django_http_responses_total_by_status_view_method_total\{method="GET",status="404",'
        r'view="metrics"\} ([0-9.]+)',
        body,
    )
    assert "mockboard_celery_queue_depth" in body
    assert "mockboard_analytics_lag_seconds" in body


@pytest.mark.django_db(transaction=True)
def test_a_restored_dump_has_every_acknowledged_answer_and_stored_file(build, examinee, tmp_path):  # noqa: F811
    questions = [build.question(key=n % 3) for n in range(4)]
    attempt = build.attempt(user=examinee, finished=False)
    block = build.block(attempt=attempt, closed=False)
    for position, version in enumerate(questions, start=1):
        build.response(block=block, position=position, version=version, choice=position % 3)
    name = default_storage.save("questions/backup-test.png", ContentFile(b"\x89PNG picture"))
    acknowledged = set(Response.objects.filter(attempt=attempt).values_list("position", "choice"))

    db = connection.settings_dict
    host, port, user = db["HOST"] or "127.0.0.1", str(db["PORT"] or 5432), db["USER"] or "postgres"
    dump = tmp_path / "mockboard.dump"
    bin_dir = postgres_bin()
    subprocess.run(
        [str(bin_dir / "pg_dump"), "-Fc", "-h", host, "-p", port, "-U", user, "-f", str(dump)]
        + [db["NAME"]],
        check=True,
        timeout=120,
    )
    restored = f"{db['NAME']}_restored"
    admin = f"postgres://{user}@{quote(host, safe='')}:{port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{restored}"')
        conn.execute(f'CREATE DATABASE "{restored}"')
    try:
        subprocess.run(
            [str(bin_dir / "pg_restore"), "--no-owner", "-h", host, "-p", port, "-U", user]
            + ["-d", restored, str(dump)],
            check=True,
            timeout=120,
        )
        url = f"postgres://{user}@{quote(host, safe='')}:{port}/{restored}"
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT r.position, r.choice FROM exams_response r"
                " JOIN exams_attempt a ON a.id = r.attempt_id WHERE a.uuid = %s",
                [attempt.uuid],
            ).fetchall()
            data = conn.execute(
                "SELECT c.data FROM questions_storedchunk c"
                " JOIN questions_storedfile f ON f.id = c.file_id WHERE f.name = %s",
                [name],
            ).fetchone()[0]
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
    assert set(rows) == acknowledged and len(acknowledged) == 4
    assert bytes(data) == b"\x89PNG picture"
