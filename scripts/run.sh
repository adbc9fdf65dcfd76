#!/usr/bin/env bash
# Installs what is missing, builds, and runs heed-server on 127.0.0.1:50051
# (metrics on 127.0.0.1:9464, HTTP/JSON on 127.0.0.1:8080) with the bundled
# models in models/.
# Extra arguments are passed to heed-server (e.g. --grpc_address=0.0.0.0:50051).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build-only
scripts/build.sh
BUILD_DIR=${HEED_BUILD_DIR:-build}
cat <<MSG
Starting heed-server. In another terminal:
  $BUILD_DIR/client/heed health
  $BUILD_DIR/client/heed models
  curl -s 127.0.0.1:9464/metrics | grep heed_
  curl -s 127.0.0.1:8080/models/marian-en-de-demo -d '{"inputs": "Hello!"}'
Stop it with Ctrl-C.
MSG
exec "$BUILD_DIR/server/heed-server" --models_dir=models --http_address=127.0.0.1:8080 "$@"
