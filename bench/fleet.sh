#!/usr/bin/env bash
# make bench (a fleet on one etcd): drctl-lab fleet runs N clusters' real agents (3 each, the
# production defaults: 1 s loop, 5 s lease) over scripted databases against a 3-member etcd
# on loopback, loses one cluster's primary host at a time and times its failover, and reads
# etcd's commit latency and CPU from its own metrics; N grows until this machine saturates.
set -euo pipefail
cd "$(dirname "$0")/.."
DRCTL=${DRCTL:-.build/debug/drctl}
DRCTL_LAB=${DRCTL_LAB:-.build/debug/drctl-lab}
"$DRCTL_LAB" fleet --clusters "${FLEET_CLUSTERS:-1,10,50,100,150,200,300}" --kills "${FLEET_KILLS:-5}" --steady "${FLEET_STEADY:-10s}"
