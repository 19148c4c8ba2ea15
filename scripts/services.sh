#!/usr/bin/env bash
# The services of `make test`, sourced by test.sh: TEST_DATABASE_URL and TEST_CELERY_BROKER_URL
# when given, otherwise a throwaway PostgreSQL and Redis from the wheels (config/embedded.py)
# in a temp dir, stopped and removed on exit whatever happens. Sets DATABASE_URL and
# CELERY_BROKER_URL for the suite.
set -euo pipefail

flags=()
[ -z "${TEST_DATABASE_URL:-}" ] || flags+=(--no-postgres)
[ -z "${TEST_CELERY_BROKER_URL:-}" ] || flags+=(--no-redis)
if [ ${#flags[@]} -lt 2 ]; then
  EMBEDDED_TMP="$(mktemp -d "${TMPDIR:-/tmp}/mb-test-XXXXXX")"
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'python -m config.embedded stop --dir "$EMBEDDED_TMP" 2>/dev/null || true; rm -rf "$EMBEDDED_TMP"' EXIT
  python -m config.embedded start --dir "$EMBEDDED_TMP" --ephemeral "${flags[@]}" >/dev/null
fi
embedded_url() { python -c "import sys; from config import embedded; print(embedded.$1(sys.argv[1]))" "$EMBEDDED_TMP"; }
DATABASE_URL="${TEST_DATABASE_URL:-$(embedded_url database_url)}"
CELERY_BROKER_URL="${TEST_CELERY_BROKER_URL:-$(embedded_url broker_url)}"
export DATABASE_URL CELERY_BROKER_URL

# Browser tests drive Debian's Chromium; Playwright's own browser download cannot work here.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "services: installing Debian's chromium for the browser tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi

# The multi-host test (tests/scaling/test_multihost.py) runs Debian's HAProxy and PgBouncer.
if { ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; } || { ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "services: installing Debian's haproxy and pgbouncer for the multi-host test" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy pgbouncer) >/dev/null
  fi
fi
