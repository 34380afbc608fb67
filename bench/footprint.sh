#!/usr/bin/env bash
# make bench: the agent's and its watchdog's footprint on a primary's host, in the release
# build an installation runs (packaging/release-build-flags: Swift runtime linked
# statically, packed relocations), at a 1 s health interval.
set -euo pipefail
cd "$(dirname "$0")/.."
WINDOW=${WINDOW:-60}
# The flags install and release build with (see the Makefile).
read -r -a flags < packaging/release-build-flags
swift build "${flags[@]}" --product drctl >/dev/null
swift build "${flags[@]}" --product drctl-lab >/dev/null
DRCTL=.build/release/drctl
DRCTL_LAB=.build/release/drctl-lab
DIR=$(mktemp -d /tmp/drctl-footprint-XXXXXX)
rmdir "$DIR"
cleanup() { [ -f "$DIR/lab.json" ] && "$DRCTL_LAB" down --dir "$DIR" >/dev/null || true; }
trap cleanup EXIT

"$DRCTL_LAB" up --dir "$DIR" --health-interval 1s >/dev/null
sleep 10  # past start-up: the leader's first DNS switch, the first member records
agent=$(pgrep -f "drctl agent --region region1 --config $DIR/drctl.yaml" | head -1)
watchdog=$(pgrep -f "drctl watchdog --config $DIR/drctl.yaml --node pg1" | head -1)
echo "configuration: $(nproc) cores, $(uname -r), drctl release build (static Swift runtime, $(du -m "$DRCTL" | cut -f1) MB),"
echo "  health.interval 1s, lease_ttl 2s, the primary's agent (pid $agent) and watchdog (pid $watchdog), ${WINDOW} s of CPU"
echo "  goal: together at most 40 MiB resident and 1% of a core"
python3 bench/footprint.py "$WINDOW" "$agent" "$watchdog" | sed "s/pid $agent/agent   /; s/pid $watchdog/watchdog/; s/^/  /"
