#!/usr/bin/env bash
# make bench (what a cluster costs etcd): the default lab (2 agents with a database each,
# the health interval of its config) left in steady state for DURATION seconds. Prints, from
# etcd's own metrics, the requests by kind (gRPC method behind the JSON gateway), the
# writes committed and the bytes each way, per second and per agent loop; and, from each
# agent's /metrics, the TCP connections it opened to etcd in that time, per loop. (The
# gateway's paths map to gRPC methods one to one: /v3/kv/txn is Txn, /v3/kv/put Put,
# /v3/kv/range Range, /v3/lease/keepalive LeaseKeepAlive, /v3/watch Watch.)
set -euo pipefail
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-.build/debug/drctl}
DURATION=${DURATION:-30}
dir=$(mktemp -d /tmp/drctl-bench-etcd-XXXXXX); rmdir "$dir"
cleanup() { "$DRCTL" lab down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
"$DRCTL" lab up --dir "$dir" >/dev/null
status=$("$DRCTL" lab status --dir "$dir" --json)
etcd=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['etcd']['endpoint'])" "$status")
mapfile -t apis < <(python3 -c "import json,sys; [print(a['api']) for a in json.loads(sys.argv[1])['agents']]" "$status")
interval_ms=$(python3 - "$dir/drctl.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^health:\s*\n(?:\s+.*\n)*?\s+interval:\s*(\d+)(ms|s)", text, re.M)
print(int(m.group(1)) * (1 if m.group(2) == "ms" else 1000) if m else 1000)
PY
)
sleep 5 # past start-up: leases granted, members published
etcd_sample() {
  curl -s "$etcd/metrics" | awk '
    /^grpc_server_handled_total/ { match($0, /grpc_method="[^"]+"/); m = substr($0, RSTART + 13, RLENGTH - 14); v[m] += $NF }
    /^etcd_server_proposals_committed_total / { v["writes_committed"] = $NF }
    /^etcd_network_client_grpc_received_bytes_total / { v["bytes_received"] = $NF }
    /^etcd_network_client_grpc_sent_bytes_total / { v["bytes_sent"] = $NF }
    END { for (k in v) printf "%s %s\n", k, v[k] }' | sort
}
agents_sample() { for api in "${apis[@]}"; do curl -s "$api/metrics" | awk '/^drctl_etcd_connections_opened/ { print $1, $NF }'; done; }
before=$(etcd_sample); conns_before=$(agents_sample)
sleep "$DURATION"
after=$(etcd_sample); conns_after=$(agents_sample)
loops=$(awk -v d="$DURATION" -v i="$interval_ms" 'BEGIN { printf "%.1f", d * 1000 / i }')
echo "etcd cost of the default lab: ${#apis[@]} agents, health interval ${interval_ms} ms, ${DURATION} s of steady state (${loops} loops per agent):"
join <(echo "$before") <(echo "$after") | awk -v d="$DURATION" -v n="${#apis[@]}" -v l="$loops" '
  $3 != $2 { delta = $3 - $2; printf "  %-22s %9.1f per second  %7.2f per agent loop\n", $1, delta / d, delta / n / l }'
echo "connections opened to etcd (each agent's drctl_etcd_connections_opened):"
join <(echo "$conns_before") <(echo "$conns_after") | awk -v l="$loops" '
  { delta = $3 - $2; printf "  %-40s %5d in the run, %.2f per loop\n", $1, delta, delta / l }'
