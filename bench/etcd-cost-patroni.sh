#!/usr/bin/env bash
# make bench, beside etcd-cost.sh (what a cluster costs etcd): the same measurement for
# Patroni (Debian's patroni, its etcd3 client over the same JSON gateway), so the two are
# compared in one run. Two Patroni nodes (a leader and a streaming replica, PostgreSQL 15 on
# loopback) on a one-member etcd, at Patroni's defaults (ttl 30, loop_wait 10) and at the
# most aggressive settings it accepts (ttl 20, loop_wait 1, retry_timeout 3), each DURATION
# seconds idle and DURATION seconds under an INSERT every ~50 ms. Prints etcd's requests by
# gRPC method, the writes raft committed and the bytes, per second and per agent loop
# (Patroni's loop is loop_wait).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
DURATION=${DURATION:-30}
command -v patroni >/dev/null || { echo "etcd cost, Patroni: patroni is not installed (apt-get install patroni)"; exit 0; }
dir=$(mktemp -d /tmp/drctl-bench-patroni-XXXXXX)
chown postgres "$dir"  # the sockets and data directories are its
base=$((21000 + RANDOM % 20000))
etcd="http://127.0.0.1:$base"
pids=()
writer=""
cleanup() {
  [[ -n "$writer" ]] && kill "$writer" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pkill -u postgres -f "$dir/" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

etcd --name bench --data-dir "$dir/etcd" --listen-client-urls "$etcd" --advertise-client-urls "$etcd" \
  --listen-peer-urls "http://127.0.0.1:$((base + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((base + 1))" \
  --initial-cluster "bench=http://127.0.0.1:$((base + 1))" >"$dir/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "$etcd/health" >/dev/null && break; sleep 0.2; done

node_config() { # scope node index ttl loop_wait retry_timeout
  local api=$((base + 10 + $3)) pg=$((base + 20 + $3))
  cat <<EOF
scope: $1
namespace: /patroni-bench/
name: $2
restapi: {listen: "127.0.0.1:$api", connect_address: "127.0.0.1:$api"}
etcd3: {hosts: "127.0.0.1:$base"}
bootstrap:
  dcs: {ttl: $4, loop_wait: $5, retry_timeout: $6, maximum_lag_on_failover: 1048576}
  initdb: [{encoding: UTF8}]
postgresql:
  listen: "127.0.0.1:$pg"
  connect_address: "127.0.0.1:$pg"
  data_dir: $dir/$1-$2
  bin_dir: /usr/lib/postgresql/15/bin
  pgpass: $dir/$1-$2.pgpass
  authentication:
    superuser: {username: postgres, password: bench}
    replication: {username: replicator, password: bench}
  parameters: {unix_socket_directories: "$dir"}
  pg_hba: ["local all all trust", "host all all 127.0.0.1/32 trust", "host replication all 127.0.0.1/32 trust"]
EOF
}

measure() { # label loop-seconds
  local before after loops
  before=$(etcd_sample "$etcd")
  sleep "$DURATION"
  after=$(etcd_sample "$etcd")
  loops=$(awk -v d="$DURATION" -v l="$2" 'BEGIN { printf "%.1f", d / l }')
  echo "  $1 (${DURATION} s, ${loops} loops per agent):"
  sample_rates etcd "$before" "$after" "$DURATION" 2 "$loops"
}

run_patroni() { # label scope ttl loop_wait retry_timeout
  local started=${#pids[@]} i
  for i in 1 2; do
    node_config "$2" "p$i" "$i" "$3" "$4" "$5" >"$dir/$2-p$i.yml"
    chown postgres "$dir/$2-p$i.yml"
    runuser -u postgres -- patroni "$dir/$2-p$i.yml" >"$dir/$2-p$i.log" 2>&1 &
    pids+=($!)
    # The first bootstraps the cluster; the second then copies it from the leader.
    if [[ $i == 1 ]]; then
      for _ in $(seq 120); do curl -sf "http://127.0.0.1:$((base + 11))/primary" >/dev/null && break; sleep 0.5; done
      curl -sf "http://127.0.0.1:$((base + 11))/primary" >/dev/null || { echo "Patroni's leader did not come up:"; tail -20 "$dir/$2-p1.log"; exit 1; }
    fi
  done
  for _ in $(seq 240); do curl -sf "http://127.0.0.1:$((base + 12))/replica" >/dev/null && break; sleep 0.5; done
  curl -sf "http://127.0.0.1:$((base + 12))/replica" >/dev/null || { echo "Patroni's replica did not come up:"; tail -20 "$dir/$2-p2.log"; exit 1; }
  echo "etcd cost, Patroni $(patroni --version | awk '{print $2}') $1: 2 nodes, ttl $3, loop_wait $4, retry_timeout $5, one etcd member"
  sleep 8
  measure "idle" "$4"
  local conn="host=127.0.0.1 port=$((base + 21)) user=postgres dbname=postgres"
  psql "$conn" -qc "CREATE TABLE IF NOT EXISTS etcd_cost (id serial PRIMARY KEY, at timestamptz DEFAULT now())"
  (while true; do psql "$conn" -qc "INSERT INTO etcd_cost DEFAULT VALUES" >/dev/null 2>&1; sleep 0.05; done) &
  writer=$!
  sleep 2
  measure "under a write load (an INSERT every ~50 ms)" "$4"
  kill "$writer"; wait "$writer" 2>/dev/null || true; writer=""
  for i in $(seq $((${#pids[@]} - 1)) -1 "$started"); do kill "${pids[$i]}" 2>/dev/null || true; wait "${pids[$i]}" 2>/dev/null || true; unset "pids[$i]"; done
}

run_patroni "defaults" defaults 30 10 10
run_patroni "most aggressive" aggressive 20 1 3
