#!/usr/bin/env bash
# `make bench`: answer-save benchmark (wrk, save vs. a bare one-UPDATE view), cohort load test
# with a start spike, the synchronised block deadline (bench/deadline.py), then fault injection
# on a private PostgreSQL + Redis. ~12 minutes.
# Saves and cohort run against BENCH_DATABASE_URL and BENCH_CELERY_BROKER_URL when given (the
# database it names is dropped and recreated, the Redis db flushed); otherwise against a
# PostgreSQL and Redis from the wheels (config/embedded.py) in a temp dir, durable like
# production (fsync on), stopped and removed on exit whatever happens.
# Results: var/bench/results.{json,md}, var/bench/deadline.{json,md}, var/bench/faults.json (docs/benchmarks.md, docs/faults.md).
#   BENCH_QUICK=1   5 s wrk runs and 200 examinees (a smoke run)
#   COHORT_EXAMINEES=1000 COHORT_THINK=9   the cohort: simulated examinees and their mean think
#                   time in seconds (90 s per item is real, so 9 is ×10; 1000 at 2.7 is 33,333)
#   BENCH_FLOOR=0   skip the framework-free floor (bench/floor.py) beside the save benchmark
#   BENCH_DEADLINE=0  skip the synchronised-deadline run (DEADLINE_EXAMINEES, default 200)
#   BENCH_FAULTS=0  skip the fault injection
#   REDIS_DOWN=60   seconds the broker stays down in the fault run
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "bench: installing Debian's wrk (the load generator)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null
fi
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install -y wrk)" >&2; exit 1; }

flags=()
[ -z "${BENCH_DATABASE_URL:-}" ] || flags+=(--no-postgres)
[ -z "${BENCH_CELERY_BROKER_URL:-}" ] || flags+=(--no-redis)
if [ ${#flags[@]} -lt 2 ]; then
  EMBEDDED_TMP="$(mktemp -d "${TMPDIR:-/tmp}/mb-bench-XXXXXX")"
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'python -m config.embedded stop --dir "$EMBEDDED_TMP" 2>/dev/null || true; rm -rf "$EMBEDDED_TMP"' EXIT
  # No --ephemeral: the saves are measured with fsync and synchronous commit on.
  python -m config.embedded start --dir "$EMBEDDED_TMP" "${flags[@]}" >/dev/null
fi
embedded_url() { python -c "import sys; from config import embedded; print(embedded.$1)" "$EMBEDDED_TMP"; }
BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-$(embedded_url 'database_url(sys.argv[1], "mb_bench")')}"
BENCH_CELERY_BROKER_URL="${BENCH_CELERY_BROKER_URL:-$(embedded_url 'broker_url(sys.argv[1], 8)')}"
export BENCH_DATABASE_URL BENCH_CELERY_BROKER_URL

ulimit -n 65536 2>/dev/null || true
mkdir -p var/bench
status=0
floor=(--floor)
[ "${BENCH_FLOOR:-1}" = 1 ] || floor=()
python bench/run_bench.py ${BENCH_QUICK:+--quick} "${floor[@]}" \
  --examinees "${COHORT_EXAMINEES:-1000}" --think "${COHORT_THINK:-9}" || status=$?
if [ "${BENCH_DEADLINE:-1}" = 1 ]; then
  python bench/deadline.py --examinees "${DEADLINE_EXAMINEES:-200}" || status=$?
fi
if [ "${BENCH_FAULTS:-1}" = 1 ]; then
  python bench/faults.py --redis-down "${REDIS_DOWN:-60}" || status=$?
fi
exit $status
