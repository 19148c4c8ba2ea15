#!/usr/bin/env bash
# `make multihost`: the multi-host test at full size, on a throwaway PostgreSQL from the wheel
# (or TEST_DATABASE_URL's cluster when it is on a unix socket). See bench/multihost.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
python bench/multihost.py --examinees "${EXAMINEES:-100}" --items 10 --blocks 2 --think 2.0 --timeout 240 "$@"
