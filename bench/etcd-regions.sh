#!/usr/bin/env bash
# make bench (etcd across regions): one etcd member per region namespace (etcd's default
# raft timing, 100 ms heartbeat / 1 s election), LATENCIES round trips between regions,
# TRIALS times each. From region1, a leader's loop (read the cluster, renew a 10 s lease,
# every 100 ms, through drctl's gateway): its duration, then the longest gap between two
# confirmed renewals while etcd's raft leader is SIGKILLed — what a lease TTL must cover.
set -euo pipefail
[ -n "${BENCH_DEBUG:-}" ] && set -x
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-$PWD/.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-$PWD/.build/debug/drctl-lab}
TRIALS=${TRIALS:-5}
LATENCIES=${LATENCIES:-"0ms 40ms 100ms"}
export ETCDCTL_API=3

# shellcheck source=bench/common.sh
source bench/common.sh

field() { python3 -c "import json,sys; r=json.loads(sys.stdin.read().strip().splitlines()[-1]); print($1)"; }

trial() { # latency -> prints "loop_median_ms longest_gap_ms failed_loops"
  local latency=$1 dir ns endpoints quiet leader pid
  dir=$(mktemp -d /tmp/drctl-regions-XXXXXX); rmdir "$dir"
  "$DRCTL_LAB" regions up --dir "$dir" --latency "$latency" >"$dir.up.log"
  ns=$(python3 -c "import json;print(json.load(open('$dir/regions.json'))['hosts']['hosts'][0]['namespace'])")
  endpoints=$(grep '^etcd endpoints from region1:' "$dir.up.log" | cut -d' ' -f5)
  quiet=$(ip netns exec "$ns" "$DRCTL_LAB" regions probe --endpoints "$endpoints" --duration 3s | field "sorted(r['loopMillis'])[(len(r['loopMillis'])-1)//2]")
  ip netns exec "$ns" "$DRCTL_LAB" regions probe --endpoints "$endpoints" --duration 10s >"$dir.probe" &
  local probe=$!
  sleep 3
  leader=$(ip netns exec "$ns" etcdctl --endpoints "$endpoints" --dial-timeout 1s endpoint status -w json | python3 -c "
import json,sys
for s in json.load(sys.stdin):
    if s['Status']['header']['member_id'] == s['Status']['leader']: print(s['Endpoint'])")
  pid=$(python3 -c "
import json
for m in json.load(open('$dir/regions.json'))['members']:
    if f\"http://{m['host']}:{m['clientPort']}\" == '$leader': print(open(m['pidFile']).read().strip())")
  kill -KILL "$pid"
  wait "$probe"
  echo "$quiet $(field "r['longestRenewalGapMillis'], r['failures']" <"$dir.probe" | tr -d '(),')"
  "$DRCTL_LAB" regions down --dir "$dir"
  rm -f "$dir.up.log" "$dir.probe"
}

echo "etcd across regions: 3 members, one per region namespace (heartbeat 100ms, election 1s); probe in region1: read + renew a 10s lease every 100ms"
for latency in $LATENCIES; do
  loops=() gaps=() failed=0
  for _ in $(seq "$TRIALS"); do
    read -r loop gap fails <<<"$(trial "$latency")"
    loops+=("$loop"); gaps+=("$gap"); failed=$((failed + fails))
  done
  echo
  echo "$latency round trip between regions ($TRIALS trials):"
  stats "leader's loop (read + renew), median" ms "${loops[@]}"
  stats "longest renewal gap, raft leader killed" ms "${gaps[@]}"
  echo "  failed loops during the elections: $failed"
done
