"""Production settings: deploy check, cookies, CSP, and failing loudly on bad values."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.conftest import ROOT

PROD_ENV = {
    "DEBUG": "0",
    "HTTPS": "1",
    "SECRET_KEY": "prod-like-" + "k3y" * 20,
    "ALLOWED_HOSTS": "mockboard.example.org",
}


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", code],
        env=full_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_settings():
    # The browser tests allow Django's ORM inside Playwright's event loop for this process;
    # production never sets that, and the deploy check rightly refuses it.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**env, **PROD_ENV},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_cookies_are_secure_and_http_only():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_SSL_REDIRECT, s.DEBUG)"
    )
    out = run_python(code, **PROD_ENV)
    assert out.stdout.split() == ["True", "True", "True", "True", "False"], out.stderr


def test_debug_is_off_by_default_and_needs_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY_FILE": str(tmp_path / "none"),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be one of"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL must start with one of"),
        ("DATABASE_URL", "sqlite:///var/db.sqlite3", "SQLite is not supported"),
        ("CELERY_BROKER_URL", "amqp://x", "CELERY_BROKER_URL must start with one of"),
        ("ANSWER_GRACE_SECONDS", "five", "ANSWER_GRACE_SECONDS must be an integer"),
        ("SWEEP_INTERVAL_SECONDS", "0", "SWEEP_INTERVAL_SECONDS must be at least 1"),
        ("DATABASE_PREPARE_THRESHOLD", "often", "DATABASE_PREPARE_THRESHOLD must be an integer"),
    ],
)
def test_bad_environment_values_fail_loudly_with_the_name(name, value, message):
    out = run_python("import django; django.setup()", **{name: value})
    assert out.returncode != 0
    assert message in out.stderr


def test_a_worker_without_secret_key_reads_the_one_make_run_wrote(tmp_path):
    # The README's worker and beat run without SECRET_KEY in their environment: they must
    # sign with the key `make run` wrote, not stop at start-up.
    key_file = tmp_path / "secret_key"
    key_file.write_text("written-by-make-run-" + "x" * 40 + "\n")
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings;"
         " print(settings.SECRET_KEY)"],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY_FILE": str(key_file)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "written-by-make-run-" + "x" * 40


@pytest.mark.parametrize(("value", "expected"), [(None, "2"), ("0", "0"), ("none", "None")])
def test_prepared_statements_can_be_tuned_or_turned_off(value, expected):
    env = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/mockboard",
        "DATABASE_PREPARE_THRESHOLD": value or "",  # empty means unset
    }
    out = run_python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS']['prepare_threshold'])",
        **env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected


@pytest.mark.django_db
def test_csp_header_forbids_inline_scripts(client):
    response = client.get(reverse("accounts:login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp


@pytest.mark.django_db
def test_no_template_carries_inline_script_or_handler():
    import re

    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text):
            offenders.append(f"{path}: {match.group(0)}")
        for match in re.finditer(r"\son(click|load|submit|change|input|keydown|error)=", text):
            offenders.append(f"{path}: {match.group(0)}")
    assert offenders == []


# Issue #10, finding 12: safe defaults for a deployment.


def test_docker_compose_defaults_to_https():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "HTTPS: ${HTTPS:-1}" in text
    assert "HTTPS: ${HTTPS:-0}" not in text


def test_debug_without_a_secret_key_gets_a_random_key_and_a_warning():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    keys = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-c", code],
            env={**env, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings"},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "SECRET_KEY" in result.stderr  # the loud warning
        keys.append(result.stdout.strip())
    assert keys[0] != keys[1]
    assert len(keys[0]) >= 50
    assert "insecure" not in keys[0]
