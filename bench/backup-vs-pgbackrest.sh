#!/usr/bin/env bash
# make bench (base backups and WAL against pgBackRest): one pgbench-loaded PostgreSQL 15,
# backed up in the same run by `drctl backup run --kind base` (zstd, the default, and
# compression: none), bare `pg_basebackup -Ft -X fetch`, and pgBackRest 2.x full backups
# (zst and lz4, process-max 2); then WAL segments pushed one at a time as archive_command
# runs them: `drctl wal-push`, `pgbackrest archive-push` (zst, lz4), and `cp` + `sync`.
# Every repository is a local directory on the same disk. pgBackRest needs a Unix socket,
# which the lab turns off, so this runs its own instance (no replication: every tool reads
# the one primary). Last, restores to the archive's end, from a fresh base backup of each
# tool plus RESTORE_SEGMENTS of pgbench WAL: `drctl restore --latest` (with and without
# fetch_ahead) against `pgbackrest restore` and PostgreSQL replaying through `archive-get`
# (sync, and archive-async's prefetch), each timed until the copy takes writes. drctl is
# the release build `make install` ships (packaging/release-build-flags). SCALE (default
# 40, about 620 MB), TRIALS (default 3), SEGMENTS (20), RESTORE_SEGMENTS (40).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DRCTL:-}" ]; then
  read -r -a flags < packaging/release-build-flags
  swift build "${flags[@]}" --product drctl >/dev/null
  DRCTL=.build/release/drctl
fi
RESTORE_SEGMENTS=${RESTORE_SEGMENTS:-40}
TRIALS=${TRIALS:-3}
SCALE=${SCALE:-40}
SEGMENTS=${SEGMENTS:-20}
BIN=/usr/lib/postgresql/15/bin
# shellcheck source=bench/common.sh
source bench/common.sh
command -v pgbackrest >/dev/null || { echo "pgbackrest is not installed (apt-get install pgbackrest)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")

