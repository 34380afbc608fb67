#!/usr/bin/env bash
# Runs one suite (or any swift test filter) N times on the current build and counts how
# often it fails: flakes are hunted on purpose, not met by chance in CI.
# Usage: flake-hunt.sh FILTER N
# Each failed run's log stays in .build/flake-hunt/, and the artifacts tests kept during it
# (.build/test-artifacts/: rulesets, connection tables, server and agent logs) are listed.
set -uo pipefail
cd "$(dirname "$0")/.."
filter=${1:?usage: flake-hunt.sh FILTER N} runs=${2:-5}
out=.build/flake-hunt
mkdir -p "$out" .build/test-artifacts
slug=$(printf '%s' "$filter" | tr -c 'A-Za-z0-9_.-' '_')
passed=0 failed=0
for i in $(seq 1 "$runs"); do
  marker=$(mktemp)
  log="$out/$slug-$i.log"
  started=$(date +%s)
  if swift test --skip-build --filter "$filter" >"$log" 2>&1; then
    passed=$((passed + 1)); verdict=passed
  else
    failed=$((failed + 1)); verdict=FAILED
  fi
  # A filter that matches nothing passes vacuously: that is a mistake, not a green run.
  if grep -qE 'Test run with 0 tests' "$log"; then echo "no test matches '$filter'"; rm -f "$marker"; exit 2; fi
  echo "run $i/$runs: $verdict in $(( $(date +%s) - started )) s"
  if [ "$verdict" = FAILED ]; then
    grep -E '^✘|recorded an issue|↳' "$log" | head -n 20 | sed 's/^/    /'
    echo "    log: $log"
    find .build/test-artifacts -mindepth 1 -maxdepth 1 -newer "$marker" | sed 's/^/    kept: /'
  else
    rm -f "$log"
  fi
  rm -f "$marker"
done
echo "$filter: $passed passed, $failed failed of $runs runs"
[ "$failed" -eq 0 ]
