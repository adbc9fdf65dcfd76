#!/usr/bin/python3
"""Soak: heed-server under mixed, hostile load for a while, then SIGTERM.

It drives, at the same time:
  - heed-loadgen closed loops: unary and streaming calls of every task;
  - heed-loadgen with 30 ms deadlines (requests that time out or are refused);
  - a Python client sending invalid requests (empty text, bad options, bytes
    that are not UTF-8, unknown models, malformed protobuf) and huge ones
    (1 MiB texts with truncate_input);
  - slow stream consumers (a pause between reads) and streams cancelled midway;
  - health checks, timed.
It asserts: every call ended once with an expected code; resident memory
grows less than --max-rss-slope MB/min over the second half of the run (runs
of five minutes or more; shorter ones only report it); the health p99
stays under 50x an idle health check (and under 250 ms); SIGTERM ends the
server with exit code 0 within its grace period.

Usage: tools/soak.py BUILD_DIR MODELS_DIR [--seconds 120] [--max-rss-slope 6]
(ctest runs it for a minute on the fixture models: the "soak" test.)
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("build")
parser.add_argument("models")
# HEED_SOAK_SECONDS overrides --seconds: the sanitizer run soaks longer
# (scripts/test-sanitizers.sh) than the plain test run's ctest entry.
parser.add_argument("--seconds", type=float, default=120)
parser.add_argument("--max-rss-slope", type=float, default=6.0,
                    help="MB per minute over the second half of the run")
args = parser.parse_args()
if os.environ.get("HEED_SOAK_SECONDS"):
    args.seconds = float(os.environ["HEED_SOAK_SECONDS"])
sys.path.insert(0, os.path.join(args.build, "client", "python"))

import grpc  # noqa: E402
import health_pb2  # noqa: E402
import health_pb2_grpc  # noqa: E402
from heed.v1 import inference_pb2, inference_pb2_grpc  # noqa: E402

failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message, flush=True)


# --max_queue_wait=0: every request of the first two loads must be answered
# OK. With the default latency bound (1 s), a sanitized server on a busy
# machine refused 2 of 610 in CI (QUEUE_FULL): its batches are slow enough
# there that the expected wait in the queue passed a second. That refusal is
# tested in scheduler_test.
server = subprocess.Popen(
    [os.path.join(args.build, "server", "heed-server"), "--models_dir=" + args.models,
     "--grpc_address=127.0.0.1:0", "--metrics_address=", "--shutdown_grace=5s",
     "--max_queue_wait=0"],
    stdout=subprocess.PIPE, text=True)
port = None
for line in server.stdout:
    if m := re.search(r" grpc listening on port (\d+)$", line):
        port = int(m.group(1))
    if line.rstrip().endswith(" info serving"):
        break
if port is None:
    sys.exit("FAIL: heed-server did not start")
threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
address = f"127.0.0.1:{port}"
channel = grpc.insecure_channel(address)
stub = inference_pb2_grpc.InferenceStub(channel)
health = health_pb2_grpc.HealthStub(channel)
end = time.time() + args.seconds
lock = threading.Lock()
codes = {}


def count(kind, code):
    with lock:
        codes.setdefault(kind, {}).setdefault(code.name, 0)
        codes[kind][code.name] += 1


def expect(kind, call, allowed):
    try:
        call()
        code = grpc.StatusCode.OK
    except grpc.RpcError as e:
        code = e.code()
    count(kind, code)
    if code.name not in allowed:
        fail(f"{kind}: unexpected {code.name}")


def invalid_requests():
    rng = random.Random(1)
    huge = "A dog runs fast. " * (1000000 // 17)
    while time.time() < end:
        choice = rng.randrange(7)
        if choice == 0:
            expect("invalid", lambda: stub.Translate(inference_pb2.TranslateRequest(text=""), timeout=10),
                   {"INVALID_ARGUMENT"})
        elif choice == 1:
            options = inference_pb2.GenerationOptions(beam_size=99)
            expect("invalid", lambda: stub.Translate(
                inference_pb2.TranslateRequest(text="hi", options=options), timeout=10), {"INVALID_ARGUMENT"})
        elif choice == 2:
            expect("invalid", lambda: stub.ClassifySentiment(
                inference_pb2.ClassifySentimentRequest(texts=["fine"], model="x" * 100000), timeout=10),
                   {"NOT_FOUND"})
        elif choice == 3:
            raw = channel.unary_unary("/heed.v1.Inference/Summarize")
            expect("invalid", lambda: raw(b"\x0a\xff\xff\xff\xff\xff", timeout=10), {"INVALID_ARGUMENT"})
        elif choice == 4:
            raw = channel.unary_unary("/heed.v1.Inference/ClassifySentiment")
            # texts[0] = bytes that are not UTF-8
            expect("invalid", lambda: raw(b"\x0a\x03\xff\xfe\xfd", timeout=10), {"INVALID_ARGUMENT"})
        elif choice == 5:
            expect("huge", lambda: stub.ClassifySentiment(
                inference_pb2.ClassifySentimentRequest(texts=[huge], truncate_input=True), timeout=30),
                   {"OK", "RESOURCE_EXHAUSTED"})
        else:
            expect("huge", lambda: stub.Translate(
                inference_pb2.TranslateRequest(text=huge), timeout=30), {"INVALID_ARGUMENT"})


def slow_and_cancelled_streams():
    rng = random.Random(2)
    while time.time() < end:
        request = inference_pb2.SummarizeRequest(
            text="This package provides a tool that converts images and resizes them.",
            options=inference_pb2.GenerationOptions(max_output_tokens=20, beam_size=1))
        stream = stub.SummarizeStream(request, timeout=30)
        cancel_after = rng.randrange(4)
        try:
            for i, _ in enumerate(stream):
                time.sleep(0.05)  # a slow reader
                if cancel_after == 0 and i == 1:
                    stream.cancel()
            count("stream", grpc.StatusCode.OK)
        except grpc.RpcError as e:
            count("stream", e.code())
            if e.code().name not in {"CANCELLED", "RESOURCE_EXHAUSTED"}:
                fail(f"stream: unexpected {e.code().name}")


def health_latency(samples, stop_at):
    while time.time() < stop_at:
        start = time.perf_counter()
        response = health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        samples.append((time.perf_counter() - start) * 1000)
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            fail("health: not SERVING under load")
        time.sleep(0.05)


def rss_mb():
    with open(f"/proc/{server.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


idle = []
health_latency(idle, time.time() + 1.5)
idle_p50 = sorted(idle)[len(idle) // 2]

loadgen = os.path.join(args.build, "client", "heed-loadgen")
duration = f"{max(1, int(args.seconds))}s"
loads = [
    subprocess.Popen([loadgen, f"--address={address}", "--concurrency=8", f"--duration={duration}",
                      "--warmup=0s", "--json", "--progress=false", "--mix=translate=2,summarize=1,sentiment=2",
                      "--max_tokens=12"], stdout=subprocess.PIPE, text=True),
    subprocess.Popen([loadgen, f"--address={address}", "--concurrency=4", f"--duration={duration}",
                      "--warmup=0s", "--json", "--progress=false", "--stream", "--mix=translate=1,summarize=1",
                      "--max_tokens=12"], stdout=subprocess.PIPE, text=True),
    subprocess.Popen([loadgen, f"--address={address}", "--concurrency=4", f"--duration={duration}",
                      "--warmup=0s", "--json", "--progress=false", "--deadline=30ms",
                      "--mix=translate=1,sentiment=1", "--max_tokens=12"], stdout=subprocess.PIPE, text=True),
]
threads = [threading.Thread(target=invalid_requests), threading.Thread(target=slow_and_cancelled_streams)]
for t in threads:
    t.start()
loaded = []
health_thread = threading.Thread(target=health_latency, args=(loaded, end))
health_thread.start()

rss = []
start = time.time()
while time.time() < end:
    rss.append((time.time() - start, rss_mb()))
    time.sleep(0.25)

expected = [{"OK"}, {"OK"}, {"OK", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "CANCELLED"}]
for load, allowed in zip(loads, expected):
    out, _ = load.communicate(timeout=120)
    result = json.loads(out)
    answered = sum(result["codes"].values())
    if answered != result["requests"]:
        fail(f"loadgen: {result['requests']} requests, {answered} answered")
    if not set(result["codes"]) <= allowed:
        fail(f"loadgen: codes {result['codes']} outside {sorted(allowed)}")
    count("loadgen", grpc.StatusCode.OK)  # a marker; the codes are printed below
    print("loadgen:", json.dumps({"requests": result["requests"], "codes": result["codes"],
                                  "throughput_per_s": result["throughput_per_s"]}), flush=True)
for t in threads + [health_thread]:
    t.join()

# Resident memory over the second half of the run (the first is warm-up:
# primitive caches, gRPC buffers, malloc arenas). Megabyte requests make RSS
# swing by tens of MB, so the trend is fitted to the floor of each 5 s window:
# a leak raises the floor, transient buffers do not.
half = [(t, m) for t, m in rss if t >= args.seconds / 2]
floors = {}
for t, m in half:
    window = int(t // 5)
    floors[window] = min(floors.get(window, m), m)
points = [(w * 5.0, m) for w, m in sorted(floors.items())]
if len(points) >= 3:
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_m = sum(m for _, m in points) / n
    slope = sum((t - mean_t) * (m - mean_m) for t, m in points) / sum(
        (t - mean_t) ** 2 for t, _ in points)
    slope_per_min = slope * 60
    print(f"rss: {rss[0][1]:.1f} -> {rss[-1][1]:.1f} MB; floors of the second half "
          f"{[round(m) for _, m in points]} MB, slope {slope_per_min:.2f} MB/min")
    # A one-minute run cannot tell a leak from arenas settling (the floor
    # steps up as malloc arenas take their high-water marks); the bound is
    # enforced from five minutes on.
    if slope_per_min > args.max_rss_slope and args.seconds >= 300:
        fail(f"rss floor grows {slope_per_min:.2f} MB/min (bound {args.max_rss_slope})")
loaded.sort()
p99 = loaded[min(len(loaded) - 1, int(len(loaded) * 0.99))]
print(f"health: idle p50 {idle_p50:.2f} ms, under load p99 {p99:.2f} ms over {len(loaded)} checks")
if p99 > max(50 * idle_p50, 20) or p99 > 250:
    fail(f"health p99 {p99:.1f} ms under load (idle p50 {idle_p50:.2f} ms)")
print("codes:", json.dumps(codes, sort_keys=True))

channel.close()
stop_start = time.time()
server.send_signal(signal.SIGTERM)
try:
    code = server.wait(timeout=30)
    print(f"SIGTERM: exit {code} after {time.time() - stop_start:.1f} s")
    if code != 0:
        fail(f"exit code {code} after SIGTERM")
except subprocess.TimeoutExpired:
    server.kill()
    fail("the server did not exit within 30 s of SIGTERM")
print("soak:", "ok" if not failures else f"{len(failures)} failures")
sys.exit(1 if failures else 0)