dir=$(mktemp -d /tmp/drctl-bench-pgbr-XXXXXX)
chmod 755 "$dir"
cleanup() {
  as_pg "$BIN/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/pg" "$dir/sock" "$dir/drctl-repo" "$dir/pgbr" "$dir/wal-in" "$dir/cp"
chown postgres "$dir/pg" "$dir/sock" "$dir/drctl-repo" "$dir/pgbr" "$dir/wal-in" "$dir/cp" 2>/dev/null || true
chmod 700 "$dir/pg"
as_pg "$BIN/initdb" -D "$dir/pg" -U postgres --auth=trust --no-instructions >/dev/null
cat >> "$dir/pg/postgresql.auto.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
archive_mode = on
archive_command = '/bin/true'
wal_level = replica
max_wal_senders = 4
EOF
as_pg "$BIN/pg_ctl" -D "$dir/pg" -l "$dir/sock/pg.log" -w start >/dev/null
conn="host=127.0.0.1 port=$port user=postgres dbname=postgres"
pgbench -i -q -s "$SCALE" "$conn" >/dev/null 2>&1
dbsize=$(psql "$conn" -tAc "SELECT pg_database_size('postgres')")

cat > "$dir/drctl.yaml" <<EOF
cluster: bench
objectives: {rto: 60s, rpo: 10s}
coordination: {endpoints: ["http://127.0.0.1:1"], lease_ttl: 10s}
regions:
  - name: here
    role: primary
    nodes:
      - {name: pg, conninfo: "$conn", data_dir: $dir/pg}
backup:
  repository: $dir/drctl-repo
  repository_region: here
  allowed_regions: [here]
EOF
sed 's/allowed_regions: \[here\]/allowed_regions: [here]\n  compression: none/' "$dir/drctl.yaml" > "$dir/drctl-none.yaml"
for compress in zst lz4; do
  cat > "$dir/pgbackrest-$compress.conf" <<EOF
[global]
repo1-path=$dir/pgbr/$compress
compress-type=$compress
process-max=2
start-fast=y
archive-check=n
log-level-console=warn
repo1-retention-full=9999999
log-level-file=off
lock-path=$dir/pgbr/lock-$compress
[bench]
pg1-path=$dir/pg
pg1-port=$port
pg1-socket-path=$dir/sock
EOF
  chmod 644 "$dir/pgbackrest-$compress.conf"
  as_pg mkdir -p "$dir/pgbr/$compress"
  as_pg pgbackrest --config="$dir/pgbackrest-$compress.conf" --stanza=bench stanza-create >/dev/null
done

du_bytes() { du -sb "$1" | cut -f1; }
declare -A times sizes
run() { # label, then the command; records its time and the repository growth
  local label=$1 repo=$2; shift 2
  local before after t0 t1
  before=$(du_bytes "$repo"); sync; t0=$(now_ms); "$@" >/dev/null; sync; t1=$(now_ms); after=$(du_bytes "$repo")
  times[$label]+="$((t1 - t0)) "; sizes[$label]=$((after - before))
}
for _ in $(seq "$TRIALS"); do
  run "drctl base, zstd level 3 (server, 2 workers)" "$dir/drctl-repo" "$DRCTL" backup run --kind base --config "$dir/drctl.yaml"
  run "drctl base, compression none" "$dir/drctl-repo" "$DRCTL" backup run --kind base --config "$dir/drctl-none.yaml"
  run "pg_basebackup -Ft -X fetch" "$dir/cp" sh -c "'$BIN/pg_basebackup' -d '$conn' -D - -Ft -X fetch -c fast > '$dir/cp/bare.tar'"
  rm -f "$dir/cp/bare.tar"
  for compress in zst lz4; do
    run "pgBackRest full, $compress, 2 processes" "$dir/pgbr/$compress" as_pg pgbackrest --config="$dir/pgbackrest-$compress.conf" --stanza=bench --type=full backup
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "base backup of one PostgreSQL 15 (pgbench scale $SCALE, database $(awk -v b="$dbsize" 'BEGIN { printf "%.0f", b / 1048576 }') MB), $TRIALS trials, median time, repository bytes of the last:"
for label in "drctl base, zstd level 3 (server, 2 workers)" "drctl base, compression none" "pg_basebackup -Ft -X fetch" "pgBackRest full, zst, 2 processes" "pgBackRest full, lz4, 2 processes"; do
  # shellcheck disable=SC2086
  m=$(median ${times[$label]})
  size=${sizes[$label]}
  [ "$label" = "pg_basebackup -Ft -X fetch" ] && size="(tar)"
  awk -v l="$label" -v m="$m" -v s="$size" 'BEGIN { printf "  %-46s %7.2f s  %s\n", l, m / 1000, (s ~ /^[0-9]+$/ ? sprintf("%.1f MB", s / 1048576) : s) }'
done

# WAL: real segments from this server, pushed one process per segment as archive_command does.
for _ in $(seq "$SEGMENTS"); do
  psql "$conn" -qtAc "INSERT INTO pgbench_history SELECT 1, 1, 1, 1, now(), repeat('x', 22) FROM generate_series(1, 20000)" >/dev/null
  psql "$conn" -qtAc "SELECT pg_switch_wal()" >/dev/null
done
# Completed segments only: pg_wal also holds the one being written and recycled files
# under future names, which the archive would later refuse to see with other content.
current=$(psql "$conn" -tAc "SELECT pg_walfile_name(pg_current_wal_lsn())")
mapfile -t names < <(ls "$dir/pg/pg_wal" | grep -E '^[0-9A-F]{24}$' | awk -v c="$current" '$0 < c' | sort | tail -n "$SEGMENTS")
for name in "${names[@]}"; do cp "$dir/pg/pg_wal/$name" "$dir/wal-in/$name"; done
chown -R postgres "$dir/wal-in" 2>/dev/null || true
push_times() { # label, command with NAME and PATH placeholders
  local label=$1; shift
  local t0 t1
  sync; t0=$(now_ms)
  for name in "${names[@]}"; do
    cmd=("${@//NAME/$name}"); cmd=("${cmd[@]//PATH/$dir/wal-in/$name}")
    "${cmd[@]}" >/dev/null
  done
  t1=$(now_ms)
  awk -v l="$label" -v t="$((t1 - t0))" -v n="${#names[@]}" 'BEGIN { printf "  %-46s %5.0f ms per segment\n", l, t / n }'
}
echo "WAL pushed one segment per process (${#names[@]} segments of 16 MiB):"
push_times "drctl wal-push" as_pg "$DRCTL" wal-push PATH NAME --config "$dir/drctl.yaml"
echo "    (stored $(du -sb "$dir/drctl-repo/bench/wal" | cut -f1 | awk '{ printf "%.1f", $1 / 1048576 }') MB)"
sed "s|repository: $dir/drctl-repo|repository: $dir/drctl-repo-l1\n  wal_compression_level: 1|" "$dir/drctl.yaml" > "$dir/drctl-l1.yaml"
mkdir -p "$dir/drctl-repo-l1" && chown postgres "$dir/drctl-repo-l1" 2>/dev/null || true
push_times "drctl wal-push, wal_compression_level 1" as_pg "$DRCTL" wal-push PATH NAME --config "$dir/drctl-l1.yaml"
echo "    (stored $(du -sb "$dir/drctl-repo-l1/bench/wal" | cut -f1 | awk '{ printf "%.1f", $1 / 1048576 }') MB)"
for compress in zst lz4; do
  push_times "pgbackrest archive-push, $compress" as_pg pgbackrest --config="$dir/pgbackrest-$compress.conf" --stanza=bench archive-push PATH
done
push_times "cp + sync" sh -c 'cp "$0" "$1" && sync "$1"' PATH "$dir/cp/NAME"

# PostgreSQL's archiver working off a backlog: SEGMENTS segments made while archive_command
# fails, then the command set and the time until the last one is archived.
sed 's/allowed_regions: \[here\]/allowed_regions: [here]\n  archive_async: true\n  archive_workers: 2/' "$dir/drctl.yaml" > "$dir/drctl-async.yaml"
mkdir -p "$dir/pgbr/spool" && chown postgres "$dir/pgbr/spool" 2>/dev/null || true
printf '[global:archive-push]\nspool-path=%s\n' "$dir/pgbr/spool" >> "$dir/pgbackrest-zst.conf"
backlog() { # label, archive_command
  psql "$conn" -qtAc "ALTER SYSTEM SET archive_command = '/bin/false'" >/dev/null
  psql "$conn" -qtAc "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq "$SEGMENTS"); do
    psql "$conn" -qtAc "INSERT INTO pgbench_history SELECT 1, 1, 1, 1, now(), repeat('x', 22) FROM generate_series(1, 20000)" >/dev/null
    psql "$conn" -qtAc "SELECT pg_switch_wal()" >/dev/null
  done
  local last t0 t1
  last=$(psql "$conn" -tAc "SELECT pg_walfile_name(pg_current_wal_lsn() - 1)")
  t0=$(now_ms)
  psql "$conn" -qtAc "ALTER SYSTEM SET archive_command = '$2'" >/dev/null
  psql "$conn" -qtAc "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 6000); do
    [ "$(psql "$conn" -tAc "SELECT coalesce(last_archived_wal >= '$last', false) FROM pg_stat_archiver")" = t ] && break
    sleep 0.05
  done
  t1=$(now_ms)
  awk -v l="$1" -v t="$((t1 - t0))" -v n="$SEGMENTS" 'BEGIN { printf "  %-46s %5.0f ms per segment (%d in %.1f s)\n", l, t / n, n, t / 1000 }'
}
echo "PostgreSQL's archiver working off a backlog of $SEGMENTS segments:"
backlog "cp (16 MiB written per segment, no fsync)" "cp %p $dir/cp/%f"
backlog "drctl wal-push" "$(readlink -f "$DRCTL") wal-push %p %f --config $dir/drctl.yaml"
backlog "drctl wal-push, archive_async, 2 workers" "$(readlink -f "$DRCTL") wal-push %p %f --config $dir/drctl-async.yaml"
backlog "pgbackrest archive-push, zst" "pgbackrest --config=$dir/pgbackrest-zst.conf --stanza=bench archive-push %p"
backlog "pgbackrest archive-push, zst, archive-async" "pgbackrest --config=$dir/pgbackrest-zst.conf --stanza=bench --archive-async --process-max=2 archive-push %p"

# Restores to the archive's end. Every segment from here on goes to both archives; each
# tool takes a fresh base backup, pgbench writes RESTORE_SEGMENTS segments, and each copy
# is timed from the command until it is out of recovery and takes writes.
psql "$conn" -qtAc "ALTER SYSTEM SET archive_command = '$(readlink -f "$DRCTL") wal-push %p %f --config $dir/drctl.yaml && pgbackrest --config=$dir/pgbackrest-zst.conf --stanza=bench archive-push %p'" >/dev/null
psql "$conn" -qtAc "SELECT pg_reload_conf()" >/dev/null
"$DRCTL" backup run --kind base --config "$dir/drctl.yaml" >/dev/null
as_pg pgbackrest --config="$dir/pgbackrest-zst.conf" --stanza=bench --type=full backup
for _ in $(seq "$RESTORE_SEGMENTS"); do
  pgbench -n -c 2 -t 2000 "$conn" >/dev/null
  psql "$conn" -qtAc "SELECT pg_switch_wal()" >/dev/null
done
last=$(psql "$conn" -tAc "SELECT pg_walfile_name(pg_current_wal_lsn() - 1)")
for _ in $(seq 6000); do
  [ "$(psql "$conn" -tAc "SELECT coalesce(last_archived_wal >= '$last', false) FROM pg_stat_archiver")" = t ] && break
  sleep 0.05
done
expected=$(psql "$conn" -tAc "SELECT count(*) FROM pgbench_history")
sed 's/allowed_regions: \[here\]/allowed_regions: [here]\n  fetch_ahead: 0/' "$dir/drctl.yaml" > "$dir/drctl-no-prefetch.yaml"
sed "s|^log-level-file=off|log-level-file=off\narchive-async=y\nspool-path=$dir/pgbr/spool-get\narchive-get-queue-max=128MB|" "$dir/pgbackrest-zst.conf" > "$dir/pgbackrest-zst-async.conf"
mkdir -p "$dir/pgbr/spool-get" && chown postgres "$dir/pgbr/spool-get" 2>/dev/null || true
chmod 644 "$dir/pgbackrest-zst-async.conf"
restored_rows() { psql "host=127.0.0.1 port=$1 user=postgres dbname=postgres" -tAc "SELECT count(*) FROM pgbench_history" 2>/dev/null || echo "?"; }
until_writable() { # port
  for _ in $(seq 12000); do
    [ "$(psql "host=127.0.0.1 port=$1 user=postgres dbname=postgres" -tAc "SELECT NOT pg_is_in_recovery()" 2>/dev/null)" = t ] && return 0
    sleep 0.02
  done
  return 1
}
declare -A restore_times
restore_drctl() { # label, config
  local target=$dir/restore-$RANDOM rport t0 t1
  rport=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
  t0=$(now_ms)
  "$DRCTL" restore --latest --kind base --to "$target" --port "$rport" --config "$2" >/dev/null
  t1=$(now_ms)
  restore_times[$1]+="$((t1 - t0)) "
  [ "$(restored_rows "$rport")" = "$expected" ] || echo "  $1: restored $(restored_rows "$rport") rows, expected $expected" >&2
  as_pg "$BIN/pg_ctl" -D "$target" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$target"
}
restore_pgbackrest() { # label, config
  local target=$dir/restore-$RANDOM rport t0 t1
  rport=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
  mkdir -p "$target" && chown postgres "$target" && chmod 700 "$target"
  rm -rf "$dir/pgbr/spool-get/"*
  t0=$(now_ms)
  as_pg pgbackrest --config="$2" --stanza=bench --pg1-path="$target" --process-max=2 restore >/dev/null
  printf "port = %s\nunix_socket_directories = ''\narchive_mode = off\n" "$rport" >> "$target/postgresql.auto.conf"
  as_pg "$BIN/pg_ctl" -D "$target" -l "$dir/sock/restore-pgbr.log" start >/dev/null
  until_writable "$rport" || echo "  $1: not writable in time; see $dir/sock/restore-pgbr.log" >&2
  t1=$(now_ms)
  restore_times[$1]+="$((t1 - t0)) "
  [ "$(restored_rows "$rport")" = "$expected" ] || echo "  $1: restored $(restored_rows "$rport") rows, expected $expected" >&2
  as_pg "$BIN/pg_ctl" -D "$target" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$target"
}
labels=("drctl restore --latest, fetch_ahead 8" "drctl restore --latest, fetch_ahead 0" "pgbackrest restore + archive-get" "pgbackrest restore + archive-get, archive-async")
for _ in $(seq "$TRIALS"); do
  restore_drctl "${labels[0]}" "$dir/drctl.yaml"
  restore_drctl "${labels[1]}" "$dir/drctl-no-prefetch.yaml"
  restore_pgbackrest "${labels[2]}" "$dir/pgbackrest-zst.conf"
  restore_pgbackrest "${labels[3]}" "$dir/pgbackrest-zst-async.conf"
done
echo "restore to the archive's end: base backup (zstd) + $RESTORE_SEGMENTS segments of pgbench WAL, until the copy takes writes; $TRIALS trials, median:"
for label in "${labels[@]}"; do
  # shellcheck disable=SC2086
  awk -v l="$label" -v m="$(median ${restore_times[$label]})" 'BEGIN { printf "  %-50s %6.2f s\n", l, m / 1000 }'
done
