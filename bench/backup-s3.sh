#!/usr/bin/env bash
# make bench (object storage part): `drctl backup run` into an S3 bucket against a bare
# `pg_dump -Fc > file` of the same database from the same standby in the same run; a base
# backup to the bucket; `drctl restore` from the bucket; and `drctl wal-push` per segment
# (one process per segment, as archive_command runs it).
# The bucket is the suite's local S3: moto behind a gate that recomputes every request's
# SigV4 signature with botocore (Sources/DRLab/s3-server.py), on the same 2 cores as the
# lab, so its own CPU is part of what is measured; a real S3 endpoint costs the network
# instead. pgbench's tables compress about 50:1, which would time pg_dump's CPU and little
# else, so a table of random text (NOISE_MB, default 150; about 2:1) gives the dump its
# size. SCALE=N sets the pgbench scale (default 10); TRIALS=N (default 3); SEGMENTS=N WAL
# segments pushed (default 20); PART_MIB the multipart part size (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-.build/debug/drctl-lab}
TRIALS=${TRIALS:-3}
SCALE=${SCALE:-10}
NOISE_MB=${NOISE_MB:-150}
SEGMENTS=${SEGMENTS:-20}
PART_MIB=${PART_MIB:-16}
BIN=/usr/lib/postgresql/15/bin
# shellcheck source=bench/common.sh
source bench/common.sh
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])"; }

