#!/usr/bin/env bash
# Server CPU per topics delivery, user and system time apart (utime and stime of
# /proc/PID/stat over SECONDS of the bench's steady state; `bus-cli bench topics` reports only
# their sum), for one or more builds, alternating them run by run.
#
#   bench/topics-split.sh [RUNS] [SECONDS] BUILD_DIR...
#
# Each BUILD_DIR holds a release broker-server and bus-cli. RUNS defaults to 3, SECONDS to 6.
# The bench (defaults: 9,000 topics, 4 publishers, 10,000 msg/s) runs for SECONDS + 6 s; the
# sample starts once every subscriber's connection is open plus 3 s (past the warm-up) and
# divides by SECONDS × the bench's measured deliveries per second. Prints one line per run.
set -euo pipefail
runs=${1:-3}
seconds=${2:-6}
shift 2 || true
[ $# -ge 1 ] || set -- .build/release
tick=$(getconf CLK_TCK)
for run in $(seq 1 "$runs"); do
  for dir in "$@"; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    log=$(mktemp)
    out=$(mktemp)
    "$dir/broker-server" --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do grep -q 'msg=listening' "$log" && break; sleep 0.05; done
    "$dir/bus-cli" bench topics --url "ws://127.0.0.1:$port" --server-pid "$pid" --duration $(( seconds + 6 )) >"$out" 2>&1 &
    bench=$!
    until [ "$(ls /proc/"$pid"/fd | wc -l)" -ge 9004 ]; do sleep 0.1; done
    sleep 3
    read -r user0 system0 < <(awk '{ print $14, $15 }' /proc/"$pid"/stat)
    sleep "$seconds"
    read -r user1 system1 < <(awk '{ print $14, $15 }' /proc/"$pid"/stat)
    wait "$bench" || true
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rate=$(grep '^{' "$out" | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["deliveries_per_second"])')
    rm -f "$log" "$out"
    python3 - "$dir" "$user0" "$user1" "$system0" "$system1" "$tick" "$seconds" "$rate" <<'PY'
import sys
name = sys.argv[1]
u0, u1, s0, s1, tick, seconds = map(int, sys.argv[2:8])
deliveries = seconds * float(sys.argv[8])
ns = lambda ticks: ticks / tick * 1e9 / deliveries
print(f"{name}: user {ns(u1 - u0):,.0f} ns, system {ns(s1 - s0):,.0f} ns, total {ns(u1 - u0 + s1 - s0):,.0f} ns per delivery")
PY
  done
done
