#!/usr/bin/env bash
# `make test`: the whole suite on a real PostgreSQL and Redis (TEST_DATABASE_URL and
# TEST_CELERY_BROKER_URL, or a throwaway pair from the wheels: scripts/services.sh); the Celery
# worker that some tests need is started (and always stopped) by a fixture in tests/conftest.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

export SECRET_KEY="test-only-secret-key-not-for-production-use-0123456789"
export HTTPS=0 STATIC_NO_MANIFEST=1
export SWEEP_INTERVAL_SECONDS=1

mkdir -p var/staticfiles
ruff check .
ruff format --check .
python manage.py makemigrations --check --dry-run >/dev/null || {
  echo "A model change has no migration: run python manage.py makemigrations" >&2; exit 1; }
python -m pytest --durations=15 "$@"
