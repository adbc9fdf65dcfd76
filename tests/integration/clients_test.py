#!/usr/bin/python3
"""The client binaries and the Python example against a real heed-server with
the fixture models: each CLI command, JSON output, error exit codes, a short
bounded heed-loadgen run, and client/python/heed_example.py.

Usage (ctest runs it): clients_test.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
import harness  # noqa: E402

build, source = sys.argv[1], sys.argv[2]
server_bin = os.path.join(build, "server", "heed-server")
heed = os.path.join(build, "client", "heed")
loadgen = os.path.join(build, "client", "heed-loadgen")
check = harness.Checks()

server, ports = harness.start_server(server_bin, "--metrics_address=",
                                     "--models_dir=" + os.path.join(source, "tests", "golden",
                                                                    "models"))
port = ports["grpc"]
address = f"--address=127.0.0.1:{port}"


def run(*args, stdin=None):
    return subprocess.run(list(args), input=stdin, capture_output=True, text=True, timeout=60)


try:
    r = run(heed, address, "translate", "A dog runs.", "--max-tokens=4")
    check("translate prints one line", r.returncode == 0 and len(r.stdout.splitlines()) == 1, r.stderr)
    r = run(heed, address, "translate", "--json", "--max_tokens=3", "hello")
    check("translate --json", r.returncode == 0 and json.loads(r.stdout)["usage"]["outputTokens"] == 3,
          r.stdout + r.stderr)
    r = run(heed, address, "summarize", "--stream", "--max-tokens=5", stdin="one line\nanother line\n")
    check("summarize --stream from stdin", r.returncode == 0 and len(r.stdout.splitlines()) == 2, r.stderr)
    r = run(heed, address, "translate", "--explain", "--max-tokens=2", "A cat.")
    check("translate --explain grid", r.returncode == 0 and "source:" in r.stdout, r.stdout)
    r = run(heed, address, "sentiment", "great", "awful", "--explain")
    check("sentiment with attributions", r.returncode == 0 and "[CLS]" in r.stdout, r.stdout)
    r = run(heed, address, "sentiment", "--json", "fine")
    check("sentiment --json", r.returncode == 0 and json.loads(r.stdout)["results"][0]["label"], r.stdout)
    r = run(heed, address, "models")
    check("models", r.returncode == 0 and "marian-tiny" in r.stdout, r.stdout)
    r = run(heed, address, "translate", "--beam=99", "x")
    check("bad option exits 1 with the code", r.returncode == 1 and "INVALID_ARGUMENT" in r.stderr,
          r.stderr)
    r = run(heed, address, "translate", "--model=nope", "x")
    check("unknown model exits 1", r.returncode == 1 and "NOT_FOUND" in r.stderr, r.stderr)
    r = run(heed, address, "frobnicate")
    check("unknown command exits 2", r.returncode == 2)
    r = run(heed, "translate", "--help")
    check("per-command help", r.returncode == 0 and "heed translate" in r.stdout)

    r = run(loadgen, address, "--concurrency=4", "--duration=1s", "--warmup=0s", "--json",
            "--mix=translate=1,sentiment=1,summarize=1", "--max_tokens=4")
    result = json.loads(r.stdout) if r.returncode == 0 else {}
    check("loadgen closed loop", result.get("ok", 0) > 0 and result["codes"] == {"OK": result["ok"]},
          r.stdout + r.stderr)
    r = run(loadgen, address, "--rate=50", "--requests=20", "--duration=0s", "--warmup=0s", "--json",
            "--stream")
    result = json.loads(r.stdout) if r.returncode == 0 else {}
    check("loadgen open loop bounded by count", result.get("requests") == 20 and
          result["ttft_ms"]["p50"] > 0, r.stdout + r.stderr)
    r = run(loadgen, address, "--duration=0s")
    check("loadgen refuses unbounded runs", r.returncode == 2)

    env = dict(os.environ, PYTHONPATH=os.path.join(build, "client", "python"))
    example = os.path.join(source, "client", "python", "heed_example.py")
    r = subprocess.run(["/usr/bin/python3", example, address.split("=")[1] and "--address",
                        address.split("=")[1], "health"], capture_output=True, text=True, env=env)
    check("python health", r.returncode == 0 and r.stdout.strip() == "SERVING", r.stdout + r.stderr)
    r = subprocess.run(["/usr/bin/python3", example, "--address", address.split("=")[1],
                        "--max-tokens", "3", "--stream", "translate", "A dog."],
                       capture_output=True, text=True, env=env)
    check("python translate stream", r.returncode == 0 and r.stdout.strip(), r.stdout + r.stderr)
    r = subprocess.run(["/usr/bin/python3", example, "--address", address.split("=")[1],
                        "sentiment", "nice", "bad"], capture_output=True, text=True, env=env)
    check("python sentiment", r.returncode == 0 and len(r.stdout.splitlines()) == 2, r.stderr)
finally:
    harness.stop(server)

check.finish()
