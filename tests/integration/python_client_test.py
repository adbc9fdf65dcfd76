#!/usr/bin/python3
"""The Python package client/python, installed with pip into a fresh virtual
environment (Debian's python3-venv with the system's grpcio and protobuf,
offline), against a real heed-server with the fixture models: every call of
heed.Client and heed.AsyncClient, streams, HeedError's details, and retries
after the server's RetryInfo delay.

Usage (ctest runs it): python_client_test.py BUILD_DIR SOURCE_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
import harness  # noqa: E402

build, source = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
server_bin = os.path.join(build, "server", "heed-server")
models = os.path.join(source, "tests", "golden", "models")


def start_server(*flags):
    return harness.start_server(server_bin, "--models_dir=" + models, *flags)


# What runs inside the virtual environment, against the servers.
CLIENT_SCRIPT = r'''
import asyncio, sys, threading, urllib.request
import grpc
import heed

address, busy_address, busy_metrics, testing = sys.argv[1:5]
sys.path.append(testing)
import harness
check = harness.Checks()

with heed.Client(address, timeout=20) as client:
    check("health", client.health() == "SERVING")
    check("health of a task", client.health("heed.v1.Inference/translation") == "SERVING")
    names = sorted(m.name for m in client.models())
    check("models", names == ["bart-tiny", "bert-tiny", "distilbert-tiny", "marian-tiny"], names)
    check("models of a task", [m.name for m in client.models("sentiment")] ==
          ["bert-tiny", "distilbert-tiny"])
    check("model", client.model("marian-tiny").max_input_tokens > 0)
    check("server_info", client.server_info().limits.max_texts_per_request == 256)
    tokens = client.tokenize("A dog runs.", task="translation").tokens
    check("tokenize", tokens[-1].piece == "</s>" and tokens[0].begin == 0, tokens)
    r = client.translate("A dog runs.", max_output_tokens=3)
    check("translate", r.usage.output_tokens == 3 and r.model.name == "marian-tiny", r)
    r = client.translate("A dog runs.", beam_size=2, num_return_sequences=2,
                         max_output_tokens=4)
    check("translate with beams", len(r.hypotheses) == 2, r)
    r = client.translate("A dog runs.", temperature=0.8, seed=7, max_output_tokens=4)
    check("sampling with a seed", r.seed == 7, r)
    messages = list(client.translate_stream("A dog runs in the park.", max_output_tokens=6))
    deltas = "".join(m.delta.text for m in messages if m.HasField("delta"))
    check("translate_stream", messages[-1].HasField("done") and
          messages[-1].done.text == deltas, messages)
    r = client.summarize("a tool to convert images", max_output_tokens=5)
    check("summarize", r.usage.output_tokens <= 5 and r.model.name == "bart-tiny", r)
    messages = list(client.summarize_stream("a tool to convert images", max_output_tokens=5))
    check("summarize_stream", messages[-1].HasField("done"), messages)
    r = client.classify(["nice", "bad"], model="bert-tiny")
    check("classify", len(r.results) == 2 and r.results[0].label, r)
    r = client.classify("word " * 300, model="bert-tiny", long_input="chunks")
    check("classify long input in chunks", r.results[0].windows > 1, r)

    try:
        client.translate("hello", beam_size=17)
        check("an invalid option raises HeedError", False)
    except heed.HeedError as e:
        check("HeedError carries code, reason and field",
              e.code == grpc.StatusCode.INVALID_ARGUMENT and
              e.reason == "OPTION_OUT_OF_RANGE" and
              e.field_violations[0][0] == "options.beam_size" and e.retry_delay is None, e)
    try:
        client.translate("word " * 300)
    except heed.HeedError as e:
        check("INPUT_TOO_LONG with the limit", e.reason == "INPUT_TOO_LONG" and
              int(e.metadata["limit"]) > 0, e)
    try:
        client.translate("hello", colour=3)
    except TypeError as e:
        check("an unknown option is a TypeError", "colour" in str(e), e)

async def asynchronous():
    async with heed.AsyncClient(address, timeout=20) as client:
        check("async health", await client.health() == "SERVING")
        r = await client.translate("A dog runs.", max_output_tokens=3)
        check("async translate", r.usage.output_tokens == 3, r)
        messages = [m async for m in client.translate_stream("A dog.", max_output_tokens=4)]
        check("async translate_stream", messages[-1].HasField("done"), messages)
        r = await client.classify(["nice"], model="bert-tiny")
        check("async classify", len(r.results) == 1, r)
        check("async models", len(await client.models()) == 4)
        try:
            await client.summarize("")
        except heed.HeedError as e:
            check("async HeedError", e.reason == "EMPTY_INPUT" and
                  e.field_violations[0][0] == "text", e)

asyncio.run(asynchronous())

# A queue of one: clients that retry after RetryInfo's delay get their
# answers; the server refused more attempts than the clients saw refusals.
def refused_attempts():
    page = urllib.request.urlopen(f"http://127.0.0.1:{busy_metrics}/metrics").read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in page.splitlines()
               if line.startswith("heed_requests_total{") and 'code="RESOURCE_EXHAUSTED"' in line)

seen = {"ok": 0, "exhausted": 0, "other": 0}
lock = threading.Lock()

def worker():
    with heed.Client(busy_address, timeout=60, max_attempts=6) as client:
        for _ in range(3):
            try:
                client.translate("a sentence that takes a while", max_output_tokens=60)
                outcome = "ok"
            except heed.HeedError as e:
                outcome = "exhausted" if e.code == grpc.StatusCode.RESOURCE_EXHAUSTED else "other"
            with lock:
                seen[outcome] += 1

threads = [threading.Thread(target=worker) for _ in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
refused = refused_attempts()
check("retries after RetryInfo: refused attempts were retried",
      seen["other"] == 0 and refused > seen["exhausted"] and seen["ok"] > 0, (seen, refused))

check.finish()
'''

with tempfile.TemporaryDirectory() as work:
    venv = os.path.join(work, "venv")
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv], check=True)
    package = os.path.join(work, "package")
    shutil.copytree(os.path.join(source, "client", "python"), package,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    env = dict(os.environ, HEED_PROTO_DIR=os.path.join(source, "proto"))
    env.pop("PYTHONPATH", None)
    install = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--no-build-isolation",
                              "--no-index", "--quiet", package],
                             capture_output=True, text=True, env=env)
    if install.returncode != 0:
        print(install.stdout, install.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
    print("ok: pip install into a fresh venv")
    server, ports = start_server()
    busy, busy_ports = start_server("--max_queue_size=1", "--max_batch_size=1")
    try:
        script = os.path.join(work, "client_script.py")
        with open(script, "w") as f:
            f.write(CLIENT_SCRIPT)
        # Run from the temporary directory, so that the installed package is
        # the one imported (not client/python from the source tree).
        r = subprocess.run([os.path.join(venv, "bin", "python"), script,
                            f"127.0.0.1:{ports['grpc']}", f"127.0.0.1:{busy_ports['grpc']}",
                            str(busy_ports["metrics"]),
                            os.path.join(source, "tests", "testing")],
                           cwd=work, capture_output=True, text=True, timeout=240,
                           env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        print(r.stdout, r.stderr)
        sys.exit(r.returncode)
    finally:
        for process in (server, busy):
            harness.stop(process)
