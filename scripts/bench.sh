#!/usr/bin/env bash
# `make bench`: answer-save benchmark (wrk, save vs. a bare one-UPDATE view), cohort load test
# with a start spike, then fault injection on a private PostgreSQL + Redis. ~10 minutes.
# Uses database mb_bench and Redis db 8 on the local servers; never stops them.
# Results: var/bench/results.{json,md}, var/bench/faults.json (docs/benchmarks.md, docs/faults.md).
#   BENCH_QUICK=1   5 s wrk runs and 200 examinees (a smoke run)
#   BENCH_FAULTS=0  skip the fault injection
#   REDIS_DOWN=60   seconds the broker stays down in the fault run
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "bench: installing Debian's wrk (the load generator)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null
fi
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install -y wrk)" >&2; exit 1; }
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "bench: PostgreSQL is not up on :5432" >&2; exit 1; }
redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG || { echo "bench: Redis is not up" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || true
mkdir -p var/bench
status=0
python bench/run_bench.py ${BENCH_QUICK:+--quick} || status=$?
if [ "${BENCH_FAULTS:-1}" = 1 ]; then
  python bench/faults.py --redis-down "${REDIS_DOWN:-60}" || status=$?
fi
exit $status
