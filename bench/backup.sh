#!/usr/bin/env bash
# make bench (backup part): logical-backup throughput of `drctl backup run` (pg_dump -Fc
# streamed, hashed, fsynced) against a bare `pg_dump -Fc > file` of the same database from
# the same standby in the same run, and `drctl restore` against a bare initdb + pg_restore.
# SCALE=N sets the pgbench scale (default 50, ~750 MB of tables); TRIALS=N (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-.build/debug/drctl-lab}
TRIALS=${TRIALS:-3}
SCALE=${SCALE:-50}
BIN=/usr/lib/postgresql/15/bin
# shellcheck source=bench/common.sh
source bench/common.sh
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

dir=$(mktemp -d /tmp/drctl-bench-XXXXXX); rmdir "$dir"
cleanup() {
  for d in "$dir"/bare-restore-* "$dir"/drctl-restore-*; do [ -d "$d" ] && as_pg "$BIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true; done
  "$DRCTL_LAB" down --dir "$dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$DRCTL_LAB" up --dir "$dir" >/dev/null
cfg="$dir/drctl.yaml"
p1=$(python3 -c "import json;print(json.load(open('$dir/lab.json'))['nodes'][0]['port'])")
p2=$(python3 -c "import json;print(json.load(open('$dir/lab.json'))['nodes'][1]['port'])")
pgbench -i -q -s "$SCALE" "host=127.0.1.1 port=$p1 user=postgres dbname=postgres" >/dev/null 2>&1
for _ in $(seq 120); do
  lag=$(psql "host=127.0.1.1 port=$p1 user=postgres dbname=postgres" -tAc "SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)),1) FROM pg_stat_replication")
  [ "$lag" = 0 ] && break; sleep 0.5
done
standby="host=127.0.2.1 port=$p2 user=postgres dbname=postgres"
dbsize=$(psql "$standby" -tAc "SELECT pg_database_size('postgres')")

bare=() ours=() bare_restore=() our_restore=()
for t in $(seq "$TRIALS"); do
  sync; t0=$(now_ms); "$BIN/pg_dump" -Fc -d "$standby" > "$dir/bare.dump"; sync; t1=$(now_ms)
  bare+=($((t1 - t0)))
  t0=$(now_ms); "$DRCTL" backup run --kind logical --config "$cfg" >/dev/null; t1=$(now_ms)
  ours+=($((t1 - t0)))
  port=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
  d="$dir/bare-restore-$t"; mkdir -p "$d"; chown postgres "$d" 2>/dev/null || true; chmod 700 "$d"
  t0=$(now_ms)
  as_pg "$BIN/initdb" -D "$d" -U postgres --auth=trust --no-instructions >/dev/null
  printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n" "$port" >> "$d/postgresql.auto.conf"
  as_pg "$BIN/pg_ctl" -D "$d" -l "$d/log" -w start >/dev/null
  "$BIN/pg_restore" --no-owner -j 2 -d "host=127.0.0.1 port=$port user=postgres dbname=postgres" "$dir/bare.dump"
  t1=$(now_ms); bare_restore+=($((t1 - t0)))
  as_pg "$BIN/pg_ctl" -D "$d" -m immediate stop >/dev/null
  port=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
  t0=$(now_ms); "$DRCTL" restore --to "$dir/drctl-restore-$t" --latest --kind logical --port "$port" --config "$cfg" >/dev/null; t1=$(now_ms)
  our_restore+=($((t1 - t0)))
  as_pg "$BIN/pg_ctl" -D "$dir/drctl-restore-$t" -m immediate stop >/dev/null
done
dumpsize=$(stat -c %s "$dir/bare.dump")
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mb=$(awk -v b="$dumpsize" 'BEGIN { printf "%.1f", b / 1048576 }')
bm=$(median "${bare[@]}"); om=$(median "${ours[@]}"); brm=$(median "${bare_restore[@]}"); orm=$(median "${our_restore[@]}")
echo "logical backup: pgbench scale $SCALE, database $(awk -v b="$dbsize" 'BEGIN { printf "%.0f", b / 1048576 }') MB, dump $mb MB, from the standby, $TRIALS trials (median)"
awk -v mb="$mb" -v b="$bm" -v o="$om" 'BEGIN {
  printf "  bare pg_dump -Fc > file          %6d ms  %7.1f MB/s\n", b, mb / (b / 1000)
  printf "  drctl backup run (hash, fsync)   %6d ms  %7.1f MB/s  = %.2f of bare (goal >= 0.95)\n", o, mb / (o / 1000), b / o }'
echo "restore into a new instance (initdb, start, pg_restore -j 2), median:"
awk -v b="$brm" -v o="$orm" 'BEGIN {
  printf "  bare initdb + pg_restore         %6d ms\n", b
  printf "  drctl restore (checksum first)   %6d ms  = %.2f of bare\n", o, b / o }'
