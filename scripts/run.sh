#!/usr/bin/env bash
# `make run`: migrate, load the demo bank and accounts, and serve on 127.0.0.1:$PORT.
# Without DATABASE_URL / CELERY_BROKER_URL it uses SQLite under var/ and runs tasks in-process.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s var/secret_key ]; then
    python -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
    chmod 600 var/secret_key
  fi
  SECRET_KEY="$(cat var/secret_key)"
  export SECRET_KEY
fi
# Plain HTTP on loopback: cookies cannot be Secure here. Production leaves HTTPS on.
export HTTPS="${HTTPS:-0}"
PORT="${PORT:-8000}"
python manage.py migrate --noinput
python manage.py collectstatic --noinput --verbosity 0
python manage.py load_demo
if [ -z "${CELERY_BROKER_URL:-}" ]; then
  # No beat without a broker: a small loop closes blocks whose examinee left.
  python manage.py run_sweeps --every 15 &
  SWEEPER=$!
  trap 'kill $SWEEPER 2>/dev/null || true' EXIT
fi
echo "Mockboard is at http://127.0.0.1:${PORT}/  (Ctrl-C to stop)"
gunicorn config.wsgi:application --bind "127.0.0.1:${PORT}" --workers "${WEB_WORKERS:-2}" \
  --access-logfile - --log-level warning
