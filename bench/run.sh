#!/usr/bin/env bash
# make bench: timings of drctl's own operations on the local lab, each printed with the
# configuration that produced it. Later issues add failover, DNS and switchover trials.
set -euo pipefail
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-.build/debug/drctl-lab}
TRIALS=${TRIALS:-5}
DIR=$(mktemp -d /tmp/drctl-bench-XXXXXX)
rmdir "$DIR"

now_ms() { date +%s%3N; }
summary() { # name, then values in ms
  local name=$1; shift
  printf '%s\n' "$@" | sort -n | awk -v name="$name" -v n="$#" '
    { v[NR] = $1 }
    END { printf "%-34s n=%d  min %6d ms  median %6d ms  max %6d ms\n", name, n, v[1], v[int((n + 1) / 2)], v[n] }'
}
cleanup() { [ -f "$DIR/lab.json" ] && "$DRCTL_LAB" down --dir "$DIR" >/dev/null || true; }
trap cleanup EXIT

echo "configuration: $(nproc) cores, $(uname -r), $("$DRCTL" --help >/dev/null && echo "drctl debug build"), $TRIALS trials"
echo "lab: PostgreSQL $(/usr/lib/postgresql/15/bin/postgres --version | awk '{print $3}'), etcd $(etcd --version | awk 'NR==1{print $3}'), loopback"
echo

up=() down=()
for _ in $(seq "$TRIALS"); do
  t0=$(now_ms); "$DRCTL_LAB" up --dir "$DIR" >/dev/null; t1=$(now_ms)
  "$DRCTL_LAB" down --dir "$DIR" >/dev/null; t2=$(now_ms)
  up+=($((t1 - t0))); down+=($((t2 - t1)))
done
summary "lab up (initdb, clone, etcd, DNS)" "${up[@]}"
summary "lab down" "${down[@]}"

"$DRCTL_LAB" up --dir "$DIR" >/dev/null
healthy=() degraded=()
for _ in $(seq "$TRIALS"); do
  t0=$(now_ms); "$DRCTL" status --config "$DIR/drctl.yaml" >/dev/null; t1=$(now_ms)
  healthy+=($((t1 - t0)))
done
summary "status, healthy (2 nodes)" "${healthy[@]}"
kill -9 "$(head -1 "$DIR/region2/pg2/data/postmaster.pid")"
for _ in $(seq "$TRIALS"); do
  t0=$(now_ms); "$DRCTL" status --config "$DIR/drctl.yaml" >/dev/null || true; t1=$(now_ms)
  degraded+=($((t1 - t0)))
done
summary "status, standby killed (refused)" "${degraded[@]}"
