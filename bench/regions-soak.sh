#!/usr/bin/env bash
# make soak (regions as hosts): `drctl-lab up --hosts` left alone for SOAK_SECONDS with
# LATENCY ± JITTER round trips and LOSS between regions (a lost chunk costs its connection a
# retransmission, ~200 ms), a writer in region3 inserting every ~100 ms. Nothing is wrong
# but the network's ordinary trouble, so there must be no failover and no fence: exits 1 on
# any. Prints the writes, the longest gap between acknowledged writes, and the etcd errors
# the agents logged.
set -euo pipefail
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-$PWD/.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-$PWD/.build/debug/drctl-lab}
SOAK_SECONDS=${SOAK_SECONDS:-600}
LATENCY=${LATENCY:-40ms} JITTER=${JITTER:-5ms} LOSS=${LOSS:-0.01}
export PGCONNECT_TIMEOUT=2
# shellcheck source=bench/common.sh
source bench/common.sh
dir=$(mktemp -d /tmp/drctl-regions-soak-XXXXXX); rmdir "$dir"
trap 'touch "$dir.stop"; "$DRCTL_LAB" down --dir "$dir" >/dev/null 2>&1 || true; rm -f "$dir.acks" "$dir.stop"' EXIT
"$DRCTL_LAB" up --hosts --dir "$dir" --latency "$LATENCY" --jitter "$JITTER" --loss "$LOSS" >/dev/null
r3=$(python3 -c "import json;print(json.load(open('$dir/regions.json'))['hosts']['hosts'][2]['namespace'])")
echo "regions soak: ${SOAK_SECONDS}s, $LATENCY ± $JITTER between regions, loss $LOSS; settings:"
grep -E '^\s+(lease_ttl|interval|failures|timeout):' "$dir/drctl.yaml" | sed 's/^ */  /'
conn="host=10.213.0.2 port=5432 user=postgres dbname=postgres"
ip netns exec "$r3" psql "$conn" -qc "CREATE TABLE soak (id int PRIMARY KEY)" >/dev/null
: >"$dir.acks"
end=$(( $(date +%s) + SOAK_SECONDS )); id=0; failed=0
while [ "$(date +%s)" -lt "$end" ]; do
  id=$((id + 1))
  if ip netns exec "$r3" psql "$conn" -qtAc "INSERT INTO soak VALUES ($id)" >/dev/null 2>&1; then echo "$(now_ms)" >>"$dir.acks"
  else failed=$((failed + 1)); fi
  sleep 0.1
done
failovers=$(ip netns exec "$r3" "$DRCTL" history --config "$dir/drctl.yaml" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
leader=$(ip netns exec "$r3" etcdctl --endpoints 10.213.0.4:2379 get /drctl/regions/leader --print-value-only)
gap=$(longest_gap "$dir.acks" 1)
fences=$(cat "$dir"/region*/agent/agent.log | grep -c "fencing the local database" || true)
etcd_errors=$(cat "$dir"/region*/agent/agent.log | grep -ci "etcd unreachable\|etcd.*fail" || true)
echo "writes: $(wc -l <"$dir.acks") acknowledged, $failed failed; longest gap between acknowledged writes: $gap ms"
echo "agents' log lines about etcd errors: $etcd_errors; about fencing: $fences"
echo "failovers: $failovers (leader now: $leader)"
[ "$failovers" -eq 0 ] && [ "$leader" = pg1 ] && [ "$fences" -eq 0 ]
