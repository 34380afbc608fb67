#!/usr/bin/env bash
# make bench (switchover part): N planned switchovers, alternating pg1 -> pg2 -> pg1 on one
# lab, under a write load through libpq multi-host (target_session_attrs=read-write) that
# records every acknowledged commit. Prints the write gap (longest time between two
# acknowledged commits around each switchover), the RTO the evidence measured, and the
# acknowledged writes lost, with the settings used. TRIALS=N (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-.build/debug/drctl-lab}
TRIALS=${TRIALS:-10}
export PGCONNECT_TIMEOUT=1
# shellcheck source=bench/common.sh
source bench/common.sh

dir=$(mktemp -d /tmp/drctl-bench-XXXXXX); rmdir "$dir"
trap '"$DRCTL_LAB" down --dir "$dir" >/dev/null 2>&1 || true' EXIT
"$DRCTL_LAB" up --dir "$dir" >/dev/null
cfg="$dir/drctl.yaml"
p1=$(python3 -c "import json;print(json.load(open('$dir/lab.json'))['nodes'][0]['port'])")
p2=$(python3 -c "import json;print(json.load(open('$dir/lab.json'))['nodes'][1]['port'])")
conn="host=127.0.1.1,127.0.2.1 port=$p1,$p2 user=postgres dbname=postgres target_session_attrs=read-write"
psql "$conn" -qc "CREATE TABLE bench (id int PRIMARY KEY)" >/dev/null
acks="$dir/acks"; : >"$acks"
( id=0; while [ ! -f "$dir/stop" ]; do id=$((id + 1))
    if psql "$conn" -qtAc "INSERT INTO bench VALUES ($id)" >/dev/null 2>&1; then echo "$id $(now_ms)" >>"$acks"; fi
    sleep 0.02; done ) &
writer=$!

healthy() { "$DRCTL" status --config "$cfg" >/dev/null 2>&1; }
gaps=() rtos=() failed=0 target=pg2
for trial in $(seq "$TRIALS"); do
  for _ in $(seq 100); do healthy && break; sleep 0.2; done
  sleep 1
  t0=$(now_ms)
  if ! "$DRCTL" switchover --to "$target" --yes --config "$cfg" >/dev/null 2>&1; then failed=$((failed + 1)); continue; fi
  for _ in $(seq 150); do
    [ "$("$DRCTL" history --config "$cfg" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge "$((trial - failed))" ] && break
    sleep 0.2
  done
  sleep 1
  t1=$(now_ms)
  gaps+=("$(longest_gap "$acks" 2 $((t0 - 1000)) "$t1")")
  rtos+=("$("$DRCTL" history --config "$cfg" --json | python3 -c 'import json,sys; print(int(1000*json.load(sys.stdin)[-1]["rto_seconds"]))')")
  [ "$target" = pg2 ] && target=pg1 || target=pg2
done
touch "$dir/stop"; wait "$writer" 2>/dev/null || true
for _ in $(seq 50); do healthy && break; sleep 0.2; done
primary=$("$DRCTL" status --config "$cfg" --json | python3 -c 'import json,sys; print([n["port"] for n in json.load(sys.stdin)["nodes"] if n["role"]=="primary"][0])')
stored=$(psql "host=127.0.0.1 port=$primary user=postgres dbname=postgres" -qtAc "SELECT count(*) FROM bench" 2>/dev/null \
  || psql "host=127.0.1.1,127.0.2.1 port=$p1,$p2 user=postgres dbname=postgres target_session_attrs=read-write" -qtAc "SELECT count(*) FROM bench")
lost=$(( $(wc -l <"$acks") - stored ))

echo "switchover trials: $TRIALS on one lab, alternating pg1 <-> pg2 (settings below)"
echo "writer: psql INSERT every ~20ms through libpq multi-host target_session_attrs=read-write, connect_timeout=1"
[ ${#gaps[@]} -gt 0 ] || { echo "  every switchover was refused"; exit 1; }
stats "write gap (longest between acks)" ms "${gaps[@]}"
stats "RTO (old primary stopped -> DNS verified)" ms "${rtos[@]}"
echo "  acknowledged writes lost: $lost of $(wc -l <"$acks")"
[ "$failed" -eq 0 ] || echo "  $failed switchover(s) refused"
echo
echo "settings (from the lab's drctl.yaml):"
grep -E '^\s+(lease_ttl|interval|failures|timeout|promotion_timeout|dns_update_timeout):' "$cfg" | sed 's/^ */  /'
