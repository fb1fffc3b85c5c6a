#!/usr/bin/env bash
# Smoke run of every `bus-cli bench` scenario: small sizes, a second or two each. Fails when a
# scenario fails (anything lost, a subscriber wrongly dropped, a descriptor left behind, setup
# incomplete). No timing is asserted: the figures are printed, never judged.
#
# Needs the release build: swift build -c release (builds broker-server and bus-cli)
# BUS_CLI overrides the bus-cli path (broker-server must sit beside it).
set -uo pipefail
cd "$(dirname "$0")/.."
BUS_CLI="${BUS_CLI:-.build/release/bus-cli}"
if [[ ! -x "$BUS_CLI" || ! -x "$(dirname "$BUS_CLI")/broker-server" ]]; then
    echo "bench/smoke.sh: $BUS_CLI or broker-server beside it is missing;" \
         "build with: swift build -c release (builds broker-server and bus-cli)" >&2
    exit 1
fi

runs=(
    "fanout --subscribers 50 --rate 200 --warmup 0.5 --duration 1 --drain 3"
    "fanout --subscribers 50 --rate 200 --warmup 0.5 --duration 1 --drain 3 --json"
    # The JSON corpus with permessage-deflate: the bench client negotiates and inflates.
    "fanout --subscribers 50 --rate 200 --warmup 0.5 --duration 1 --drain 3 --payloads bench/payloads --compression"
    "topics --topics 200 --publishers 2 --rate 1000 --warmup 0.5 --duration 1 --drain 3 --payloads bench/payloads --compression"
    "saturate --subscribers 50 --warmup 0.5 --duration 1 --drain 3"
    "topics --topics 200 --publishers 2 --rate 1000 --warmup 0.5 --duration 1 --drain 3"
    "idle --connections 300 --hold 0.5"
    "idle --connections 300 --hold 0.5 --topic-per-connection"
    "churn --concurrency 8 --duration 1"
    "echo --connections 10 --warmup 0.5 --duration 1"
    # A small server send buffer makes the stalled subscriber overflow within a second.
    "slow --subscribers 10 --rate 500 --warmup 0.5 --duration 15 --drain 3 --server-args --socket-send-buffer=32768"
)
failed=0
for run in "${runs[@]}"; do
    echo "== bus-cli bench $run"
    # shellcheck disable=SC2086
    output=$("$BUS_CLI" bench $run 2>&1)
    status=$?
    echo "$output"
    last=$(printf '%s\n' "$output" | tail -n 1)
    if [[ $status -ne 0 || "$last" != *'"ok":true'* ]]; then
        echo "bench/smoke.sh: FAILED: bus-cli bench $run (exit $status)" >&2
        failed=1
    fi
done
if [[ $failed -ne 0 ]]; then exit 1; fi
echo "bench/smoke.sh: every scenario completed and lost nothing"
