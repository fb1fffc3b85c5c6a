#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for SECONDS (default 60), one after another.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      targets: frame_decoder http_request envelope resume topics auth history_store
#   fuzz/run.sh --merge [TARGET...]        minimise what the runs found into the committed corpora
#
# Each target is compiled straight from its module's sources (Frames, BusProtocol, Topics are
# pure: no sockets, no libc beyond the standard library) plus one file in fuzz/targets, with
# `swiftc -sanitize=fuzzer,address`. `auth` needs Auth plus what it imports (Base64 from Frames,
# Topics, BusProtocol): their sources are copied into one module with those imports removed;
# `history_store` likewise takes HistoryStore plus Topics.
# Seeds come from fuzz/corpus/<target> (committed, never written by a run); new inputs go to
# fuzz/out/corpus/<target>; crashes to fuzz/out/crashes/; logs to fuzz/out/logs/.
# Exits non-zero when a target crashes or breaks one of its invariants.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(frame_decoder http_request envelope resume topics auth history_store)
merge=0
seconds=60
if [ "${1:-}" = "--merge" ]; then merge=1; shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

module_of() {
  case $1 in
    frame_decoder) echo "Frames FrameDecoderFuzz" ;;
    http_request) echo "Frames HTTPRequestFuzz" ;;
    envelope) echo "BusProtocol EnvelopeFuzz" ;;
    resume) echo "BusProtocol ResumeFuzz" ;;
    topics) echo "Topics TopicsFuzz" ;;
    auth) echo "Auth AuthFuzz" ;;
    history_store) echo "HistoryStore HistoryStoreFuzz" ;;
    *) echo "unknown fuzz target: $1" >&2; exit 2 ;;
  esac
}

build() {
  local target=$1 module file binary
  read -r module file <<<"$(module_of "$target")"
  binary=fuzz/out/bin/$target
  mkdir -p fuzz/out/bin
  # Rebuild only when a source is newer than the binary.
  local watched=("Sources/$module")
  [ "$target" = auth ] && watched=(Sources/Auth Sources/Topics Sources/BusProtocol Sources/Frames/Base64.swift)
  [ "$target" = history_store ] && watched=(Sources/HistoryStore Sources/Topics)
  if [ -x "$binary" ] && [ -z "$(find "${watched[@]}" "fuzz/targets/$file.swift" -newer "$binary" -print -quit)" ]; then
    return
  fi
  echo "build $target ($module + $file.swift)"
  local sources=("Sources/$module"/*.swift)
  if [ "$target" = auth ]; then
    # One module from several: drop the imports between them.
    rm -rf fuzz/out/src/auth && mkdir -p fuzz/out/src/auth
    for source in Sources/Frames/Base64.swift Sources/Topics/*.swift Sources/BusProtocol/*.swift Sources/Auth/*.swift; do
      sed -E '/^import (Frames|Topics|BusProtocol|Auth)$/d' "$source" \
        >"fuzz/out/src/auth/$(basename "$(dirname "$source")")_$(basename "$source")"
    done
    sources=(fuzz/out/src/auth/*.swift)
  elif [ "$target" = history_store ]; then
    rm -rf fuzz/out/src/history_store && mkdir -p fuzz/out/src/history_store
    for source in Sources/Topics/*.swift Sources/HistoryStore/*.swift; do
      sed -E '/^import Topics$/d' "$source" \
        >"fuzz/out/src/history_store/$(basename "$(dirname "$source")")_$(basename "$source")"
    done
    sources=(fuzz/out/src/history_store/*.swift)
  fi
  # -package-name as SwiftPM passes it: the modules share `package` declarations.
  # -I Sources/CZlib: Frames' permessage-deflate imports the system zlib through that module map.
  swiftc -sanitize=fuzzer,address -parse-as-library -swift-version 6 -O -g -package-name bus -I Sources/CZlib -lz \
    -module-name "Fuzz$module" "${sources[@]}" "fuzz/targets/$file.swift" -o "$binary" 2>&1 \
    | grep -v "Cannot export local symbol '__asan" || true
  [ -x "$binary" ] || { echo "build of $target failed"; exit 1; }
}

options() {
  local target=$1
  case $target in
    frame_decoder|http_request) echo "-max_len=16384" ;;
    *) echo "-max_len=4096" ;;
  esac
  [ -f "fuzz/dict/$target.dict" ] && echo "-dict=fuzz/dict/$target.dict"
  return 0
}

failed=0
for target in "${targets[@]}"; do
  build "$target"
  seeds=fuzz/corpus/$target
  found=fuzz/out/corpus/$target
  mkdir -p "$seeds" "$found" fuzz/out/crashes
  if [ $merge = 1 ]; then
    # Keep the committed corpus small: only inputs that add coverage over it.
    before=$(ls "$seeds" | wc -l)
    fuzz/out/bin/"$target" -merge=1 $(options "$target") "$seeds" "$found" >"fuzz/out/logs/$target-merge.log" 2>&1
    echo "$target: corpus $before -> $(ls "$seeds" | wc -l) files"
    continue
  fi
  # One log per run: two runs of a target at once (CI and a long session) must not share one.
  mkdir -p fuzz/out/logs
  log=fuzz/out/logs/$target-$(date +%Y%m%dT%H%M%S)-$$.log
  status=0
  fuzz/out/bin/"$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="fuzz/out/crashes/$target-" $(options "$target") "$found" "$seeds" >"$log" 2>&1 || status=$?
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  corpus=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 || true)
  if [ $status = 0 ]; then
    echo "$target: $runs execs in ${seconds}s, $corpus"
  else
    failed=1
    echo "$target: FAILED after $runs execs (exit $status); log $log"
    grep -m1 -A12 -E 'ERROR: (libFuzzer|AddressSanitizer)|Fatal error|precondition' "$log" || tail -30 "$log"
    ls -t fuzz/out/crashes/"$target"-* 2>/dev/null | head -3
  fi
done
exit $failed
