#!/usr/bin/env bash
# make bench (regions as hosts): region1's whole host lost (SIGKILL to everything in its
# namespace: database, agent, watchdog, etcd member, relay) with LATENCIES round trips
# between regions, TRIALS times each, recommended settings (1 s checks, 3 failures, 5 s
# lease, etcd 100 ms heartbeat / 1 s election). Prints the time from the kill until pg2
# accepts a write, asked by psql from region3 every ~50 ms.
set -euo pipefail
[ -n "${BENCH_DEBUG:-}" ] && set -x
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-$PWD/.build/debug/drctl}
TRIALS=${TRIALS:-5}
LATENCIES=${LATENCIES:-"0ms 40ms"}
export PGCONNECT_TIMEOUT=1

# shellcheck source=bench/common.sh
source bench/common.sh

trial() { # latency -> prints "failover_ms"
  local latency=$1 dir r1 r3 t0 elapsed=-1
  dir=$(mktemp -d /tmp/drctl-regions-XXXXXX); rmdir "$dir"
  "$DRCTL" lab regions up --dir "$dir" --latency "$latency" --agents >"$dir.up.log"
  r1=$(python3 -c "import json;print(json.load(open('$dir/regions.json'))['hosts']['hosts'][0]['namespace'])")
  r3=$(python3 -c "import json;print(json.load(open('$dir/regions.json'))['hosts']['hosts'][2]['namespace'])")
  sleep 5 # the standby's agent has seen the leader and the primary's progress
  t0=$(now_ms)
  # shellcheck disable=SC2046
  kill -KILL $(ip netns pids "$r1")
  for _ in $(seq 1200); do
    if ip netns exec "$r3" psql "host=10.213.0.3 port=5432 user=postgres dbname=postgres" -XqtAc \
      "CREATE TABLE IF NOT EXISTS t (i int); INSERT INTO t VALUES (1)" >/dev/null 2>&1; then
      elapsed=$(( $(now_ms) - t0 )); break
    fi
    sleep 0.05
  done
  "$DRCTL" lab regions down --dir "$dir" >/dev/null
  rm -f "$dir.up.log"
  echo "$elapsed"
}

echo "regions as hosts: region1's host lost (SIGKILL to its namespace), pg2 in region2 must take writes; client in region3"
for latency in $LATENCIES; do
  times=()
  for _ in $(seq "$TRIALS"); do times+=("$(trial "$latency")"); done
  echo
  echo "$latency round trip between regions ($TRIALS trials):"
  stats "kill to first write on pg2" ms "${times[@]}"
done
echo
echo "settings: health.interval 1s, failures 3, timeout 500ms, lease_ttl 5s (DIR/drctl.yaml of the regions lab)"
