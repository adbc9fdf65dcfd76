#!/usr/bin/env bash
# Builds heed with AddressSanitizer + UndefinedBehaviorSanitizer (GCC) into
# build-asan/ (or $HEED_ASAN_BUILD_DIR) and runs the test suite there: every
# test program, the integration tests that start the real server included.
# Any report fails the test that hit it (-fno-sanitize-recover, halt_on_error).
#   scripts/test-sanitizers.sh           the tests at this CPU's own ISA level
#                                        (every test program; the ISA matrix
#                                        of the kernel-heavy tests is left to
#                                        the plain build)
#   scripts/test-sanitizers.sh --all     every ctest entry, all ISA levels
# Extra arguments after --all (or alone) go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${HEED_ASAN_BUILD_DIR:-build-asan}
ALL=false
if [[ "${1:-}" == "--all" ]]; then ALL=true; shift; fi
# -O1, as the sanitizers' authors advise: it compiles in about half the time
# of -O3 and keeps reports precise; assertions stay on. A unity build (each
# library's sources compiled a few at a time, the kernels and the generated
# protobuf code apart) saves another sixth of the build; the plain build keeps
# one file at a time, so each file is still checked to compile on its own.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 \
  -DCMAKE_UNITY_BUILD=ON -DHEED_WERROR=ON -DHEED_SANITIZE=address,undefined \
  -DHEED_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
# Debian's gRPC, Abseil and oneDNN are not instrumented; LeakSanitizer reports
# only what the process still holds at exit, and the servers' own teardown is
# tested separately, so leaks of process-lifetime singletons are not errors.
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=0:detect_stack_use_after_return=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
FILTER=()
if [[ "$ALL" == false ]]; then
  # The ISA matrix's entries (named <level>/...) at every level but this CPU's best.
  best=$("$BUILD_DIR/server/heed-server" --version | sed -n "s/.*this CPU's best: \([a-z0-9_]*\).*/\1/p")
  others=()
  for level in generic avx2 avx512 avx512_vnni avx512_bf16; do
    [[ "$level" == "$best" ]] || others+=("$level")
  done
  FILTER=(-E "^($(IFS='|'; echo "${others[*]}"))/")
fi
# The soak runs two minutes here (one in the plain run).
HEED_SOAK_SECONDS=${HEED_SOAK_SECONDS:-120} \
OMP_WAIT_POLICY=PASSIVE ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" \
  --timeout 600 "${FILTER[@]}" "$@"
