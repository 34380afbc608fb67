#!/usr/bin/env bash
# make chaos-long: many seeded fault campaigns, in both replication modes and with one and
# three etcd members, each judged by `drctl-lab chaos`; then one summary of schedules,
# faults and violations (the README's figures come from it). Reports stay in $OUT.
#   SEEDS=first..last (default 1..10), DURATION seconds of faults per campaign (default 90),
#   MODES (default "async sync"), MEMBERS (default "1 3"), OUT (default /tmp/drctl-chaos-long),
#   FAILSAFE=1 to run every campaign with failover.failsafe.
# The agents run a copy of the binary, so rebuilding meanwhile changes nothing under them.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-1..10}
DURATION=${DURATION:-90}
MODES=${MODES:-async sync}
MEMBERS=${MEMBERS:-1 3}
OUT=${OUT:-/tmp/drctl-chaos-long}
mkdir -p "$OUT"
# Copies, so a rebuild meanwhile changes nothing (drctl-lab runs the drctl beside it).
cp "${DRCTL:-.build/debug/drctl}" "$OUT/drctl"
cp "${DRCTL_LAB:-.build/debug/drctl-lab}" "$OUT/drctl-lab"
first=${SEEDS%..*}; last=${SEEDS#*..}
started=$(date +%s)
for seed in $(seq "$first" "$last"); do
  for mode in $MODES; do
    for members in $MEMBERS; do
      name="chaos-$seed-$mode-etcd$members${FAILSAFE:+-failsafe}"
      if "$OUT/drctl-lab" chaos --seed "$seed" --duration "$DURATION" --mode "$mode" --etcd-members "$members" ${FAILSAFE:+--failsafe} \
        --report "$OUT/$name.json" > "$OUT/$name.log" 2>&1; then verdict=pass; else verdict=FAIL; fi
      echo "$(date +%H:%M:%S) seed $seed $mode etcd×$members: $verdict"
    done
  done
done
python3 - "$OUT" "$(( $(date +%s) - started ))" <<'PY'
import collections, glob, json, sys
out, seconds = sys.argv[1], int(sys.argv[2])
reports = [json.load(open(f)) for f in sorted(glob.glob(f"{out}/chaos-*.json"))]
faults = collections.Counter(step["fault"] for r in reports for step in r["plan"]["steps"])
violations = [(r["seed"], r["mode"], r["etcd_members"], p["name"], p["detail"]) for r in reports for p in r["properties"] if not p["passed"]]
failovers = sum(len(set(a["timeline"] for a in r["acks"])) - 1 for r in reports)
lines = [
    f"{len(reports)} campaigns in {seconds // 60} min: {sum(faults.values())} faults, "
    f"{sum(len(r['acks']) for r in reports)} acknowledged writes, {failovers} new timelines seen by the clients, {len(violations)} violations",
    "faults: " + ", ".join(f"{name} {count}" for name, count in sorted(faults.items())),
]
lines += [f"VIOLATION seed {s} {m} etcd×{e}: {n}: {d}" for s, m, e, n, d in violations]
open(f"{out}/summary.txt", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
