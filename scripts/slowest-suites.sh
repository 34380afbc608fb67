#!/usr/bin/env bash
# The slowest leaf suites of a swift test log: "seconds  suite  (passed|failed)".
# Usage: slowest-suites.sh LOG [COUNT]
set -euo pipefail
log=$1 count=${2:-10}
# Swift Testing prints `Suite NAME passed after S seconds.` (or failed ... with N issues);
# RealServers only wraps the lab suites, so it is left out.
sed -nE 's/^.{0,4}Suite ("[^"]+"|[A-Za-z0-9_]+) (passed|failed) after ([0-9.]+) seconds.*/\3\t\1\t\2/p' "$log" |
  grep -v $'\tRealServers\t' | sort -t$'\t' -k1,1 -g -r | head -n "$count" |
  awk -F'\t' '{ printf "%8.1f s  %s  (%s)\n", $1, $2, $3 }'
