#!/usr/bin/env bash
# make bench (failover part): N trials of each fault on a fresh lab, under a write load
# that records every acknowledged commit. Prints min/median/p90/max and the settings.
# TRIALS=N (default 10), FAULTS="kill crash" (either or both), SYNCHRONOUS=1 for a lab with
# failover.synchronous (then no acknowledged write may be lost in any trial).
#   kill:  SIGKILL the primary's postmaster and its agent (whole-node loss)
#   crash: SIGKILL the primary's postmaster only (database crash, agent alive)
set -euo pipefail
[ -n "${BENCH_DEBUG:-}" ] && set -x
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-.build/debug/drctl-lab}
TRIALS=${TRIALS:-10}
export PGCONNECT_TIMEOUT=1

# shellcheck source=bench/common.sh
source bench/common.sh

trial() { # fault -> prints "total_ms detection_ms promotion_ms lost"
  local fault=$1 dir
  dir=$(mktemp -d /tmp/drctl-bench-XXXXXX); rmdir "$dir"
  "$DRCTL_LAB" up --dir "$dir" ${SYNCHRONOUS:+--synchronous} >/dev/null
  cp "$dir/drctl.yaml" "$SETTINGS"
  local p1 p2 conn acks
  p1=$(python3 -c "import json;print(json.load(open('$dir/lab.json'))['nodes'][0]['port'])")
  p2=$(python3 -c "import json;print(json.load(open('$dir/lab.json'))['nodes'][1]['port'])")
  conn="host=127.0.1.1,127.0.2.1 port=$p1,$p2 user=postgres dbname=postgres target_session_attrs=read-write"
  psql "$conn" -qc "CREATE TABLE bench (id int PRIMARY KEY, at bigint)" >/dev/null
  acks="$dir/acks"
  : >"$acks"
  ( id=0; while [ ! -f "$dir/stop" ]; do id=$((id + 1))
      # RETURNING the server's address tells which node acknowledged the commit.
      if addr=$(psql "$conn" -qtAc "INSERT INTO bench VALUES ($id, 0) RETURNING host(inet_server_addr())" 2>/dev/null); then
        echo "$id $(now_ms) $addr" >>"$acks"; fi
      sleep 0.02; done ) &
  local writer=$!
  sleep 3
  local t0; t0=$(now_ms)
  if [ "$fault" = kill ]; then "$DRCTL_LAB" kill pg1 --dir "$dir" >/dev/null
  else kill -9 "$(head -1 "$dir/region1/pg1/data/postmaster.pid")"; fi
  local first=""
  for _ in $(seq 600); do
    first=$(awk -v t0="$t0" '$2 > t0 && $3 == "127.0.2.1" { print $2; exit }' "$acks")
    [ -n "$first" ] && break
    sleep 0.05
  done
  touch "$dir/stop"; wait "$writer" 2>/dev/null || true
  local history declared writable lost
  # The agent records its evidence just after the promotion it measures.
  for _ in $(seq 50); do
    history=$("$DRCTL" history --config "$dir/drctl.yaml" --json)
    [ "$history" != "[" ] && [ "$(echo "$history" | tr -d ' \n')" != "[]" ] && break
    sleep 0.1
  done
  declared=$(python3 -c "import json,sys; h=json.loads(sys.argv[1]); print(h[-1]['declared_at_ms'] if h else '')" "$history")
  # promotion: declared failed -> writable; dns: writable -> DNS verified (the lab's PowerDNS).
  read -r writable dns <<<"$(python3 -c "
import json,sys; h=json.loads(sys.argv[1]); at={e['name']: e['at'] for e in h[-1]['events']} if h else {}
print(int(1000*(at['writable']-at['declared failed'])) if at else '', int(1000*(at['DNS verified']-at['writable'])) if 'DNS verified' in at else -1)" "$history")"
  lost=$(psql "host=127.0.2.1 port=$p2 user=postgres dbname=postgres" -qtAc "SELECT count(*) FROM bench" 2>/dev/null || echo 0)
  lost=$(( $(wc -l <"$acks") - lost ))
  "$DRCTL_LAB" down --dir "$dir" >/dev/null
  if [ -z "$first" ] || [ -z "$declared" ]; then echo "FAILED"; return; fi
  echo "$((first - t0)) $((declared - t0)) $writable $lost $dns"
}

SETTINGS=$(mktemp)
trap 'rm -f "$SETTINGS"' EXIT
echo "failover trials: $TRIALS per fault, each on a fresh lab (settings below)${SYNCHRONOUS:+, synchronous replication}"
echo "writer: psql INSERT every ~20ms through libpq multi-host target_session_attrs=read-write, connect_timeout=1"
for fault in ${FAULTS:-kill crash}; do
  totals=() detections=() promotions=() losses=() dnss=() failed=0
  for _ in $(seq "$TRIALS"); do
    read -r total detection promotion lost dns <<<"$(trial "$fault")"
    if [ "$total" = FAILED ]; then failed=$((failed + 1)); continue; fi
    totals+=("$total"); detections+=("$detection"); promotions+=("$promotion"); losses+=("$lost")
    [ "$dns" -ge 0 ] && dnss+=("$dns")
  done
  echo
  [ "$fault" = kill ] && echo "kill -9 of the primary's postmaster and agent (whole node lost):" || echo "kill -9 of the primary's postmaster, agent alive (database crash):"
  [ ${#totals[@]} -gt 0 ] || { echo "  every trial failed"; exit 1; }
  stats "detection (fault -> declared failed)" ms "${detections[@]}"
  stats "promotion (declared -> writable)" ms "${promotions[@]}"
  stats "total (fault -> first acked write)" ms "${totals[@]}"
  [ ${#dnss[@]} -gt 0 ] && stats "DNS (writable -> DNS verified)" ms "${dnss[@]}"
  stats "acknowledged writes lost" "" "${losses[@]}"
  [ "$failed" -eq 0 ] || echo "  $failed trial(s) did not fail over within 30 s"
done
echo
echo "settings (from the lab's drctl.yaml; fencing margin = health interval):"
grep -E '^\s+(rto|rpo|lease_ttl|interval|failures|timeout|promotion_timeout|dns_update_timeout|ttl|synchronous):' "$SETTINGS" | sed 's/^ */  /'
