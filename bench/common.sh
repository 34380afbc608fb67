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
