#!/usr/bin/env bash
# Side by side: the same scenarios against two builds, alternating (before, after, after,
# before, ...) so drift on a noisy machine falls on both, then one table with the median of
# each figure and the ratio after ÷ before.
#
#   bench/compare.sh BEFORE_DIR AFTER_DIR [RUNS] [SCENARIO...]
#
# Each DIR holds a release bus-cli and broker-server (e.g. .build/release of two worktrees).
# RUNS defaults to 2; scenarios default to fanout topics churn saturate. Extra flags for every
# run go in BENCH_FLAGS (e.g. BENCH_FLAGS="--duration 5"), for one side only in BEFORE_FLAGS
# and AFTER_FLAGS: the same build with an option off and on, e.g. compression (issue 17):
#   BENCH_FLAGS="--json --payloads bench/payloads --compression" \
#   BEFORE_FLAGS="--server-args --compression=off" bench/compare.sh .build/release .build/release 3 fanout topics
# Exits non-zero if any run failed.
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,10p "$0"; exit 2; }
before=$1 after=$2
runs=${3:-2}
shift $(( $# >= 3 ? 3 : 2 ))
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(fanout topics churn saturate)
out=$(mktemp -d)
failed=0
for scenario in "${scenarios[@]}"; do
  for run in $(seq 1 "$runs"); do
    order=(before after)
    (( run % 2 == 0 )) && order=(after before)
    for side in "${order[@]}"; do
      dir=$before; side_flags=${BEFORE_FLAGS:-}
      [ "$side" = after ] && dir=$after && side_flags=${AFTER_FLAGS:-}
      echo "== $scenario run $run: $side ($dir $side_flags)" >&2
      # shellcheck disable=SC2086
      if ! "$dir/bus-cli" bench "$scenario" ${BENCH_FLAGS:-} $side_flags >"$out/log" 2>&1; then failed=1; fi
      grep '^{' "$out/log" | tail -1 | sed "s/^/$side $scenario /" >>"$out/results"
    done
  done
done
python3 - "$out/results" <<'EOF'
import json, statistics, sys
figures = {
    "fanout": ["server_ns_per_delivery", "latency_p99_ms", "server_rss_bytes", "wire_bytes_per_delivery", "compress_ns_per_message"],
    "topics": ["server_ns_per_delivery", "latency_p99_ms", "server_rss_bytes", "wire_bytes_per_delivery", "compress_ns_per_message"],
    "saturate": ["deliveries_per_second", "server_ns_per_delivery"],
    "churn": ["cycles_per_second", "server_us_per_cycle"],
    "idle": ["server_rss_per_connection", "server_rss_before_bytes", "server_rss_after_close_bytes", "connections_per_second"],
    "echo": ["round_trips_per_second", "server_ns_per_round_trip"],
    "slow": ["healthy_p99_after_ms"],
}
rows = {}
for line in open(sys.argv[1]):
    side, scenario, text = line.split(" ", 2)
    data = json.loads(text)
    for key in figures.get(scenario, []):
        if isinstance(data.get(key), (int, float)):
            rows.setdefault((scenario, key), {"before": [], "after": []})[side].append(data[key])
print(f"{'scenario':<9} {'figure':<26} {'before (runs)':<24} {'after (runs)':<24} {'after/before':>12}")
for (scenario, key), sides in rows.items():
    b, a = sides["before"], sides["after"]
    ratio = statistics.median(a) / statistics.median(b) if a and b and statistics.median(b) else float("nan")
    fmt = lambda xs: " / ".join(f"{x:g}" for x in xs)
    print(f"{scenario:<9} {key:<26} {fmt(b):<24} {fmt(a):<24} {ratio:>12.3f}")
EOF
rm -rf "$out"
exit $failed
