#!/usr/bin/env bash
# Installs every Debian package that heed's build, tests and tools need:
#   scripts/install-deps.sh               build + tests (what CI needs)
#   scripts/install-deps.sh --build-only  build only (scripts/run.sh, the Dockerfile)
#   scripts/install-deps.sh --tools       build + tests + tools/ (python3-torch etc.)
#   scripts/install-deps.sh --runtime     only what the binaries need to run (containers)
# Idempotent and quiet: packages already present are skipped, and `apt-get update`
# runs at most once, only when something is missing. Used by scripts/run.sh,
# scripts/test.sh, CI and deploy/Dockerfile, so this is the one list of packages.
set -euo pipefail

# Build toolchain and libraries.
BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev grpc-proto
  libabsl-dev
  libdnnl-dev ocl-icd-opencl-dev opencl-headers
  prometheus-cpp-dev libcivetweb-dev libspdlog-dev
  nlohmann-json3-dev libicu-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
# What the binaries need at run time (deploy/Dockerfile's runtime stage); the
# -dev packages above pull these in for builds.
RUNTIME_PACKAGES=(
  ca-certificates libabsl20220623 libc-ares2 libcivetweb1 libdnnl2 libgomp1 libgrpc++1.51
  libgrpc29 libicu72 libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libprotobuf32
  libre2-9 libspdlog1.10 libfmt9 libssl3 ocl-icd-libopencl1 zlib1g
)
# Tests and developer tools: a real Prometheus for the metrics test, curl for
# scraping, openssl for TLS tests, clang for the fuzz targets, clang-format,
# llvm-14 (llvm-mca) for the kernels' port model (tools/port_model.py).
TEST_PACKAGES=(
  prometheus curl openssl nginx-light python3-yaml docker-compose
  clang-14 libclang-rt-14-dev clang-format llvm-14
  python3-grpcio python3-protobuf python3-numpy
  python3-venv python3-pip python3-setuptools python3-wheel
)

# tools/ (training, the PyTorch reference, golden vectors): large, and not
# needed by the build or the tests, which read committed golden files.
TOOLS_PACKAGES=(
  python3-torch python3-sentencepiece python3-regex libopenblas0-pthread libjemalloc2
)

want=("${BUILD_PACKAGES[@]}")
case "${1:-}" in
  --build-only) ;;
  --runtime) want=("${RUNTIME_PACKAGES[@]}") ;;
  --tools) want+=("${TEST_PACKAGES[@]}" "${TOOLS_PACKAGES[@]}") ;;
  "") want+=("${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 [--build-only|--runtime|--tools]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
