#!/usr/bin/python3
"""How close each operating point comes to this machine's limits, in one run.

Measures, on the machine it runs on and in the same run:
  - the limits (heed-bench-limits): FMA peak of each compute type and read
    bandwidth, for 1 thread and for --threads;
  - in-process (heed-bench-models), for Marian-base and DistilBERT-base sized
    models (random weights) and the bundled models, each compute type, batch
    1 / 8 / 32, at --threads and at 1 thread: tokens/s or sequences/s,
    model-FLOP utilization (MFU = model FLOP/s over the compute type's peak),
    the batch-1 bandwidth fraction (bytes a generated token must read, times
    tokens/s, over the read bandwidth), where a batch's time goes (encode,
    model steps, search, key/value copies), resident memory over weight bytes;
  - through heed-server with heed-loadgen: the closed-loop saturation rate
    over the in-process rate on the same texts (serving efficiency), the
    server's own compute share, p50/p99, time to first token and time per
    output token in an open loop at 70 % of saturation, resident memory after
    load and after saturation;
  - the bundled translation model on the 1,000 Multi30k test_2016_flickr
    sentences through the server at concurrency 32: target tokens/s, greedy
    and beam 4.
Prints one JSON document (also written to --json) and a Markdown table for
docs/benchmarks.md; every target of issue 18 is listed with its figure.

Usage: /usr/bin/python3 tools/bench_limits.py [--threads 2] [--quick]
       [--json /tmp/bench_limits.json] [--data ../shared/data]
Needs a build (build/) and numpy (scripts/install-deps.sh --tools).
"""
import argparse
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import bench_vs_torch as models_gen  # noqa: E402  (the base-size model writers)

COMPUTE_TYPES = ("float32", "bfloat16", "int8")
BYTES_PER_WEIGHT = {"float32": 4, "bfloat16": 2, "int8": 1}


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- machine

