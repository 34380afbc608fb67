#!/usr/bin/env bash
# make bench (regions as hosts, `drctl-lab up --hosts`): FAULTS on a fresh lab with
# LATENCIES round trips between regions, TRIALS times each, the recommended settings (1 s
# checks, 3 failures, 5 s lease; etcd 100 ms heartbeat / 1 s election, one member per region).
#   host:       region1's whole host lost (SIGKILL to everything in its namespace: database,
#               agent, watchdog, etcd member, relay)
#   crash:      SIGKILL of pg1's postmaster only (its agent and host live on)
#   switchover: `drctl switchover --to pg2`, run by an operator in region3
# A writer in region3 inserts every ~20 ms (a new psql connection each time, so each write
# pays its connection's round trips), pg1 first and pg2 when pg1 refuses or is read-only, and
# records every acknowledged commit. (Not libpq's multi-host list: through the latency relay
# a dead destination looks like a connection accepted and closed, after which libpq tries no
# other host; the writer does what libpq does on a real network, where the connect fails.) printed: the longest gap between acknowledged writes
# around the fault, the time from the fault to DNS answering pg2's address (asked from
# region3), and acknowledged writes missing from pg2 afterwards.
set -euo pipefail
[ -n "${BENCH_DEBUG:-}" ] && set -x
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-$PWD/.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-$PWD/.build/debug/drctl-lab}
TRIALS=${TRIALS:-10}
LATENCIES=${LATENCIES:-"0ms 40ms"}
FAULTS=${FAULTS:-"host crash switchover"}
# on: each region names its etcd member and the leader's agent keeps etcd's leader out of
# region1 (the recommended setup); off: etcd's leader lands where elections put it.
PLACEMENTS=${PLACEMENTS:-"on off"}
export PGCONNECT_TIMEOUT=1

# shellcheck source=bench/common.sh
source bench/common.sh

field() { python3 -c "import json,sys;l=json.load(open(sys.argv[1]));print(eval(sys.argv[2]))" "$1" "$2"; }

