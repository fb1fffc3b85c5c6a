#!/usr/bin/env bash
# Server CPU per churn cycle, user and system time apart (utime and stime of
# /proc/PID/stat, read right before and after the bench; `bus-cli bench churn` reports
# only their sum).
#
#   bench/cpu-split.sh [BUILD_DIR] [CYCLES] [RUNS]
#
# BUILD_DIR (default .build/release) holds a release broker-server and bus-cli; CYCLES
# defaults to 20,000, RUNS to 3. Prints one line per run: µs user, system and total per cycle.
set -euo pipefail
dir=${1:-.build/release}
cycles=${2:-20000}
runs=${3:-3}
tick=$(getconf CLK_TCK)
for run in $(seq 1 "$runs"); do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  log=$(mktemp)
  "$dir/broker-server" --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q 'msg=listening' "$log" && break; sleep 0.05; done
  read -r user0 system0 < <(awk '{ print $14, $15 }' /proc/"$pid"/stat)
  result=$("$dir/bus-cli" bench churn --url "ws://127.0.0.1:$port" --server-pid "$pid" --cycles "$cycles" --duration 600 2>&1 | grep '^{' | tail -1)
  read -r user1 system1 < <(awk '{ print $14, $15 }' /proc/"$pid"/stat)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$log"
  done_cycles=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cycles"])' "$result")
  python3 - "$user0" "$user1" "$system0" "$system1" "$tick" "$done_cycles" <<'PY'
import sys
u0, u1, s0, s1, tick, cycles = map(int, sys.argv[1:])
us = lambda ticks: ticks / tick * 1e6 / cycles
print(f"{cycles} cycles: user {us(u1 - u0):.1f} µs, system {us(s1 - s0):.1f} µs, total {us(u1 - u0 + s1 - s0):.1f} µs per cycle")
PY
done
