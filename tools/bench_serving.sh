#!/usr/bin/env bash
# Serving benchmarks (issue 6), each measured against its baseline in the same
# run, with base-sized random-weight models (the tokenizers of the fixture
# models in tests/golden/models; the outputs are meaningless, the work is real):
#  1. throughput with batching vs --max_batch_size=1, 64 closed-loop clients,
#     for sentiment (DistilBERT-base size) and translation (Marian-base size);
#  2. p50/p99 latency in an open loop at about 70 % of the measured capacity;
#  3. the service's own overhead: health checks and one-word sentiment per second.
# Usage: tools/bench_serving.sh [SECONDS per run, default 20]   (needs a build and
# scripts/install-deps.sh --tools for the model generator's numpy)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-20}
WORK=${HEED_BENCH_WORK:-/tmp/heed-serving}
SERVER=build/server/heed-server
LOADGEN=build/client/heed-loadgen
mkdir -p "$WORK/models"

/usr/bin/python3 - "$WORK" <<'PY'
import os, sys
sys.path.insert(0, "tools"); sys.path.insert(0, "tools/reference")
import bench_vs_torch
bench_vs_torch.make_servable_base_models(os.path.join(sys.argv[1], "models"), max_length=32)
PY

# --max_queue_wait=0: saturation is measured, so no request is shed for its
# expected queue wait.
serve() {  # serve MAX_BATCH: starts heed-server in the background, waits for "serving"
  "$SERVER" --models_dir="$WORK/models" --grpc_address=127.0.0.1:50071 --metrics_address= \
    --max_batch_size="$1" --max_queue_size=1024 --max_queue_wait=0 >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 600); do grep -q ' info serving$' "$WORK/server.log" && return; sleep 0.1; done
  echo "server did not start"; cat "$WORK/server.log"; exit 1
}
stop() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; }
load() { "$LOADGEN" --address=127.0.0.1:50071 --json --warmup=2s --duration="${SECONDS_PER_RUN}s" "$@"; }
rate() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])['throughput_per_s'])" "$1"; }

declare -A batched single
for task in sentiment translate; do
  serve 32; batched[$task]=$(load --concurrency=64 --mix=$task=1 --max_tokens=16); stop
  serve 1; single[$task]=$(load --concurrency=64 --mix=$task=1 --max_tokens=16); stop
  echo "{\"case\": \"batching_${task}\", \"batched\": ${batched[$task]}, \"max_batch_size_1\": ${single[$task]}, \"ratio\": $(/usr/bin/python3 -c "print(round($(rate "${batched[$task]}") / max($(rate "${single[$task]}"), 1e-9), 2))")}"
done

serve 32
for task in sentiment translate; do
  capacity=$(rate "${batched[$task]}")
  target=$(/usr/bin/python3 -c "print(round(0.7 * $capacity, 1))")
  echo "{\"case\": \"open_loop_70pct_${task}\", \"rate\": $target, \"result\": $(load --rate="$target" --poisson --concurrency=256 --mix=$task=1 --max_tokens=16)}"
done
echo "{\"case\": \"overhead_health\", \"result\": $(load --concurrency=64 --mix=health=1)}"
echo "{\"case\": \"overhead_one_word_sentiment\", \"result\": $(load --concurrency=64 --mix=sentiment=1 --texts=<(echo good))}"
stop