dir=$(mktemp -d /tmp/drctl-bench-XXXXXX); rmdir "$dir"
s3pid=""
cleanup() {
  for d in "$dir"/restore-*; do [ -d "$d" ] && as_pg "$BIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true; done
  [ -n "$s3pid" ] && kill "$s3pid" 2>/dev/null || true
  "$DRCTL_LAB" down --dir "$dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$DRCTL_LAB" up --dir "$dir" >/dev/null
p1=$(python3 -c "import json;print(json.load(open('$dir/lab.json'))['nodes'][0]['port'])")
p2=$(python3 -c "import json;print(json.load(open('$dir/lab.json'))['nodes'][1]['port'])")

# The bucket, its keys (files readable by archive_command's user) and the config using it.
mkdir -p "$dir/s3" && chmod 755 "$dir/s3"
s3port=$(free_port)
python3 -c "import secrets;print('AKIDBENCH' + secrets.token_hex(6).upper())" > "$dir/s3/id"
python3 -c "import secrets;print(secrets.token_hex(24))" > "$dir/s3/secret"
chmod 644 "$dir/s3/id" "$dir/s3/secret"
python3 Sources/DRLab/s3-server.py --port "$s3port" --access-key "$(cat "$dir/s3/id")" --secret-key "$(cat "$dir/s3/secret")" \
  --region eu-west-1 --log "$dir/s3/requests.jsonl" --bucket drctl-bench > "$dir/s3/server.log" 2>&1 &
s3pid=$!
for _ in $(seq 300); do grep -q "listening on" "$dir/s3/server.log" 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" "$dir/s3/server.log" || { echo "the local S3 did not start: $(tail -5 "$dir/s3/server.log")" >&2; exit 1; }
cfg="$dir/s3.yaml"
python3 - "$dir/drctl.yaml" "$cfg" "$s3port" "$dir/s3" "$PART_MIB" <<'EOF'
import sys
source, target, port, keys, part = sys.argv[1:]
out = []
for line in open(source).read().split("\n"):
    stripped, indent = line.strip(), line[: len(line) - len(line.lstrip())]
    if stripped.startswith("repository: "):
        out += [f"{indent}repository: s3://drctl-bench/backups", f"{indent}s3:", f"{indent}  endpoint: http://127.0.0.1:{port}",
                f"{indent}  part_size_mib: {part}", f"{indent}  access_key_id_file: {keys}/id", f"{indent}  secret_access_key_file: {keys}/secret"]
        continue
    out.append(line)
    if stripped == "role: cold":
        out.append(f"{indent}provider_region: eu-west-1")
open(target, "w").write("\n".join(out))
EOF

pgbench -i -q -s "$SCALE" "host=127.0.1.1 port=$p1 user=postgres dbname=postgres" >/dev/null 2>&1
psql -q "host=127.0.1.1 port=$p1 user=postgres dbname=postgres" -c \
  "CREATE TABLE noise AS SELECT g AS id, md5(random()::text) || md5(random()::text) AS a FROM generate_series(1, $NOISE_MB * 1048576 / 100) g"
for _ in $(seq 120); do
  lag=$(psql "host=127.0.1.1 port=$p1 user=postgres dbname=postgres" -tAc "SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)),1) FROM pg_stat_replication")
  [ "$lag" = 0 ] && break; sleep 0.5
done
standby="host=127.0.2.1 port=$p2 user=postgres dbname=postgres"
dbsize=$(psql "$standby" -tAc "SELECT pg_database_size('postgres')")

# Milliseconds the server spent in CompleteMultipartUpload since line $1 of its log: moto
# concatenates the parts in Python (seconds for hundreds of MB; S3 itself takes well under
# one), so it is printed apart from drctl's own time.
completing() { tail -n +"$(($1 + 1))" "$dir/s3/requests.jsonl" | python3 -c '
import json, sys
print(sum(r["ms"] for r in map(json.loads, sys.stdin) if r["method"] == "POST" and r["query"].startswith("uploadId=")))'; }
logged() { wc -l < "$dir/s3/requests.jsonl"; }

bare=() ours=() ours_c=() barebase=() base=() base_c=() boto=() boto_c=() restore=() baserestore=() botountar=()
for t in $(seq "$TRIALS"); do
  sync; t0=$(now_ms); "$BIN/pg_dump" -Fc -d "$standby" > "$dir/bare.dump"; sync; t1=$(now_ms)
  bare+=($((t1 - t0)))
  n=$(logged); t0=$(now_ms); "$DRCTL" backup run --kind logical --config "$cfg" >/dev/null; t1=$(now_ms)
  ours+=($((t1 - t0))); ours_c+=($(completing "$n"))
  sync; t0=$(now_ms); "$BIN/pg_basebackup" -d "$standby" -D - -Ft -X fetch -c fast --no-password > "$dir/bare-base.tar"; sync; t1=$(now_ms)
  barebase+=($((t1 - t0)))
  # The same server's ceiling: boto3 uploading the finished tar, parts as drctl's, 2 in flight.
  n=$(logged); t0=$(now_ms)
  python3 -c '
import sys, boto3
from boto3.s3.transfer import TransferConfig
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="eu-west-1", aws_access_key_id=open(sys.argv[2] + "/id").read().strip(),
                  aws_secret_access_key=open(sys.argv[2] + "/secret").read().strip())
part = int(sys.argv[4]) * 1048576
s3.upload_file(sys.argv[3], "drctl-bench", "boto3/base.tar", Config=TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=2))
' "http://127.0.0.1:$s3port" "$dir/s3" "$dir/bare-base.tar" "$PART_MIB"
  t1=$(now_ms); boto+=($((t1 - t0))); boto_c+=($(completing "$n"))
  rm -f "$dir/bare-base.tar"
  n=$(logged); t0=$(now_ms); "$DRCTL" backup run --kind base --config "$cfg" >/dev/null; t1=$(now_ms)
  base+=($((t1 - t0))); base_c+=($(completing "$n"))
  t0=$(now_ms); "$DRCTL" restore --to "$dir/restore-$t" --latest --kind logical --port "$(free_port)" --config "$cfg" >/dev/null; t1=$(now_ms)
  restore+=($((t1 - t0)))
  as_pg "$BIN/pg_ctl" -D "$dir/restore-$t" -m immediate stop >/dev/null
  rm -rf "$dir/restore-$t"
  # A base restore streams the tar from the bucket into tar -x while the next part travels.
  t0=$(now_ms); "$DRCTL" restore --to "$dir/restore-$t" --latest --kind base --port "$(free_port)" --config "$cfg" >/dev/null; t1=$(now_ms)
  baserestore+=($((t1 - t0)))
  as_pg "$BIN/pg_ctl" -D "$dir/restore-$t" -m immediate stop >/dev/null
  rm -rf "$dir/restore-$t"
  # What it replaces: the whole tar downloaded first (boto3, 2 parts in flight), then unpacked.
  key=$(python3 - "$cfg" "$DRCTL" <<'EOF'
import json, subprocess, sys
listing = json.loads(subprocess.run([sys.argv[2], "backup", "list", "--json", "--config", sys.argv[1]], capture_output=True, text=True, check=True).stdout)
newest = [b for b in listing if b.get("kind") == "base"][-1]
print(f"backups/lab/{newest['id']}/{newest['path']}")
EOF
)
  mkdir -p "$dir/untar-$t"; sync; t0=$(now_ms)
  python3 -c '
import sys, boto3
from boto3.s3.transfer import TransferConfig
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="eu-west-1", aws_access_key_id=open(sys.argv[2] + "/id").read().strip(),
                  aws_secret_access_key=open(sys.argv[2] + "/secret").read().strip())
part = int(sys.argv[5]) * 1048576
s3.download_file("drctl-bench", sys.argv[3], sys.argv[4], Config=TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=2))
' "http://127.0.0.1:$s3port" "$dir/s3" "$key" "$dir/boto-base.tar" "$PART_MIB"
  tar -xf "$dir/boto-base.tar" -C "$dir/untar-$t"; sync; t1=$(now_ms)
  botountar+=($((t1 - t0)))
  rm -rf "$dir/untar-$t" "$dir/boto-base.tar"
