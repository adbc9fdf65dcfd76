#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
# Exits non-zero on any failure. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD_DIR=${HEED_BUILD_DIR:-build}
# The kernels are tested on every ISA this CPU has (tests force each one), and
# the whole suite runs once more with the portable path forced.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" "$@"
HEED_ISA=generic ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" -L isa "$@"
# The parsers of untrusted files under libFuzzer + AddressSanitizer, briefly;
# scripts/fuzz.sh alone runs longer.
scripts/fuzz.sh "${HEED_FUZZ_SECONDS:-10}"
