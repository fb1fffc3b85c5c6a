#!/usr/bin/env bash
# Start-up memory of one broker-server: starts BINARY (default: the release build) on a free
# 127.0.0.1 port with --loops 1 and any extra arguments, waits for "listening", GETs /healthz once,
# then prints VmRSS, RssAnon, RssFile (/proc/PID/status) and Pss (/proc/PID/smaps_rollup) in kB,
# and stops the server by its pid. Issue 18's figure: bench/startup.sh .build-static/release/broker-server
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/release/broker-server}
shift || true
log=$(mktemp)
"$binary" --port 0 --loops 1 --log-level info "$@" 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q listening "$log" && break; sleep 0.05; done
port=$(grep -o '127\.0\.0\.1:[0-9]*' "$log" | head -1 | cut -d: -f2)
[ -n "$port" ] || { echo "startup.sh: $binary did not start" >&2; cat "$log" >&2; exit 1; }
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null
sleep 0.2
field() { awk -v key="$1:" '$1 == key { print $2 }' "$2"; }
printf 'VmRSS %s kB  RssAnon %s kB  RssFile %s kB  Pss %s kB  (%s, pid %s)\n' \
  "$(field VmRSS /proc/$pid/status)" "$(field RssAnon /proc/$pid/status)" \
  "$(field RssFile /proc/$pid/status)" "$(field Pss /proc/$pid/smaps_rollup)" "$binary" "$pid"
kill -TERM "$pid"
wait "$pid" || true
trap 'rm -f "$log"' EXIT