trial() { # fault latency placement -> prints "gap_ms dns_ms lost region1_led_etcd" or FAILED
  local fault=$1 latency=$2 placement=$3 dir r3 conn t0 acks writer dns=-1
  dir=$(mktemp -d /tmp/drctl-regions-XXXXXX); rmdir "$dir"
  "$DRCTL_LAB" up --hosts --dir "$dir" --latency "$latency" $([ "$placement" = off ] && echo --no-etcd-placement) >"$dir.up.log"
  r3=$(field "$dir/regions.json" "l['hosts']['hosts'][2]['namespace']")
  conn="port=5432 user=postgres dbname=postgres target_session_attrs=read-write"
  ip netns exec "$r3" psql "host=10.213.0.2 $conn" -qc "CREATE TABLE bench (id int PRIMARY KEY)" >/dev/null
  acks="$dir.acks"; : >"$acks"
  ( id=0; while [ ! -f "$dir.stop" ]; do id=$((id + 1))
      for host in 10.213.0.2 10.213.0.3; do
        if addr=$(ip netns exec "$r3" psql "host=$host $conn" -qtAc "INSERT INTO bench VALUES ($id) RETURNING host(inet_server_addr())" 2>/dev/null); then
          echo "$id $(now_ms) $addr" >>"$acks"; break; fi
      done
      sleep 0.02; done ) &
  writer=$!
  sleep 3
  # Whether region1's etcd member led etcd when the fault came (the second peak's cause).
  local r1leads
  r1leads=$(ip netns exec "$r3" etcdctl --endpoints http://10.213.0.2:2379 endpoint status -w json 2>/dev/null \
    | python3 -c "import json,sys; s=json.load(sys.stdin)[0]['Status']; print('yes' if s['leader'] == s['header']['member_id'] else 'no')" 2>/dev/null || echo unknown)
  t0=$(now_ms)
  case $fault in
    host) "$DRCTL_LAB" kill pg1 --dir "$dir" >/dev/null ;;
    crash) kill -KILL "$(head -1 "$dir/region1/pg1/data/postmaster.pid")" ;;
    switchover) ip netns exec "$r3" "$DRCTL" switchover --to pg2 --yes --config "$dir/drctl.yaml" >"$dir.switchover.log" 2>&1 || true ;;
  esac
  for _ in $(seq 1200); do
    if [ "$dns" -lt 0 ] && [ "$(ip netns exec "$r3" dig @10.213.0.5 db.regions.drctl.test A +short +time=1 +tries=1 2>/dev/null)" = 10.213.0.3 ]; then
      dns=$(( $(now_ms) - t0 )); fi
    [ "$dns" -ge 0 ] && grep -q " 10.213.0.3$" "$acks" && break
    sleep 0.05
  done
  sleep 1; touch "$dir.stop"; wait "$writer" 2>/dev/null || true
  local gap stored lost
  # The longest pause between acknowledged writes from 1 s before the fault on.
  gap=$(awk -v t0="$t0" '$2 >= t0 - 1000 { if (prev) { g = $2 - prev; if (g > max) max = g } prev = $2 } END { print max + 0 }' "$acks")
  stored=$(ip netns exec "$r3" psql "host=10.213.0.3 port=5432 user=postgres dbname=postgres" -qtAc "SELECT count(*) FROM bench" 2>/dev/null || echo 0)
  lost=$(( $(wc -l <"$acks") - stored ))
  local moved; moved=$(grep -c " 10.213.0.3$" "$acks" || true)
  "$DRCTL_LAB" down --dir "$dir" >/dev/null
  rm -f "$dir.up.log" "$dir.acks" "$dir.stop" "$dir.switchover.log"
  if [ "$moved" -eq 0 ] || [ "$dns" -lt 0 ]; then echo FAILED; return; fi
  echo "$gap $dns $lost $r1leads"
}

echo "regions as hosts (lab up --hosts): pg1 in region1, pg2 in region2, writer and operator in region3"
for placement in $PLACEMENTS; do
for latency in $LATENCIES; do
  for fault in $FAULTS; do
    # Without placement only a lost host differs (an etcd election on top of the lease).
    [ "$placement" = off ] && [ "$fault" != host ] && continue
    gaps=() dnss=() losses=() failed=0 led=() free=()
    for _ in $(seq "$TRIALS"); do
      read -r gap dns lost r1leads <<<"$(trial "$fault" "$latency" "$placement")"
      if [ "$gap" = FAILED ]; then failed=$((failed + 1)); continue; fi
      gaps+=("$gap"); dnss+=("$dns"); losses+=("$lost")
      if [ "$r1leads" = yes ]; then led+=("$gap"); else free+=("$gap"); fi
    done
    echo
    echo "$fault, $latency round trip between regions, etcd leader placement $placement ($TRIALS trials):"
    [ ${#gaps[@]} -gt 0 ] || { echo "  every trial failed"; continue; }
    stats "longest write gap" ms "${gaps[@]}"
    stats "fault -> DNS answers pg2" ms "${dnss[@]}"
    stats "acknowledged writes lost" "" "${losses[@]}"
    # The two peaks: region1's etcd member leading etcd at the fault costs an election.
    [ ${#led[@]} -eq 0 ] || stats "  gap, region1's member led etcd (${#led[@]})" ms "${led[@]}"
    [ ${#free[@]} -eq 0 ] || stats "  gap, another member led etcd (${#free[@]})" ms "${free[@]}"
    [ "$failed" -eq 0 ] || echo "  $failed trial(s) did not move writes and DNS to pg2 within 60 s"
  done
done
done
echo
echo "settings: health.interval 1s, failures 3, timeout 500ms, lease_ttl 5s, DNS ttl 5s (DIR/drctl.yaml of lab up --hosts)"
