#!/usr/bin/env bash
# make bench (etcd leader part): a lab with three etcd members whose raft leader is killed
# (SIGKILL) under a write load to the primary, TRIALS times. A member's loss must cost no
# failover: prints the longest pause between acknowledged writes around the kill, whether
# the primary (and its timeline) stayed, and how long the new etcd leader took to appear.
set -euo pipefail
[ -n "${BENCH_DEBUG:-}" ] && set -x
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-.build/debug/drctl-lab}
TRIALS=${TRIALS:-10}
export PGCONNECT_TIMEOUT=1 ETCDCTL_API=3

# shellcheck source=bench/common.sh
source bench/common.sh

raft_leader() { # endpoints(comma-separated) -> the endpoint etcd reports as leader
  etcdctl --endpoints "$1" --dial-timeout 1s endpoint status -w json 2>/dev/null | python3 -c "
import json,sys
for s in json.load(sys.stdin):
    if s['Status']['header']['member_id'] == s['Status']['leader']: print(s['Endpoint'])" || true
}

trial() { # -> prints "longest_pause_ms election_ms same_primary"
  local dir
  dir=$(mktemp -d /tmp/drctl-bench-XXXXXX); rmdir "$dir"
  "$DRCTL_LAB" up --dir "$dir" --etcd-members 3 >/dev/null
  cp "$dir/drctl.yaml" "$SETTINGS"
  local p1 conn acks members endpoints leader victim
  p1=$(python3 -c "import json;print(json.load(open('$dir/lab.json'))['nodes'][0]['port'])")
  members=$("$DRCTL_LAB" status --dir "$dir" --json | python3 -c "
import json,sys; print(' '.join(f\"{m['endpoint']}={m['pid']}\" for m in json.load(sys.stdin)['etcd_members']))")
  endpoints=$(tr ' ' '\n' <<<"$members" | cut -d= -f1 | paste -sd,)
  conn="host=127.0.1.1 port=$p1 user=postgres dbname=postgres"
  psql "$conn" -qc "CREATE TABLE bench (id int PRIMARY KEY)" >/dev/null
  acks="$dir/acks"
  : >"$acks"
  ( id=0; while [ ! -f "$dir/stop" ]; do id=$((id + 1))
      if psql "$conn" -qtAc "INSERT INTO bench VALUES ($id)" >/dev/null 2>&1; then echo "$(now_ms)" >>"$acks"; fi
      sleep 0.02; done ) &
  local writer=$!
  sleep 3
  leader=$(raft_leader "$endpoints")
  victim=$(tr ' ' '\n' <<<"$members" | grep "^$leader=" | cut -d= -f2)
  local t0 t1 elected=""
  t0=$(now_ms)
  kill -KILL "$victim"
  local rest
  rest=$(tr ',' '\n' <<<"$endpoints" | grep -v "^$leader$" | paste -sd,)
  for _ in $(seq 100); do
    if [ -n "$(raft_leader "$rest")" ]; then elected=$(( $(now_ms) - t0 )); break; fi
    sleep 0.05
  done
  sleep 8
  t1=$(now_ms)
  touch "$dir/stop"; wait "$writer" 2>/dev/null || true
  local primary
  primary=$("$DRCTL" status --config "$dir/drctl.yaml" --json 2>/dev/null | python3 -c "
import json,sys; r=json.load(sys.stdin); print(','.join(f\"{n['name']}@{n['timeline']}\" for n in r['nodes'] if n['role']=='primary'))" || true)
  local result
  result=$(awk -v t0="$t0" -v t1="$t1" -v primary="$primary" -v elected="${elected:--1}" '
    # The longest stretch without an acknowledged write from the kill to 8 s later.
    $1 <= t0 { last = $1 }
    $1 > t0 && $1 <= t1 { if (last && $1 - last > longest) longest = $1 - last; last = $1 }
    END {
      if (!last) last = t0
      if (t1 - last > longest) longest = t1 - last
      printf "%d %d %s\n", longest, elected, (primary == "pg1@1" ? "yes" : "no(" primary ")")
    }' "$acks")
  "$DRCTL_LAB" down --dir "$dir" >/dev/null
  echo "$result"
}

SETTINGS=$(mktemp)
trap 'rm -f "$SETTINGS"' EXIT
echo "etcd leader loss: the raft leader of a 3-member etcd SIGKILLed with every node up ($TRIALS trials); writer: psql INSERT every ~20ms to the primary"
pauses=() elections=() kept=0 failed=()
for _ in $(seq "$TRIALS"); do
  read -r pause elected same <<<"$(trial)"
  pauses+=("$pause"); elections+=("$elected")
  if [ "$same" = yes ]; then kept=$((kept + 1)); else failed+=("$same"); fi
done
stats "longest write pause after the kill" ms "${pauses[@]}"
stats "new etcd leader seen after" ms "${elections[@]}"
echo "  same primary on timeline 1 afterwards: $kept of $TRIALS ${failed[*]:-}"
echo
echo "settings (from the lab's drctl.yaml; etcd: --heartbeat-interval 50 --election-timeout 500):"
grep -E '^\s+(lease_ttl|interval|failures|timeout):' "$SETTINGS" | sed 's/^ */  /'
[ "$kept" = "$TRIALS" ]