done
basesize=$(python3 - "$cfg" "$DRCTL" <<'EOF'
import json, subprocess, sys
listing = json.loads(subprocess.run([sys.argv[2], "backup", "list", "--json", "--config", sys.argv[1]], capture_output=True, text=True, check=True).stdout)
sizes = [b["size"] for b in (listing if isinstance(listing, list) else listing.get("backups", [])) if b.get("kind") == "base"]
print(sizes[-1] if sizes else 0)
EOF
)

# wal-push: real 16 MiB segments, copied out of pg1's pg_wal (archive_command's %p), each
# pushed by its own process under a name the archive has not seen.
walsrc=$(python3 -c "import json;print(json.load(open('$dir/lab.json'))['nodes'][0]['dataDir'])")/pg_wal
seg=$(ls "$walsrc" | grep -E '^[0-9A-F]{24}$' | head -1)
mkdir -p "$dir/wal"
push=()
for i in $(seq "$SEGMENTS"); do
  name=$(printf 'FF%06X%016X' "$i" "$i")
  cp "$walsrc/$seg" "$dir/wal/$name"
  t0=$(now_ms); "$DRCTL" wal-push "$dir/wal/$name" "$name" --config "$cfg"; t1=$(now_ms)
  push+=($((t1 - t0)))
  rm -f "$dir/wal/$name"
done
requests=$(wc -l < "$dir/s3/requests.jsonl"); refused=$(grep -vc '"verdict": "ok"' "$dir/s3/requests.jsonl" || true)

dumpsize=$(stat -c %s "$dir/bare.dump")
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mb=$(awk -v b="$dumpsize" 'BEGIN { printf "%.1f", b / 1048576 }')
basemb=$(awk -v b="$basesize" 'BEGIN { printf "%.1f", b / 1048576 }')
bm=$(median "${bare[@]}"); om=$(median "${ours[@]}"); bb=$(median "${base[@]}"); bbb=$(median "${barebase[@]}")
oc=$(median "${ours_c[@]}"); bc=$(median "${base_c[@]}"); bo=$(median "${boto[@]}"); boc=$(median "${boto_c[@]}"); rm_=$(median "${restore[@]}")
echo "backups to S3 (local moto + botocore signature gate, part size $PART_MIB MiB): pgbench scale $SCALE, database $(awk -v b="$dbsize" 'BEGIN { printf "%.0f", b / 1048576 }') MB, dump $mb MB, base $basemb MB, from the standby, $TRIALS trials (median)"
awk -v mb="$mb" -v b="$bm" -v o="$om" -v oc="$oc" -v bb="$bb" -v bbb="$bbb" -v bc="$bc" -v bo="$bo" -v boc="$boc" -v basemb="$basemb" 'BEGIN {
  printf "  bare pg_dump -Fc > local file          %6d ms  %7.1f MB/s\n", b, mb / (b / 1000)
  printf "  drctl backup run --kind logical        %6d ms  %7.1f MB/s  = %.2f of bare (goal >= 0.9)\n", o, mb / (o / 1000), b / o
  printf "    of which moto completing the upload  %6d ms; without it %.2f of bare\n", oc, b / (o - oc)
  printf "  bare pg_basebackup -Ft > local file    %6d ms  %7.1f MB/s\n", bbb, basemb / (bbb / 1000)
  printf "  drctl backup run --kind base           %6d ms  %7.1f MB/s  = %.2f of bare\n", bb, basemb / (bb / 1000), bbb / bb
  printf "    of which moto completing the upload  %6d ms; without it %.2f of bare\n", bc, bbb / (bb - bc)
  printf "  boto3 upload_file of the bare tar      %6d ms  %7.1f MB/s  (the server'"'"'s ceiling; drctl = %.2f of it)\n", bo, basemb / (bo / 1000), bo / bb
  printf "    of which moto completing the upload  %6d ms; without it drctl = %.2f of boto3 + bare pg_basebackup\n", boc, (bo - boc + bbb) / (bb - bc) }'
echo "  drctl restore --kind logical from the bucket (download + checksum, initdb, pg_restore): $rm_ ms"
echo "  drctl restore --kind base from the bucket (streamed into tar -x + checksum, WAL replay, promotion, validation): $(median "${baserestore[@]}") ms"
echo "    boto3 download_file of the same tar, then tar -x (nothing else): $(median "${botountar[@]}") ms"
stats "wal-push, one process per 16 MiB segment" ms "${push[@]}"
echo "  $requests requests to the bucket, $refused refused by the signature gate"
