#!/usr/bin/env bash
# make soak: a lab left alone under injected trouble that must NOT cause a failover:
# etcd stalls (SIGSTOP, 200-800 ms: latency spikes) and primary health-check flaps
# (postmaster SIGSTOPped ~600 ms: one failed check, never FAILURES in a row).
# Prints the faults injected and the failovers seen; exits 1 on any failover.
set -euo pipefail
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-.build/debug/drctl-lab}
SOAK_SECONDS=${SOAK_SECONDS:-600}
dir=$(mktemp -d /tmp/drctl-soak-XXXXXX); rmdir "$dir"
trap '"$DRCTL_LAB" down --dir "$dir" >/dev/null 2>&1 || true' EXIT
"$DRCTL_LAB" up --dir "$dir" >/dev/null
etcd=$(cat "$dir/etcd/etcd.pid")
pg1=$(head -1 "$dir/region1/pg1/data/postmaster.pid")
echo "soak: ${SOAK_SECONDS}s on a fresh lab; settings:"
grep -E '^\s+(lease_ttl|interval|failures|timeout):' "$dir/drctl.yaml" | sed 's/^ */  /'

end=$(( $(date +%s) + SOAK_SECONDS )); spikes=0; flaps=0
while [ "$(date +%s)" -lt "$end" ]; do
  sleep "0.$(( RANDOM % 9 + 1 ))"
  if (( RANDOM % 2 )); then
    kill -STOP "$etcd"; sleep "0.$(( RANDOM % 7 + 2 ))"; kill -CONT "$etcd"; spikes=$((spikes + 1))
  else
    kill -STOP "$pg1"; sleep 0.6; kill -CONT "$pg1"; flaps=$((flaps + 1))
  fi
  sleep 1.6  # let the health counter and lease recover between faults
done
sleep 3
failovers=$("$DRCTL" history --config "$dir/drctl.yaml" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
leader=$("$DRCTL" status --config "$dir/drctl.yaml" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["leader"])' || true)
echo "injected: $spikes etcd stalls (200-800 ms), $flaps primary stalls (600 ms)"
echo "failovers: $failovers (leader now: $leader)"
[ "$failovers" -eq 0 ] && [ "$leader" = pg1 ]
