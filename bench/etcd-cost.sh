#!/usr/bin/env bash
# make bench (what a cluster costs etcd): the default lab (2 agents with a database each) at
# the lab's settings (500 ms loop, 2 s lease) and at the production defaults `drctl init`
# writes (1 s loop, 5 s lease), each left in steady state for DURATION seconds idle and
# DURATION seconds under a write load (an INSERT every ~50 ms: the primary's position moves
# every loop). Prints, from etcd's own metrics, the requests by gRPC method behind the JSON
# gateway (/v3/kv/txn is Txn, /v3/kv/put Put, /v3/kv/range Range, /v3/lease/keepalive
# LeaseKeepAlive, /v3/watch Watch), the writes raft committed and the bytes each way, per
# second and per agent loop; from each agent's /metrics, its requests by purpose
# (drctl_etcd_requests_total) and the TCP connections it opened (drctl_etcd_connections_opened).
# docs/fleet.md turns these figures into clusters per etcd.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
DRCTL=${DRCTL:-.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-.build/debug/drctl-lab}
DURATION=${DURATION:-30}
dir=""
writer=""
cleanup() {
  [[ -n "$writer" ]] && kill "$writer" 2>/dev/null || true
  [[ -n "$dir" ]] && { "$DRCTL_LAB" down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"; }
}
trap cleanup EXIT

# Each agent's requests by purpose (summed over the agents) and its connections opened.
agents_sample() {
  for api in "${apis[@]}"; do curl -s "$api/metrics"; done | awk '
    /^drctl_etcd_requests_total/ { match($0, /purpose="[^"]+"/); p = substr($0, RSTART + 9, RLENGTH - 10); v["purpose:" p] += $NF }
    /^drctl_etcd_connections_opened/ { v["connections_opened"] += $NF }
    END { for (k in v) printf "%s %s\n", k, v[k] }' | sort
}

measure() { # label
  local before after abefore aafter loops
  before=$(etcd_sample "$etcd"); abefore=$(agents_sample)
  sleep "$DURATION"
  after=$(etcd_sample "$etcd"); aafter=$(agents_sample)
  loops=$(awk -v d="$DURATION" -v i="$interval_ms" 'BEGIN { printf "%.1f", d * 1000 / i }')
  echo "  $1 (${DURATION} s, ${loops} loops per agent):"
  sample_rates etcd "$before" "$after" "$DURATION" "${#apis[@]}" "$loops"
  sample_rates agents "$abefore" "$aafter" "$DURATION" "${#apis[@]}" "$loops"
}

run_lab() { # label, health interval, lease TTL
  dir=$(mktemp -d /tmp/drctl-bench-etcd-XXXXXX); rmdir "$dir"
  "$DRCTL_LAB" up --dir "$dir" --health-interval "$2" --lease-ttl "$3" >/dev/null
  local status
  status=$("$DRCTL_LAB" status --dir "$dir" --json)
  etcd=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['etcd']['endpoint'])" "$status")
  mapfile -t apis < <(python3 -c "import json,sys; [print(a['api']) for a in json.loads(sys.argv[1])['agents']]" "$status")
  local conn
  conn=$(python3 -c "
import json,sys
n = json.loads(sys.argv[1])['nodes'][0]
print(f\"host={n['host']} port={n['port']} user=postgres dbname=postgres\")" "$status")
  interval_ms=$(awk -v t="$2" 'BEGIN { if (t ~ /ms$/) print t + 0; else print (t + 0) * 1000 }')
  echo "etcd cost, $1: ${#apis[@]} agents, health interval $2, lease TTL $3, one etcd member"
  sleep 8 # past start-up: leases granted, members published, the standby streaming
  measure "idle"
  psql "$conn" -qc "CREATE TABLE IF NOT EXISTS etcd_cost (id serial PRIMARY KEY, at timestamptz DEFAULT now())"
  (while true; do psql "$conn" -qc "INSERT INTO etcd_cost DEFAULT VALUES" >/dev/null 2>&1; sleep 0.05; done) &
  writer=$!
  sleep 2
  measure "under a write load (an INSERT every ~50 ms)"
  kill "$writer"; wait "$writer" 2>/dev/null || true; writer=""
  "$DRCTL_LAB" down --dir "$dir" >/dev/null; dir=""
}

run_lab "lab settings" 500ms 2s
run_lab "production defaults (drctl init)" 1s 5s
