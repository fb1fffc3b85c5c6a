#!/usr/bin/env bash
# User-space instructions the server spends per unit of work, counted by valgrind's callgrind
# (steady where time is not: this VM has no hardware counters and shares its two cores).
#
#   bench/callgrind.sh SCENARIO [COUNT] [BUILD_DIR]
#
#   churn   COUNT cycles (connect, subscribe, leave; 64 in flight) [2000]: instructions per cycle
#   idle    COUNT connections set up and subscribed (64 at a time) [2000]: instructions per
#           connection set up (counted until every one is open, before they leave), then per
#           connection left (the rest of the run: the hold and their resets)
#   topics  COUNT messages over 1,000 one-subscriber topics at 500 msg/s [6000]: instructions
#           per delivery, as the difference of a run of COUNT and one of COUNT/3 (the set-up
#           of the subscribers falls out)
#
# BUILD_DIR (default .build/release) holds a release broker-server and bus-cli. The server runs
# under callgrind with instrumentation off until the bench starts (`callgrind_control -i on`),
# so its start-up does not count; kernel time is never counted. Extra server flags go in
# SERVER_ARGS. Output files stay in $CALLGRIND_DIR when set, else in a temporary directory that
# is removed; symbols are Swift-mangled: `callgrind_annotate FILE | swift demangle`. Each run
# takes a minute or two. Topics runs slowly (500 msg/s) so that the server, even under callgrind,
# mostly handles each message in a turn of its own: how many share a turn depends on the
# machine's load, and so does the figure (two runs differ by up to 4 %; churn's by 0.3 %).
set -euo pipefail
[ $# -ge 1 ] || { sed -n 2,23p "$0"; exit 2; }
scenario=$1
dir=${3:-.build/release}
out=${CALLGRIND_DIR:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${CALLGRIND_DIR:-}" ] || trap 'rm -rf "$out"' EXIT

server_pid=
cleanup_server() { [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=; }; }
trap 'cleanup_server' ERR INT TERM

# Starts the server under callgrind on a free port; sets server_pid and port.
start_server() {
  local tag=$1
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # valgrind 3.19 cannot read the DWARF 5 Swift emits: a copy without it (symbols stay).
  [ -x "$out/broker-server" ] || objcopy --strip-debug "$dir/broker-server" "$out/broker-server"
  # shellcheck disable=SC2086
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.$tag.%p" \
    "$out/broker-server" --host 127.0.0.1 --port "$port" ${SERVER_ARGS:-} >"$out/server.$tag.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    grep -q 'msg=listening' "$out/server.$tag.log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q 'msg=listening' "$out/server.$tag.log" || { cat "$out/server.$tag.log" >&2; exit 1; }
  callgrind_control -i on "$server_pid" >/dev/null 2>&1
}

# Dumps the counts since the last dump; prints the instructions in that dump.
dump() {
  local before after
  before=$(ls "$out"/callgrind.*."$server_pid".* 2>/dev/null | wc -l)
  callgrind_control -d "$server_pid" >/dev/null 2>&1
  for _ in $(seq 1 100); do
    after=$(ls "$out"/callgrind.*."$server_pid".* 2>/dev/null | wc -l)
    [ "$after" -gt "$before" ] && break
    sleep 0.1
  done
  local file
  file=$(ls -t "$out"/callgrind.*."$server_pid".* | head -1)
  awk '/^(summary|totals):/ { print $2; exit }' "$file"
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

bench() {
  local log=$1; shift
  "$dir/bus-cli" bench "$@" --url "ws://127.0.0.1:$port" --server-pid "$server_pid" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
  grep '^{' "$log" | tail -1
}

case $scenario in
churn)
  count=${2:-2000}
  start_server churn
  result=$(bench "$out/bench.churn.log" churn --cycles "$count" --duration 600)
  instructions=$(dump)
  stop_server
  cycles=$(json_field "$result" cycles)
  echo "churn: $cycles cycles, $instructions instructions, $(( instructions / cycles )) per cycle"
  ;;
idle)
  count=${2:-2000}
  start_server idle
  baseline=$(ls /proc/"$server_pid"/fd | wc -l)
  bench "$out/bench.idle.log" idle --connections "$count" --concurrency 64 --hold 20 >"$out/idle.json" &
  bench_pid=$!
  # Every connection accepted, then a moment for the last handshakes and subscribes.
  until [ "$(ls /proc/"$server_pid"/fd | wc -l)" -ge $(( baseline + count )) ]; do sleep 0.2; done
  sleep 3
  setup=$(dump)
  wait "$bench_pid"
  rest=$(dump)
  stop_server
  echo "idle: $count connections, set-up $setup instructions, $(( setup / count )) per connection;" \
       "hold and leave $rest, $(( rest / count )) per connection"
  ;;
topics)
  count=${2:-6000}
  declare -A ir received
  for part in short long; do
    n=$count; [ $part = short ] && n=$(( count / 3 ))
    start_server "topics-$part"
    result=$(bench "$out/bench.topics-$part.log" topics --topics 1000 --publishers 4 --rate 500 \
      --warmup 0 --duration "$(python3 -c "print($n / 500)")" --concurrency 64)
    ir[$part]=$(dump)
    stop_server
    received[$part]=$(json_field "$result" received)
  done
  deliveries=$(( received[long] - received[short] ))
  echo "topics: ${received[short]} and ${received[long]} deliveries, ${ir[short]} and ${ir[long]} instructions," \
       "$(( (ir[long] - ir[short]) / deliveries )) per delivery"
  ;;
*)
  echo "unknown scenario $scenario (churn, idle, topics)" >&2; exit 2 ;;
esac