def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def run_json(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_of(limits, runs_as):
    """GFLOP/s (GOP/s for int8) of the compute type a case actually runs as."""
    return {"float32": limits["f32_peak_gflops"], "bfloat16": limits["bf16_peak_gflops"],
            "int8": limits["int8_peak_gops"]}[runs_as] or limits["f32_peak_gflops"]


# ------------------------------------------------------- model arithmetic

class Arch:
    """The sizes FLOP and byte counts need, from a Hugging Face config.json."""

    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            c = json.load(f)
        self.seq2seq = c["model_type"] in ("marian", "bart")
        self.vocab = c["vocab_size"]
        if self.seq2seq:
            self.d = c["d_model"]
            self.enc_layers, self.dec_layers = c["encoder_layers"], c["decoder_layers"]
            self.enc_ffn, self.dec_ffn = c["encoder_ffn_dim"], c["decoder_ffn_dim"]
        elif c["model_type"] == "distilbert":
            self.d, self.enc_layers, self.enc_ffn = c["dim"], c["n_layers"], c["hidden_dim"]
        else:  # bert
            self.d = c["hidden_size"]
            self.enc_layers, self.enc_ffn = c["num_hidden_layers"], c["intermediate_size"]

    def encoder_flops(self, n):
        """One sequence of n tokens through the encoder stack (2 FLOP per MAC)."""
        d = self.d
        per_layer = n * (8 * d * d + 4 * d * self.enc_ffn) + 4 * n * n * d
        return self.enc_layers * per_layer

    def generation_flops(self, n, new_tokens, beams):
        """Encode n source tokens, project them for cross-attention, then
        decode new_tokens steps for each beam; the LM head at every step."""
        d, L = self.d, self.dec_layers
        total = self.encoder_flops(n) + L * n * 4 * d * d
        for t in range(1, new_tokens + 1):
            row = L * (12 * d * d + 4 * d * self.dec_ffn + 4 * t * d + 4 * n * d)
            total += beams * (row + 2 * d * self.vocab)
        return total

    def decode_bytes(self, n, t, weight_bytes):
        """Bytes one decoding step of one sequence reads: the decoder's weights
        (self-attention, cross-attention query/output, feed-forward), the LM
        head, and the f32 key/value caches (self at length t, cross at n)."""
        d, L = self.d, self.dec_layers
        weights = L * (6 * d * d + 2 * d * self.dec_ffn) + self.vocab * d
        return weights * weight_bytes + L * (2 * t * d + 2 * n * d) * 4


def safetensors_bytes(model_dir):
    """Bytes of the weights as stored (f32 on disk for the base models)."""
    return os.path.getsize(os.path.join(model_dir, "model.safetensors"))


# ------------------------------------------------------------- inputs

def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


def make_inputs(work, data):
    """Text and id files: Multi30k test_2016_flickr English, Debian long
    descriptions, VADER sentences, VADER paragraphs of about 90 words (the
    base classifier's serving texts), and random-id inputs like
    bench_vs_torch's (20-30 source tokens; 128 classifier tokens)."""
    import numpy as np
    with gzip.open(os.path.join(data, "multi30k", "test_2016_flickr.en.gz"), "rt") as f:
        flickr = [line.strip() for line in f if line.strip()]
    with gzip.open(os.path.join(data, "debian", "descriptions.tsv.gz"), "rt") as f:
        # Within the bundled summarizer's 256 positions.
        descriptions = [text for text in (line.split("\t")[0].strip() for _, line in
                                          zip(range(3000), f)) if len(text.split()) <= 80]
    sentences = []
    with gzip.open(os.path.join(data, "vader", "movieReviewSnippets_GroundTruth.txt.gz"),
                   "rt", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and parts[2].strip():
                sentences.append(parts[2].strip())
    paragraphs, words = [], []
    for s in sentences:
        words += s.split()
        if len(words) >= 90:
            paragraphs.append(" ".join(words[:90]))
            words = []
    rng = np.random.default_rng(2)
    ids = [" ".join(map(str, list(rng.integers(5, 31000, rng.integers(20, 31))) + [0]))
           for _ in range(512)]
    classify = [" ".join(map(str, [101] + list(rng.integers(1000, 30000, 126)) + [102]))
                for _ in range(512)]
    return {
        "flickr": write_lines(os.path.join(work, "flickr.txt"), flickr),
        "descriptions": write_lines(os.path.join(work, "descriptions.txt"), descriptions),
        "sentences": write_lines(os.path.join(work, "sentences.txt"), sentences[:2000]),
        "paragraphs": write_lines(os.path.join(work, "paragraphs.txt"), paragraphs[:1000]),
        "ids": write_lines(os.path.join(work, "ids.txt"), ids),
        "classify_ids": write_lines(os.path.join(work, "classify_ids.txt"), classify),
    }


def make_models(work):
    """Base-size random-weight models with the test fixtures' tokenizers (so
    heed-server can serve them), and the bundled models."""
    marian, distil = models_gen.make_servable_base_models(os.path.join(work, "models"),
                                                          max_length=64)
    bundled = os.path.join(ROOT, "models")
    return {
        "marian-base": marian,
        "distilbert-base": distil,
        "marian-en-de-demo": os.path.join(bundled, "marian-en-de-demo"),
        "bart-synopsis-demo": os.path.join(bundled, "bart-synopsis-demo"),
        "distilbert-sentiment-demo": os.path.join(bundled, "distilbert-sentiment-demo"),
    }


# ------------------------------------------------------------ in-process

def in_process(args, model_dir, task, batch, compute, threads, source, count,
               beams=1):
    """One heed-bench-models run; source is ("ids", path) or ("texts", path)."""
    cmd = [os.path.join(args.build, "bench", "heed-bench-models"),
           f"--model_dir={model_dir}", f"--{'inputs' if source[0] == 'ids' else 'texts'}={source[1]}",
           f"--task={task}", f"--batch={batch}", f"--beams={beams}",
           f"--new_tokens={args.new_tokens}", f"--compute_type={compute}",
           f"--threads={threads}", f"--limit={count}"]
    return run_json(cmd)


def generation_case(args, arch, result, limits, batch, beams):
    flops = sum(arch.generation_flops(n, args.new_tokens, beams)
                for n in result["input_lengths"])
    rate = result["per_s"]
    case = {"per_s": round(rate, 1), "runs_as": result["runs_as"],
            "mfu": round(flops / result["seconds"] / 1e9 / peak_of(limits, result["runs_as"]), 3)}
    p = result["profile"]
    case["profile"] = {k: round(p[k] / result["seconds"], 3)
                       for k in ("encode_s", "step_model_s", "step_search_s", "kv_copy_s")}
    if batch == 1 and beams == 1:
        n = sum(result["input_lengths"]) / len(result["input_lengths"])
        per_token = sum(arch.decode_bytes(n, t, BYTES_PER_WEIGHT[result["runs_as"]])
                        for t in range(1, args.new_tokens + 1)) / args.new_tokens
        case["bytes_per_token"] = int(per_token)
        case["bandwidth_fraction"] = round(per_token * rate / 1e9 /
                                           limits["read_bandwidth_gbs"], 3)
        # The same over the decoding steps alone (without the encoder).
        decode_rate = result["tokens"] / max(p["step_model_s"] + p["step_search_s"], 1e-9)
        case["bandwidth_fraction_decode"] = round(
            per_token * decode_rate / 1e9 / limits["read_bandwidth_gbs"], 3)
    return case


def classification_case(arch, result, limits):
    flops = sum(arch.encoder_flops(n) for n in result["input_lengths"])
    return {"per_s": round(result["per_s"], 1), "runs_as": result["runs_as"],
            "mfu": round(flops / result["seconds"] / 1e9 / peak_of(limits, result["runs_as"]), 3)}


# ---------------------------------------------------------------- serving

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """heed-server serving one model directory (none: name None), on free
    local ports."""

    def __init__(self, args, name, model_dir, compute, work):
        self.models = os.path.join(work, "serve", name or "none")
        shutil.rmtree(self.models, ignore_errors=True)
        os.makedirs(self.models)
        if name:
            os.symlink(model_dir, os.path.join(self.models, name))
        self.port, self.metrics_port = free_port(), free_port()
        self.log_path = os.path.join(work, f"server-{name}-{compute}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [os.path.join(args.build, "server", "heed-server"), f"--models_dir={self.models}",
             f"--grpc_address=127.0.0.1:{self.port}",
             f"--metrics_address=127.0.0.1:{self.metrics_port}",
             f"--compute_type={compute}", f"--threads={args.threads}",
             "--max_batch_size=32", "--max_queue_size=1024", "--max_queue_wait=0",
             *([] if name else ["--allow_no_models"]), *args.server_flag],
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(600):
            with open(self.log_path) as f:
                if re.search(r" info serving$", f.read(), re.M):
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"heed-server did not start; see {self.log_path}")

    def memory_mb(self):
        """Resident memory, its peak, and the anonymous part (heap: weights,
        caches, buffers; without the shared libraries' code pages)."""
        names = {"VmRSS:": "rss_mb", "VmHWM:": "peak_rss_mb", "RssAnon:": "anon_mb"}
        out = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                key = line.split()[0]
                if key in names:
                    out[names[key]] = round(int(line.split()[1]) / 1024, 1)
        return out

    def metric_sums(self):
        """heed_inference_duration_seconds sums by phase, and batch sizes."""
        import urllib.request
        text = urllib.request.urlopen(
            f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10).read().decode()
        sums = {}
        for line in text.splitlines():
            m = re.match(r'heed_inference_duration_seconds_sum\{.*phase="(\w+)".*\} (\S+)', line)
            if m:
                sums[m.group(1)] = sums.get(m.group(1), 0) + float(m.group(2))
            m = re.match(r'heed_batch_size_(sum|count)\{.*\} (\S+)', line)
            if m:
                key = "batch_" + m.group(1)
                sums[key] = sums.get(key, 0) + float(m.group(2))
        return sums

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


def loadgen(args, server, task, texts, *extra):
    cmd = [os.path.join(args.build, "client", "heed-loadgen"),
           f"--address=127.0.0.1:{server.port}", "--json", f"--mix={task}=1",
           f"--texts={texts}", "--deadline=120s", *extra]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def serving_case(args, name, model_dir, task, texts, compute, in_process_rate, work):
    """Saturation (closed loop), then an open loop at 70 % of it."""
    generation = task != "sentiment"
    # Greedy, as the in-process cases it is compared with (the summarizer's
    # own default is beam 4).
    fixed = [f"--max_tokens={args.new_tokens}", f"--min_tokens={args.new_tokens}",
             "--beam=1"]
    server = Server(args, name, model_dir, compute, work)
    try:
        case = {"after_load": server.memory_mb()}
        before, start = server.metric_sums(), time.monotonic()
        sat = loadgen(args, server, task, texts, "--concurrency=64", "--warmup=2s",
                      f"--duration={args.seconds}s", *(fixed if generation else []))
        wall = time.monotonic() - start
        after = server.metric_sums()
        case["after_saturation"] = server.memory_mb()
        rate = sat["output_tokens_per_s"] if generation else sat["throughput_per_s"]
        compute_s = sum(after.get(k, 0) - before.get(k, 0)
                        for k in ("encode", "decode", "classify"))
        batches = after.get("batch_count", 0) - before.get("batch_count", 0)
        case["saturation"] = {
            "per_s": round(rate, 1), "requests_per_s": sat["throughput_per_s"],
            "codes": sat["codes"], "p50_ms": sat["latency_ms"]["p50"],
            "p99_ms": sat["latency_ms"]["p99"],
            # The server's compute (scheduler batches and steps) over the
            # loadgen run's wall time, warm-up and drain included; the rest is
            # scheduling, tokenization, gRPC and idle time.
            "compute_share": round(compute_s / wall, 3),
            "mean_batch": round((after.get("batch_sum", 0) - before.get("batch_sum", 0)) /
                                max(batches, 1), 1)}
        case["serving_efficiency"] = round(rate / in_process_rate, 3)
        target = round(0.7 * sat["throughput_per_s"], 2)
        stream = ["--stream"] if generation else []
        open_loop = loadgen(args, server, task, texts, f"--rate={target}", "--poisson",
                            "--concurrency=256", "--warmup=1s", f"--duration={args.seconds}s",
                            *stream, *(fixed if generation else []))
        lat = open_loop["latency_ms"]
        case["open_loop_70pct"] = {
            "rate": target, "p50_ms": lat["p50"], "p99_ms": lat["p99"],
            "p99_over_p50": round(lat["p99"] / max(lat["p50"], 1e-9), 2),
            "codes": open_loop["codes"]}
        if generation:
            case["open_loop_70pct"].update(ttft_ms=open_loop["ttft_ms"],
                                           tpot_ms=open_loop["tpot_ms"])
        return case
    finally:
        server.stop()


def flickr_case(args, model_dir, texts, compute, beams, work):
    """The 1,000 test_2016_flickr sentences, each once, concurrency 32."""
    server = Server(args, "marian-en-de-demo", model_dir, compute, work)
    try:
        runs = []
        for _ in range(args.repeats):
            r = loadgen(args, server, "translate", texts, "--concurrency=32", "--in_order",
                        "--warmup=0s", "--duration=0s", "--max_tokens=256",
                        f"--beam={beams}")
            runs.append(r["output_tokens_per_s"])
        return {"target_tokens_per_s": round(sorted(runs)[len(runs) // 2], 1),
                "runs": runs, "codes": r["codes"]}
    finally:
        server.stop()


# ----------------------------------------------------------------- report

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    parser.add_argument("--work", default="/tmp/heed-bench-limits")
    parser.add_argument("--json", default="", help="also write the JSON document here")
    parser.add_argument("--new-tokens", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=10, help="per serving run")
    parser.add_argument("--repeats", type=int, default=3, help="flickr runs (median)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer inputs, float32 only, no 1-thread runs")
    parser.add_argument("--skip", default="",
                        help="comma-separated parts to skip: inprocess,serving,flickr")
    parser.add_argument("--models", default="",
                        help="comma-separated model names to run (default: all)")
    parser.add_argument("--server-flag", action="append", default=[],
                        help="an extra heed-server flag (repeatable), to measure a setting")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    only = set(filter(None, args.models.split(",")))

    def wanted(name):
        return not only or name in only
    os.makedirs(args.work, exist_ok=True)
    env_isa = os.environ.get("HEED_ISA", "")
    doc = {"cpu": cpu_model(), "threads": args.threads, "heed_isa_env": env_isa,
           "limits": {}, "in_process": [], "serving": [], "flickr": [], "targets": []}
    limits_bin = os.path.join(args.build, "bench", "heed-bench-limits")
    thread_counts = sorted({1, args.threads})
    for t in thread_counts:
        doc["limits"][str(t)] = run_json([limits_bin, f"--threads={t}"])
        log("limits", t, doc["limits"][str(t)])
    doc["isa"] = doc["limits"][str(args.threads)]["isa"]
    inputs = make_inputs(args.work, args.data)
    models = make_models(args.work)
    compute_types = ("float32",) if args.quick else COMPUTE_TYPES
    scale = 0.5 if args.quick else 1

    # What each model runs on in-process: (task, source, counts per batch).
    grid = [
        ("marian-base", "generate", ("ids", inputs["ids"]), {1: 6, 8: 16, 32: 64}),
        ("marian-en-de-demo", "generate", ("texts", inputs["flickr"]), {1: 16, 8: 64, 32: 128}),
        ("bart-synopsis-demo", "generate", ("texts", inputs["descriptions"]), {1: 8, 8: 32, 32: 64}),
        ("distilbert-base", "classify", ("ids", inputs["classify_ids"]), {1: 8, 8: 32, 32: 64}),
        ("distilbert-sentiment-demo", "classify", ("texts", inputs["sentences"]),
         {1: 64, 8: 256, 32: 512}),
    ]
    if "inprocess" not in skip:
        for name, task, source, counts in grid:
            if not wanted(name):
                continue
            arch = Arch(models[name])
            for compute in compute_types:
                for batch, count in counts.items():
                    count = max(batch, int(count * scale))
                    case = {"model": name, "task": task, "compute_type": compute,
                            "batch": batch, "count": count}
                    for t in (thread_counts if not args.quick else [args.threads]):
                        result = in_process(args, models[name], task, batch, compute, t,
                                            source, count)
                        limits = doc["limits"][str(t)]
                        shaped = (generation_case(args, arch, result, limits, batch, 1)
                                  if task == "generate" else
                                  classification_case(arch, result, limits))
                        if t == args.threads:
                            case.update(shaped)
                            weights = safetensors_bytes(models[name])
                            case["rss_over_f32_weights"] = {
                                "after_load": round(result["after_load"]["rss_mb"] * 2**20 / weights, 2),
                                "peak": round(result["peak_rss_mb"] * 2**20 / weights, 2)}
                        else:
                            case[f"per_s_{t}_thread"] = shaped["per_s"]
                    if len(thread_counts) > 1 and "per_s_1_thread" in case:
                        case["thread_scaling"] = round(case["per_s"] / case["per_s_1_thread"], 2)
                    doc["in_process"].append(case)
                    log("in-process", json.dumps(case))
    if "inprocess" not in skip and wanted("marian-base"):
        # Beam 4 at batch 32: the search's share of a step.
        arch = Arch(models["marian-base"])
        result = in_process(args, models["marian-base"], "generate", 32, "float32",
                            args.threads, ("ids", inputs["ids"]), int(64 * scale), beams=4)
        case = {"model": "marian-base", "task": "generate", "compute_type": "float32",
                "batch": 32, "beams": 4, "count": int(64 * scale)}
        case.update(generation_case(args, arch, result, doc["limits"][str(args.threads)],
                                    32, 4))
        doc["in_process"].append(case)
        log("in-process", json.dumps(case))

    # Serving: each model alone in heed-server, against its in-process rate on
    # the same texts at batch 32.
    if "serving" not in skip:
        # The process without models (libraries, thread stacks): what the
        # weights' overhead is measured above.
        server = Server(args, None, None, "float32", args.work)
        doc["server_without_models"] = server.memory_mb()
        server.stop()
        serving = [("marian-base", "translate", inputs["flickr"]),
                   ("marian-en-de-demo", "translate", inputs["flickr"]),
                   ("bart-synopsis-demo", "summarize", inputs["descriptions"]),
                   ("distilbert-base", "sentiment", inputs["paragraphs"]),
                   ("distilbert-sentiment-demo", "sentiment", inputs["sentences"])]
        for name, task, texts in serving:
            if not wanted(name):
                continue
            for compute in (("float32",) if args.quick or "base" not in name else
                            ("float32", "int8")):
                ref = in_process(args, models[name],
                                 "classify" if task == "sentiment" else "generate", 32,
                                 compute, args.threads, ("texts", texts),
                                 int(256 * scale) if task == "sentiment" else int(128 * scale))
                case = {"model": name, "task": task, "compute_type": compute,
                        "in_process_per_s": round(ref["per_s"], 1),
                        "weights_mb": round(safetensors_bytes(models[name]) / 2**20, 1)}
                case.update(serving_case(args, name, models[name], task, texts, compute,
                                         ref["per_s"], args.work))
                doc["serving"].append(case)
                log("serving", json.dumps(case))

    if "flickr" not in skip and wanted("marian-en-de-demo"):
        for compute in ("float32",) if args.quick else ("float32", "int8"):
            for beams in (1, 4):
                case = {"compute_type": compute, "beams": beams}
                case.update(flickr_case(args, models["marian-en-de-demo"], inputs["flickr"],
                                        compute, beams, args.work))
                doc["flickr"].append(case)
                log("flickr", json.dumps(case))

    doc["targets"] = targets(doc)
    text = json.dumps(doc, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)
    print(table(doc))


def targets(doc):
    """Issue 18's targets, each with the figure this run measured."""
    out = []

    def add(name, value, bound, at_least=True):
        if value is None:
            return
        out.append({"target": name, "value": value, "bound": bound,
                    "met": value >= bound if at_least else value <= bound})

    for c in doc["in_process"]:
        if c.get("beams", 1) != 1:
            continue
        label = f"{c['model']} {c['compute_type']} batch {c['batch']}"
        if c["task"] == "generate" and c["batch"] == 32 and "base" in c["model"]:
            add(f"MFU {label}", c["mfu"], 0.6 if c["compute_type"] == "float32" else 0.45)
        if c["task"] == "generate" and c["batch"] == 1 and "base" in c["model"]:
            add(f"bandwidth fraction {label}", c.get("bandwidth_fraction"), 0.85)
        if c["task"] == "classify" and c["batch"] == 32 and "base" in c["model"] and \
                c["compute_type"] != "int8":
            add(f"MFU {label}", c["mfu"], 0.7 if c["compute_type"] == "float32" else 0.5)
    for c in doc["serving"]:
        label = f"{c['model']} {c['compute_type']}"
        add(f"serving efficiency {label}", c["serving_efficiency"],
            0.8 if c["task"] == "sentiment" else 0.9)
        add(f"p99/p50 at 70 % {label}", c["open_loop_70pct"]["p99_over_p50"], 3.0, False)
        if c["compute_type"] == "float32" and "base" in c["model"]:
            # Anonymous memory over the process without models (the shared
            # libraries' code is file-backed, shared between processes, and
            # not the model's); KV caches are not subtracted (an upper bound).
            weights, empty = c["weights_mb"], doc["server_without_models"]["anon_mb"]
            add(f"RSS over weights after load {label}",
                round((c["after_load"]["anon_mb"] - empty) / weights, 2), 1.15, False)
            add(f"RSS over weights + caches after saturation {label}",
                round((c["after_saturation"]["anon_mb"] - empty) / weights, 2), 1.15,
                False)
    bars = {1: 1894 * 1.2, 4: 929 * 1.2}  # 1.2x the reference engine's figures
    for c in doc["flickr"]:
        add(f"flickr tokens/s {c['compute_type']} beam {c['beams']}",
            c["target_tokens_per_s"], round(bars[c["beams"]]))
    return out


def table(doc):
    lim = doc["limits"][str(doc["threads"])]
    lines = [f"CPU: {doc['cpu']}, ISA level {doc['isa']}, {doc['threads']} threads: "
             f"f32 peak {lim['f32_peak_gflops']:.0f} GFLOP/s, bf16 {lim['bf16_peak_gflops']:.0f}, "
             f"int8 {lim['int8_peak_gops']:.0f} GOP/s, read {lim['read_bandwidth_gbs']:.1f} GB/s",
             "",
             "| model | compute | batch | rate/s | MFU | BW frac | 1→N threads | encode | model steps | search | kv copy | RSS/weights |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in doc["in_process"]:
        p = c.get("profile", {})
        batch = f"{c['batch']}" + (f" beam {c['beams']}" if c.get("beams", 1) > 1 else "")
        compute = c["compute_type"] + ("" if c["runs_as"] == c["compute_type"] else f" (as {c['runs_as']})")
        lines.append(
            f"| {c['model']} | {compute} | {batch} | {c['per_s']} | {c['mfu']} | "
            f"{c.get('bandwidth_fraction', '')} | {c.get('thread_scaling', '')} | "
            f"{p.get('encode_s', '')} | {p.get('step_model_s', '')} | {p.get('step_search_s', '')} | "
            f"{p.get('kv_copy_s', '')} | {c.get('rss_over_f32_weights', {}).get('peak', '')} |")
    lines += ["", "| served model | compute | in-process/s | served/s | efficiency | compute share | mean batch | p50 / p99 ms at 70 % | TTFT p50 ms | TPOT p50 ms | RSS MB load → sat |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in doc["serving"]:
        o, s = c["open_loop_70pct"], c["saturation"]
        lines.append(
            f"| {c['model']} | {c['compute_type']} | {c['in_process_per_s']} | {s['per_s']} | "
            f"{c['serving_efficiency']} | {s['compute_share']} | {s['mean_batch']} | "
            f"{o['p50_ms']:.0f} / {o['p99_ms']:.0f} | {o.get('ttft_ms', {}).get('p50', '')} | "
            f"{o.get('tpot_ms', {}).get('p50', '')} | {c['after_load']['rss_mb']} → "
            f"{c['after_saturation']['peak_rss_mb']} |")
    if doc["flickr"]:
        lines += ["", "| flickr 1,000 sentences, concurrency 32 | target tokens/s (median) |", "|---|---|"]
        for c in doc["flickr"]:
            lines.append(f"| {c['compute_type']} beam {c['beams']} | {c['target_tokens_per_s']} |")
    lines += ["", "| target | measured | bound | met |", "|---|---|---|---|"]
    for t in doc["targets"]:
        sign = "≥" if t["target"].split()[0] not in ("p99/p50", "peak", "RSS") else "≤"
        lines.append(f"| {t['target']} | {t['value']} | {sign} {t['bound']} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
