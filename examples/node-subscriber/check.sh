#!/usr/bin/env bash
# Runs the Node subscriber example against a live broker, bounded: it subscribes, three
# messages are published with bus-cli, and it must print exactly those and exit by itself.
# Usage: examples/node-subscriber/check.sh ws://127.0.0.1:PORT/bus BUS_CLI   (.ci/run runs it)
set -euo pipefail
url=$1 bus_cli=$2
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -r "$out"' EXIT
topic="example.node.$RANDOM$RANDOM"
NODE_PATH=${NODE_PATH:-/usr/share/nodejs} timeout 60 node "$here/subscriber.mjs" "$url" "$topic.>" --count 3 \
  >"$out/stdout" 2>"$out/stderr" &
pid=$!
for _ in $(seq 1 200); do grep -q "subscribed" "$out/stderr" && break; sleep 0.05; done
grep -q "subscribed" "$out/stderr" || { echo "FAILED: the subscriber did not subscribe"; cat "$out/stderr"; exit 1; }
"$bus_cli" pub --url "$url" "$topic.a" "one" >/dev/null
"$bus_cli" pub --url "$url" --json "$topic.b" '{"n":2}' >/dev/null
"$bus_cli" pub --url "$url" "$topic.a" "three" >/dev/null
wait "$pid"
expected="{\"topic\":\"$topic.a\",\"seq\":1,\"data\":\"one\"}
{\"topic\":\"$topic.b\",\"seq\":1,\"data\":{\"n\":2}}
{\"topic\":\"$topic.a\",\"seq\":2,\"data\":\"three\"}"
if [ "$(cat "$out/stdout")" != "$expected" ]; then
  echo "FAILED: node subscriber printed:"; cat "$out/stdout"; cat "$out/stderr"; exit 1
fi
echo "example node-subscriber: 3 messages, in order"
