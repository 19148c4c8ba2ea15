#!/usr/bin/env bash
# `make run`: the production architecture on one machine. Without DATABASE_URL it starts this
# checkout's private PostgreSQL (data in var/pg), without CELERY_BROKER_URL its private Redis
# (config/embedded.py); then it migrates, loads the demo and runs gunicorn, a Celery worker and
# beat under honcho (Procfile). Ctrl-C stops all of it, and the services it started.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s var/secret_key ]; then
    python -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
    chmod 600 var/secret_key
  fi
  # The settings read var/secret_key too, so manage.py commands use the same key.
  SECRET_KEY="$(cat var/secret_key)"
  export SECRET_KEY
fi
# Plain HTTP on loopback: cookies cannot be Secure here. Production leaves HTTPS on.
export HTTPS="${HTTPS:-0}"
export MOCKBOARD_PORT="${PORT:-8000}"

want=()
[ -n "${DATABASE_URL:-}" ] || want+=(postgres)
[ -n "${CELERY_BROKER_URL:-}" ] || want+=(redis)
if [ ${#want[@]} -gt 0 ]; then
  flags=()
  [[ " ${want[*]} " == *" postgres "* ]] || flags+=(--no-postgres)
  [[ " ${want[*]} " == *" redis "* ]] || flags+=(--no-redis)
  # stdout names what this run started: only that is stopped on the way out.
  started="$(python -m config.embedded start "${flags[@]}")"
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap '[ -z "$started" ] || python -m config.embedded stop --only "$started"' EXIT
fi
python manage.py migrate --noinput
python manage.py collectstatic --noinput --verbosity 0
python manage.py load_demo
echo "Mockboard is at http://127.0.0.1:${MOCKBOARD_PORT}/  (Ctrl-C to stop)"
colour=()
[ -t 1 ] || colour=(--no-colour)
# honcho stops every process when one exits, or on Ctrl-C. Its .env reading is off: the
# environment is this shell's.
honcho start "${colour[@]}" --procfile Procfile --env /dev/null
