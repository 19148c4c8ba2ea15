#!/usr/bin/env bash
# `make test`: the whole suite on the real PostgreSQL and Redis; the Celery worker that some
# tests need is started (and always stopped) by a fixture in tests/conftest.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/mockboard}"
export CELERY_BROKER_URL="${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/15}"
export SECRET_KEY="test-only-secret-key-not-for-production-use-0123456789"
export HTTPS=0 STATIC_NO_MANIFEST=1
export SWEEP_INTERVAL_SECONDS=1

mkdir -p var/staticfiles
ruff check .
ruff format --check .
python manage.py makemigrations --check --dry-run >/dev/null || {
  echo "A model change has no migration: run python manage.py makemigrations" >&2; exit 1; }
python -m pytest "$@"
