#!/usr/bin/env bash
# make bench (etcd outage part): the lab's only etcd member frozen (SIGSTOP: requests hang
# until their time-outs, leases lapse when it resumes) for OUTAGE seconds with every node up,
# TRIALS times with failover.failsafe and once without, under a write load to the primary.
# Prints, per trial, the longest pause between acknowledged writes during the outage, the
# writes acknowledged during it, and whether the primary (and its timeline) stayed.
set -euo pipefail
[ -n "${BENCH_DEBUG:-}" ] && set -x
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-.build/debug/drctl-lab}
TRIALS=${TRIALS:-5}
OUTAGE=${OUTAGE:-10}
export PGCONNECT_TIMEOUT=1

# shellcheck source=bench/common.sh
source bench/common.sh

trial() { # failsafe(0|1) -> prints "longest_pause_ms acks_during same_primary"
  local failsafe=$1 dir
  dir=$(mktemp -d /tmp/drctl-bench-XXXXXX); rmdir "$dir"
  "$DRCTL_LAB" up --dir "$dir" $([ "$failsafe" = 1 ] && echo --failsafe) >/dev/null
  cp "$dir/drctl.yaml" "$SETTINGS"
  local p1 conn acks etcd
  p1=$(python3 -c "import json;print(json.load(open('$dir/lab.json'))['nodes'][0]['port'])")
  etcd=$("$DRCTL_LAB" status --dir "$dir" --json | python3 -c "import json,sys;print(json.load(sys.stdin)['etcd']['pid'])")
  conn="host=127.0.1.1 port=$p1 user=postgres dbname=postgres"
  psql "$conn" -qc "CREATE TABLE bench (id int PRIMARY KEY)" >/dev/null
  # The leader lists its members in etcd before the outage (failsafe needs the list).
  sleep 3
  acks="$dir/acks"
  : >"$acks"
  ( id=0; while [ ! -f "$dir/stop" ]; do id=$((id + 1))
      if psql "$conn" -qtAc "INSERT INTO bench VALUES ($id)" >/dev/null 2>&1; then echo "$(now_ms)" >>"$acks"; fi
      sleep 0.02; done ) &
  local writer=$!
  sleep 2
  local t0 t1; t0=$(now_ms)
  kill -STOP "$etcd"
  sleep "$OUTAGE"
  kill -CONT "$etcd"
  t1=$(now_ms)
  sleep 5
  touch "$dir/stop"; wait "$writer" 2>/dev/null || true
  local primary
  primary=$("$DRCTL" status --config "$dir/drctl.yaml" --json 2>/dev/null | python3 -c "
import json,sys; r=json.load(sys.stdin); print(','.join(f\"{n['name']}@{n['timeline']}\" for n in r['nodes'] if n['role']=='primary'))" || true)
  local result
  result=$(awk -v t0="$t0" -v t1="$t1" -v primary="$primary" '
    # The longest stretch without an acknowledged write from the outage start to its end.
    $1 <= t0 { last = $1 }
    $1 > t0 && $1 <= t1 { if (last && $1 - last > longest) longest = $1 - last; last = $1; n++ }
    END {
      if (!last) last = t0
      if (t1 - last > longest) longest = t1 - last
      printf "%d %d %s\n", longest, n, (primary == "pg1@1" ? "yes" : "no(" primary ")")
    }' "$acks")
  "$DRCTL_LAB" down --dir "$dir" >/dev/null
  echo "$result"
}

SETTINGS=$(mktemp)
trap 'rm -f "$SETTINGS"' EXIT
echo "etcd outage: the only etcd member SIGSTOPped for ${OUTAGE}s with every node up; writer: psql INSERT every ~20ms to the primary"
for failsafe in 1 0; do
  pauses=() counts=() kept=0 runs=$([ "$failsafe" = 1 ] && echo "$TRIALS" || echo 1)
  for _ in $(seq "$runs"); do
    read -r pause count same <<<"$(trial "$failsafe")"
    pauses+=("$pause"); counts+=("$count")
    [ "$same" = yes ] && kept=$((kept + 1))
  done
  echo
  [ "$failsafe" = 1 ] && echo "with failover.failsafe ($runs trials):" || echo "without failsafe (1 trial, for comparison):"
  stats "longest write pause during the outage" ms "${pauses[@]}"
  stats "writes acknowledged during the outage" "" "${counts[@]}"
  echo "  same primary on timeline 1 afterwards: $kept of $runs"
done
echo
echo "settings (from the lab's drctl.yaml):"
grep -E '^\s+(lease_ttl|interval|failures|timeout):' "$SETTINGS" | sed 's/^ */  /'
