#!/usr/bin/env bash
# make bench (complete disaster): the region-activation drill (drills/region-activation.yaml)
# on a fresh loopback lab, TRIALS times (default 5): under a write load, region1 and region2
# (every database and agent) are killed, and `drctl region activate region3` restores the
# newest base backup and the WAL archive into region3's node, which its agent makes the
# primary; DNS follows. Lab settings: 2 s lease (the lost primary's key must expire first),
# archive_timeout 1 s on the lost primary, a ~40 MB database. Printed: the drill's RTO (fault
# to DNS switched, the activation started at once) and RPO (acknowledged writes the archive
# did not hold), and the activation's own steps.
set -euo pipefail
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-$PWD/.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-$PWD/.build/debug/drctl-lab}
TRIALS=${TRIALS:-5}
# shellcheck source=bench/common.sh
source bench/common.sh

rto=() rpo=() writable=() keyed=()
for t in $(seq "$TRIALS"); do
  dir=$(mktemp -d /tmp/drctl-bench-XXXXXX); rmdir "$dir"
  "$DRCTL_LAB" up --dir "$dir" >/dev/null
  out=$("$DRCTL_LAB" drill run drills/region-activation.yaml --config "$dir/drctl.yaml" 2>&1) || { echo "trial $t failed:"; echo "$out"; }
  "$DRCTL_LAB" down --dir "$dir" >/dev/null 2>&1 || true
  r=$(awk '/^  RTO / { printf "%d", $2 * 1000 }' <<<"$out"); p=$(awk '/^  RPO / { printf "%d", $2 * 1000 }' <<<"$out")
  # The timeline's phases: "start – end s  name"; the activation's steps end at their time.
  w=$(awk '/ writable$/ { print $3 }' <<<"$out"); k=$(awk '/ leader key taken$/ { print $3 }' <<<"$out")
  s=$(awk '/ key of the lost primary expires/ { print $3 }' <<<"$out")
  [ -n "$r" ] && rto+=("$r") && rpo+=("$p")
  [ -n "$w" ] && [ -n "$s" ] && writable+=("$(awk -v a="$s" -v b="$w" 'BEGIN { printf "%d", (b - a) * 1000 }')")
  [ -n "$k" ] && [ -n "$s" ] && keyed+=("$(awk -v a="$s" -v b="$k" 'BEGIN { printf "%d", (b - a) * 1000 }')")
done
echo "region activation drill: loopback lab, 2 s lease, archive_timeout 1 s, $TRIALS trials"
stats "RTO: fault to DNS switched" ms "${rto[@]}"
stats "RPO: acknowledged writes not archived" ms "${rpo[@]}"
stats "activation start to writable" ms "${writable[@]}"
stats "activation start to leader key" ms "${keyed[@]}"
