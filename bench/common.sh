# Shared by the bench scripts: a millisecond clock and min/median/p90/max of a sample.
now_ms() { date +%s%3N; }
stats() { # name unit values...
  local name=$1 unit=$2; shift 2
  printf '%s\n' "$@" | sort -n | awk -v name="$name" -v unit="$unit" '
    { v[NR] = $1 }
    END {
      p90 = int(NR * 0.9 + 0.999); if (p90 > NR) p90 = NR
      printf "  %-34s min %7s  median %7s  p90 %7s  max %7s %s\n", name, v[1], v[int((NR + 1) / 2)], v[p90], v[NR], unit
    }'
}
# The longest pause, in ms, between consecutive acknowledged writes whose time (ms, in
# column COLUMN of FILE) lies in [FROM, TO] (defaults: the whole file).
longest_gap() { # file column [from [to]]
  awk -v c="$2" -v from="${3:-0}" -v to="${4:-9999999999999}" \
    '$c >= from && $c <= to { if (prev) { g = $c - prev; if (g > max) max = g } prev = $c } END { print max + 0 }' "$1"
}
# etcd's own counters at ENDPOINT, one "name value" per line: requests by gRPC method (behind
# the JSON gateway /v3/kv/txn is Txn, /v3/kv/put Put, /v3/kv/range Range,
# /v3/lease/keepalive LeaseKeepAlive, /v3/watch Watch), the writes raft committed and the
# bytes each way.
etcd_sample() { # endpoint
  curl -s "$1/metrics" | awk '
    /^grpc_server_handled_total/ { match($0, /grpc_method="[^"]+"/); m = substr($0, RSTART + 13, RLENGTH - 14); v[m] += $NF }
    /^etcd_server_proposals_committed_total / { v["writes_committed"] = $NF }
    /^etcd_network_client_grpc_received_bytes_total / { v["bytes_received"] = $NF }
    /^etcd_network_client_grpc_sent_bytes_total / { v["bytes_sent"] = $NF }
    END { for (k in v) printf "%s %s\n", k, v[k] }' | sort
}
# Prints the change between two samples (as etcd_sample prints them) per second and per
# agent loop, each line prefixed with WHAT.
sample_rates() { # what before after seconds agents loops
  join -a 2 -e 0 -o 0,1.2,2.2 <(echo "$2") <(echo "$3") | awk -v w="$1" -v d="$4" -v n="$5" -v l="$6" '
    $3 != $2 { delta = $3 - $2; printf "    %s %-28s %9.2f per second  %7.2f per agent loop\n", w, $1, delta / d, delta / n / l }'
}
