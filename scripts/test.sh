#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
# Exits non-zero on any failure. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD_DIR=${HEED_BUILD_DIR:-build}
# Every ISA level this CPU has is tested: the kernel tests sweep the levels in
# one process, and the ops, model, generation and pipeline tests are registered
# once per level (named <level>/..., run with HEED_ISA=<level>, which caps
# oneDNN too); levels above this CPU are reported as skipped.
# ctest runs nproc tests at once and each computes with nproc OpenMP threads;
# spinning OpenMP workers would then starve each other (a 1-second bundled-model
# test took minutes), so idle workers sleep instead of spinning.
OMP_WAIT_POLICY=PASSIVE ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" "$@"
# The parsers of untrusted files under libFuzzer + AddressSanitizer, briefly;
# scripts/fuzz.sh alone runs longer.
scripts/fuzz.sh "${HEED_FUZZ_SECONDS:-10}"
# The suite again under AddressSanitizer + UndefinedBehaviorSanitizer (its own
# build directory, about 11 minutes on 2 cores): in CI, or with HEED_SANITIZERS=1.
if [[ "${HEED_SANITIZERS:-${CI:-false}}" == "true" || "${HEED_SANITIZERS:-}" == "1" ]]; then
  scripts/test-sanitizers.sh
fi
