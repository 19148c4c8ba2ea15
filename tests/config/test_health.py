"""/healthz against real services, each one up and down.

The "down" states are real: a separate process is pointed at a port where nothing listens.
"""

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.conftest import ROOT

PROBE = (
    "import django, json; django.setup();"
    "from django.test import Client;"
    "r = Client(HTTP_HOST='localhost').get('/healthz');"
    "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
)


def probe(**env_overrides: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env_overrides}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_healthz_is_200_with_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    # `make test` hands the suite its services through DATABASE_URL: "configured".
    assert body["database"] == {"ok": True, "vendor": "postgresql", "service": "configured"}


def test_healthz_is_503_when_database_is_unreachable():
    result = probe(DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere")
    assert result["status"] == 503
    assert result["body"]["database"]["ok"] is False
    assert result["body"]["status"] == "down"


def test_healthz_reports_broker_down_but_stays_200():
    result = probe(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    assert result["status"] == 200
    assert result["body"]["broker"]["ok"] is False
    assert result["body"]["worker"]["ok"] is False


def test_healthz_reports_no_worker_on_a_broker_nobody_consumes():
    # Celery's pings are broadcast per virtual host; Redis database 13 has no worker.
    other_db = urlsplit(settings.CELERY_BROKER_URL)._replace(path="/13").geturl()
    result = probe(CELERY_BROKER_URL=other_db)
    assert result["body"]["broker"] == {"ok": True, "mode": "redis", "service": "configured"}
    assert result["body"]["worker"]["ok"] is False
    assert result["body"]["worker"]["workers"] == 0


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_a_worker_that_answers(client, celery_worker_process):
    body = client.get("/healthz").json()
    assert body["broker"]["ok"] is True
    assert body["worker"]["ok"] is True
    assert body["worker"]["workers"] >= 1
    assert body["status"] == "ok"


@pytest.mark.django_db
def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


def test_settings_use_postgres_for_the_suite():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
