#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each one.
#   scripts/fuzz.sh            30 s per target
#   scripts/fuzz.sh SECONDS    SECONDS per target (scripts/test.sh uses a short run)
# New inputs that raise coverage stay in build-fuzz/corpus; crashes are written
# to build-fuzz/ and fail the script. The seeds live in tests/fuzz/corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-30}
BUILD_DIR=build-fuzz
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHEED_BUILD_FUZZERS=ON -DHEED_BUILD_TESTS=OFF -DHEED_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD_DIR" --target safetensors_fuzzer config_fuzzer >/dev/null
for target in safetensors config; do
  corpus="$BUILD_DIR/corpus/$target"
  mkdir -p "$corpus"
  echo "fuzz: $target for ${SECONDS_PER_TARGET}s"
  log="$BUILD_DIR/$target.log"
  if ! "$BUILD_DIR/tests/fuzz/${target}_fuzzer" -max_total_time="$SECONDS_PER_TARGET" \
      -artifact_prefix="$BUILD_DIR/" -print_final_stats=1 "$corpus" "tests/fuzz/corpus/$target" \
      >"$log" 2>&1; then
    grep -A30 "ERROR" "$log" >&2 || tail -30 "$log" >&2
    echo "fuzz: $target failed; the input is in $BUILD_DIR/" >&2
    exit 1
  fi
  grep -E "^stat::number_of_executed_units" "$log" || true
done
