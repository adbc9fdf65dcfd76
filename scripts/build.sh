#!/usr/bin/env bash
# Configures and builds heed into build/ (or $HEED_BUILD_DIR) with CMake + Ninja.
# Warnings are errors when CI=true. Extra arguments go to the CMake configure.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${HEED_BUILD_DIR:-build}
WERROR=OFF
if [[ "${CI:-}" == "true" ]]; then WERROR=ON; fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-Release} \
  -DHEED_WERROR=$WERROR "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
