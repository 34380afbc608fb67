#!/usr/bin/env bash
# `make test`'s runner: the whole suite (unit, lab, root, a short chaos campaign), its log
# kept in .build/test.log, then the ten slowest suites so growth is seen where it happens.
# Ends with swift test's own summary lines and its exit status.
set -uo pipefail
cd "$(dirname "$0")/.."
log=.build/test.log
mkdir -p .build
started=$(date +%s)
swift test --skip-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
echo
echo "== the 10 slowest suites (whole run: $(( $(date +%s) - started )) s; log: $log)"
bash scripts/slowest-suites.sh "$log" 10
echo
# Swift Testing's closing line last, where CI and people look for it.
grep -E 'Test run with [0-9]+ tests?' "$log" | tail -n 1
exit "$status"
