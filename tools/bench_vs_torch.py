#!/usr/bin/python3
"""heed against a fair PyTorch baseline on the same weights, inputs and
threads, in one run. Prints one JSON object per case:
  {"case": ..., "heed_per_s": ..., "torch_per_s": ..., "ratio": ...}

Translation: a Marian-base-sized model (d_model 512, 6+6 layers, 8 heads, ffn
2048, vocab 32k, random weights), sentences of 20-30 tokens, greedy and beam 4
at batch 1 and 32, target tokens per second. The PyTorch side decodes with a
key/value cache under torch.inference_mode in float32. EOS is forbidden on
both sides so every sequence yields exactly --new-tokens tokens.
Sentiment: a DistilBERT-base-sized classifier (6 layers, 768, 12 heads,
sequences of 128 tokens), sequences per second at batch 1 and 32.

--isa LEVEL runs heed at that ISA level (HEED_ISA: generic, avx2, avx512,
avx512_vnni, avx512_bf16), which caps its kernels and oneDNN; every case also
prints "vs_f32", heed's rate over its own float32 rate at the same level, and
"runs_as", what the compute type runs as there (bfloat16 is float32 below
avx512_bf16). --no-torch skips PyTorch (no python3-torch needed): only heed's
compute types against each other.

Usage: /usr/bin/python3 tools/bench_vs_torch.py [--threads 2] [--sentences 500]
       [--isa avx2] [--no-torch]
Needs scripts/install-deps.sh --tools (python3-torch, OpenBLAS) and a build.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "reference"))
import safetensors_np  # noqa: E402


def weight_builder(seed, d):
    """A dict of weights and helpers that add random linear layers (std 0.02,
    zero bias) and identity layer norms of width d to it."""
    rng = np.random.default_rng(seed)
    w = {}

    def lin(name, out, inp):
        w[name + "weight"] = rng.normal(0, 0.02, (out, inp)).astype(np.float32)
        w[name + "bias"] = np.zeros(out, np.float32)

    def norm(name):
        w[name + "weight"] = np.ones(d, np.float32)
        w[name + "bias"] = np.zeros(d, np.float32)

    return w, lin, norm, rng


def make_marian(path, vocab=32000, d=512, layers=6, heads=8, ffn=2048, max_pos=512):
    if os.path.exists(os.path.join(path, "model.safetensors")):
        return
    os.makedirs(path, exist_ok=True)
    w, lin, norm, rng = weight_builder(0, d)
    w["model.shared.weight"] = rng.normal(0, 0.02, (vocab, d)).astype(np.float32)
    w["final_logits_bias"] = np.zeros((1, vocab), np.float32)
    for side in ("encoder", "decoder"):
        for i in range(layers):
            p = f"model.{side}.layers.{i}."
            for a in ["self_attn."] + (["encoder_attn."] if side == "decoder" else []):
                for proj in ("q_proj.", "k_proj.", "v_proj.", "out_proj."):
                    lin(p + a + proj, d, d)
                norm(p + a[:-1] + "_layer_norm.")
            lin(p + "fc1.", ffn, d)
            lin(p + "fc2.", d, ffn)
            norm(p + "final_layer_norm.")
    safetensors_np.save(os.path.join(path, "model.safetensors"), w)
    config = {"model_type": "marian", "architectures": ["MarianMTModel"], "vocab_size": vocab,
              "d_model": d, "encoder_layers": layers, "decoder_layers": layers,
              "encoder_attention_heads": heads, "decoder_attention_heads": heads,
              "encoder_ffn_dim": ffn, "decoder_ffn_dim": ffn, "activation_function": "swish",
              "max_position_embeddings": max_pos, "scale_embedding": True,
              "pad_token_id": vocab - 1, "eos_token_id": 0, "decoder_start_token_id": vocab - 1}
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)


def make_distilbert(path, vocab=30522, d=768, layers=6, heads=12, ffn=3072, max_pos=512):
    if os.path.exists(os.path.join(path, "model.safetensors")):
        return
    os.makedirs(path, exist_ok=True)
    w, lin, norm, rng = weight_builder(1, d)
    b = "distilbert."
    w[b + "embeddings.word_embeddings.weight"] = rng.normal(0, 0.02, (vocab, d)).astype(np.float32)
    w[b + "embeddings.position_embeddings.weight"] = rng.normal(0, 0.02, (max_pos, d)).astype(np.float32)
    norm(b + "embeddings.LayerNorm.")
    for i in range(layers):
        p = f"{b}transformer.layer.{i}."
        for name in ("q_lin", "k_lin", "v_lin", "out_lin"):
            lin(p + f"attention.{name}.", d, d)
        norm(p + "sa_layer_norm.")
        lin(p + "ffn.lin1.", ffn, d)
        lin(p + "ffn.lin2.", d, ffn)
        norm(p + "output_layer_norm.")
    lin("pre_classifier.", d, d)
    lin("classifier.", 2, d)
    safetensors_np.save(os.path.join(path, "model.safetensors"), w)
    config = {"model_type": "distilbert", "architectures": ["DistilBertForSequenceClassification"],
              "vocab_size": vocab, "dim": d, "n_layers": layers, "n_heads": heads,
              "hidden_dim": ffn, "max_position_embeddings": max_pos, "activation": "gelu",
              "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}}
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)


def make_servable_base_models(models_dir, max_length):
    """marian-base and distilbert-base under models_dir with the test
    fixtures' tokenizer files, so that heed-server can serve them (the outputs
    are meaningless, the work is real); generation stops at max_length."""
    marian = os.path.join(models_dir, "marian-base")
    distil = os.path.join(models_dir, "distilbert-base")
    make_marian(marian)
    make_distilbert(distil)
    golden = os.path.join(HERE, "..", "tests", "golden", "models")
    for f in ("source.spm", "target.spm", "vocab.json"):
        shutil.copy(os.path.join(golden, "marian-tiny", f), os.path.join(marian, f))
    # The fixture vocabulary's </s> is id 0 and <pad> its last id; keep the
    # base model's config consistent with the tokenizer files.
    with open(os.path.join(golden, "marian-tiny", "vocab.json")) as f:
        pad = json.load(f)["<pad>"]
    with open(os.path.join(marian, "config.json")) as f:
        config = json.load(f)
    config.update(pad_token_id=pad, decoder_start_token_id=pad, eos_token_id=0)
    with open(os.path.join(marian, "config.json"), "w") as f:
        json.dump(config, f)
    with open(os.path.join(marian, "generation_config.json"), "w") as f:
        json.dump({"bad_words_ids": [[pad]], "max_length": max_length}, f)
    for f in ("vocab.txt", "tokenizer_config.json"):
        shutil.copy(os.path.join(golden, "distilbert-tiny", f), os.path.join(distil, f))
    return marian, distil


class TorchMarian:
    """Batched Marian in float32 with a key/value cache (the fair baseline)."""

    def __init__(self, path, torch):
        self.t = torch
        self.F = torch.nn.functional
        with open(os.path.join(path, "config.json")) as f:
            self.c = json.load(f)
        self.w = {k: torch.from_numpy(v) for k, v in
                  safetensors_np.load(os.path.join(path, "model.safetensors")).items()}
        d = self.c["d_model"]
        i = torch.arange(d // 2, dtype=torch.float64)
        angles = torch.arange(self.c["max_position_embeddings"], dtype=torch.float64)[:, None] / \
            torch.pow(10000.0, 2 * i / d)[None, :]
        self.pos = torch.cat([torch.sin(angles), torch.cos(angles)], 1).float()
        self.heads = self.c["encoder_attention_heads"]

    def lin(self, x, name):
        return self.F.linear(x, self.w[name + "weight"], self.w[name + "bias"])

    def ln(self, x, name):
        return self.F.layer_norm(x, (x.shape[-1],), self.w[name + "weight"], self.w[name + "bias"])

    def split(self, x):
        b, n, d = x.shape
        return x.view(b, n, self.heads, d // self.heads).transpose(1, 2)

    def attend(self, q, k, v, mask=None):
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(mask, float("-inf"))
        out = self.F.softmax(scores, -1) @ v
        b, h, n, hd = out.shape
        return out.transpose(1, 2).reshape(b, n, h * hd)

    def encode(self, ids, pad_mask):
        t, d = self.t, self.c["d_model"]
        x = self.w["model.shared.weight"][ids] * math.sqrt(d) + self.pos[:ids.shape[1]]
        key_mask = pad_mask[:, None, None, :]
        for i in range(self.c["encoder_layers"]):
            p = f"model.encoder.layers.{i}."
            q, k, v = (self.split(self.lin(x, p + f"self_attn.{n}_proj.")) for n in "qkv")
            x = self.ln(x + self.lin(self.attend(q, k, v, key_mask), p + "self_attn.out_proj."),
                        p + "self_attn_layer_norm.")
            h = self.lin(self.F.silu(self.lin(x, p + "fc1.")), p + "fc2.")
            x = self.ln(x + h, p + "final_layer_norm.")
        return x

    def generate(self, ids, pad_mask, beams, new_tokens):
        t = self.t
        memory = self.encode(ids, pad_mask)
        batch = ids.shape[0]
        if beams > 1:
            memory = memory.repeat_interleave(beams, 0)
            pad_mask = pad_mask.repeat_interleave(beams, 0)
        key_mask = pad_mask[:, None, None, :]
        n = memory.shape[0]
        layers = self.c["decoder_layers"]
        cross = []
        for i in range(layers):
            p = f"model.decoder.layers.{i}.encoder_attn."
            cross.append((self.split(self.lin(memory, p + "k_proj.")),
                          self.split(self.lin(memory, p + "v_proj."))))
        cache = [None] * layers
        tokens = t.full((n, 1), self.c["decoder_start_token_id"], dtype=t.long)
        scores = t.zeros(n)
        if beams > 1:
            scores.view(batch, beams)[:, 1:] = -1e9
        out = []
        eos = self.c["eos_token_id"]
        d = self.c["d_model"]
        for step in range(new_tokens):
            x = self.w["model.shared.weight"][tokens[:, -1:]] * math.sqrt(d) + self.pos[step]
            for i in range(layers):
                p = f"model.decoder.layers.{i}."
                q, k, v = (self.split(self.lin(x, p + f"self_attn.{m}_proj.")) for m in "qkv")
                if cache[i] is not None:
                    k, v = t.cat([cache[i][0], k], 2), t.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
                x = self.ln(x + self.lin(self.attend(q, k, v), p + "self_attn.out_proj."),
                            p + "self_attn_layer_norm.")
                q = self.split(self.lin(x, p + "encoder_attn.q_proj."))
                x = self.ln(x + self.lin(self.attend(q, *cross[i], key_mask),
                                         p + "encoder_attn.out_proj."),
                            p + "encoder_attn_layer_norm.")
                h = self.lin(self.F.silu(self.lin(x, p + "fc1.")), p + "fc2.")
                x = self.ln(x + h, p + "final_layer_norm.")
            logits = x[:, -1] @ self.w["model.shared.weight"].T + self.w["final_logits_bias"][0]
            logp = self.F.log_softmax(logits, -1)
            logp[:, eos] = float("-inf")
            if beams == 1:
                next_tokens = logp.argmax(-1)
                tokens = t.cat([tokens, next_tokens[:, None]], 1)
                continue
            vocab = logp.shape[-1]
            total = (scores[:, None] + logp).view(batch, beams * vocab)
            top_scores, top = total.topk(beams, 1)
            parent = (top // vocab) + t.arange(batch)[:, None] * beams
            parent = parent.view(-1)
            scores = top_scores.view(-1)
            tokens = t.cat([tokens[parent], (top % vocab).view(-1, 1)], 1)
            cache = [(k.index_select(0, parent), v.index_select(0, parent)) for k, v in cache]
        return batch * new_tokens

    def classify(self, ids):
        raise NotImplementedError


class TorchDistilBert:
    def __init__(self, path, torch):
        self.t, self.F = torch, torch.nn.functional
        with open(os.path.join(path, "config.json")) as f:
            self.c = json.load(f)
        self.w = {k: torch.from_numpy(v) for k, v in
                  safetensors_np.load(os.path.join(path, "model.safetensors")).items()}

    def lin(self, x, name):
        return self.F.linear(x, self.w[name + "weight"], self.w[name + "bias"])

    def ln(self, x, name):
        return self.F.layer_norm(x, (x.shape[-1],), self.w[name + "weight"], self.w[name + "bias"],
                                 1e-12)

    def classify(self, ids):
        F, c, b = self.F, self.c, "distilbert."
        x = self.w[b + "embeddings.word_embeddings.weight"][ids] + \
            self.w[b + "embeddings.position_embeddings.weight"][:ids.shape[1]]
        x = self.ln(x, b + "embeddings.LayerNorm.")
        heads = c["n_heads"]
        for i in range(c["n_layers"]):
            p = f"{b}transformer.layer.{i}."
            bsz, n, d = x.shape
            q, k, v = (self.lin(x, p + f"attention.{m}_lin.").view(bsz, n, heads, d // heads)
                       .transpose(1, 2) for m in "qkv")
            a = F.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // heads), -1) @ v
            a = self.lin(a.transpose(1, 2).reshape(bsz, n, d), p + "attention.out_lin.")
            x = self.ln(x + a, p + "sa_layer_norm.")
            h = self.lin(F.gelu(self.lin(x, p + "ffn.lin1.")), p + "ffn.lin2.")
            x = self.ln(x + h, p + "output_layer_norm.")
        h = F.relu(self.lin(x[:, 0], "pre_classifier."))
        return self.lin(h, "classifier.")


def run_heed(binary, args):
    out = subprocess.run([binary] + args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def report(name, compute, count, heed, torch_rate, f32_rates):
    """One JSON line; f32_rates remembers float32's rate per case for vs_f32."""
    if compute == "float32":
        f32_rates[name] = heed["per_s"]
    line = {"case": name, "compute_type": compute, "runs_as": heed.get("runs_as", compute),
            "isa": heed.get("isa", ""), "sentences": count,
            "heed_per_s": round(heed["per_s"], 2)}
    if name in f32_rates:
        line["vs_f32"] = round(heed["per_s"] / f32_rates[name], 2)
    if torch_rate is not None:
        line["torch_per_s"] = round(torch_rate, 2)
        line["ratio"] = round(heed["per_s"] / torch_rate, 2)
    print(json.dumps(line), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sentences", type=int, default=500)
    parser.add_argument("--batch1-sentences", type=int, default=100,
                        help="inputs for the batch-1 cases (they are slow on the torch side)")
    parser.add_argument("--new-tokens", type=int, default=30)
    parser.add_argument("--work", default="/tmp/heed-bench")
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "bench", "heed-bench-models"))
    parser.add_argument("--compute-types", default="float32,bfloat16,int8")
    parser.add_argument("--only", default="", help="comma-separated case name prefixes")
    parser.add_argument("--isa", default="", help="heed's ISA level (HEED_ISA)")
    parser.add_argument("--no-torch", action="store_true",
                        help="skip PyTorch: heed's compute types against its float32 only")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    if args.isa:
        os.environ["HEED_ISA"] = args.isa
    if args.no_torch:
        torch = None
    else:
        import torch
        torch.set_num_threads(args.threads)
    f32_rates = {}
    # float32 first, so that the others have a rate to compare with.
    compute_types = sorted(args.compute_types.split(","), key=lambda c: c != "float32")

    marian, distil = os.path.join(args.work, "marian-base"), os.path.join(args.work, "distilbert-base")
    make_marian(marian)
    make_distilbert(distil)
    rng = np.random.default_rng(2)
    sentences = [list(rng.integers(5, 31000, rng.integers(20, 31))) + [0]
                 for _ in range(args.sentences)]
    classify = [[101] + list(rng.integers(1000, 30000, 126)) + [102] for _ in range(args.sentences)]
    inputs = os.path.join(args.work, "sentences.txt")
    with open(inputs, "w") as f:
        f.write("".join(" ".join(map(str, s)) + "\n" for s in sentences))
    classify_inputs = os.path.join(args.work, "classify.txt")
    with open(classify_inputs, "w") as f:
        f.write("".join(" ".join(map(str, s)) + "\n" for s in classify))

    tm, td = (TorchMarian(marian, torch), TorchDistilBert(distil, torch)) if torch else (None, None)
    common = [f"--threads={args.threads}"]
    for batch in (1, 32):
        count = args.batch1_sentences if batch == 1 else args.sentences
        for beams in (1, 4):
            name = f"translate_{'greedy' if beams == 1 else 'beam4'}_batch{batch}"
            if args.only and not any(name.startswith(o) for o in args.only.split(",")):
                continue
            torch_rate = None
            if torch:
                with torch.inference_mode():
                    start, tokens = time.perf_counter(), 0
                    for i in range(0, count, batch):
                        chunk = sentences[i:i + batch]
                        width = max(map(len, chunk))
                        ids = torch.tensor([s + [31999] * (width - len(s)) for s in chunk])
                        pad = torch.tensor([[False] * len(s) + [True] * (width - len(s))
                                            for s in chunk])
                        tokens += tm.generate(ids, pad, beams, args.new_tokens)
                    torch_rate = tokens / (time.perf_counter() - start)
            for compute in compute_types:
                heed = run_heed(args.binary, common + [
                    f"--model_dir={marian}", f"--inputs={inputs}", "--task=generate",
                    f"--batch={batch}", f"--beams={beams}", f"--new_tokens={args.new_tokens}",
                    f"--compute_type={compute}", f"--limit={count}"])
                report(name, compute, count, heed, torch_rate, f32_rates)
        name = f"sentiment_batch{batch}"
        if args.only and not any(name.startswith(o) for o in args.only.split(",")):
            continue
        count = args.batch1_sentences if batch == 1 else args.sentences
        torch_rate = None
        if torch:
            with torch.inference_mode():
                start = time.perf_counter()
                for i in range(0, count, batch):
                    td.classify(torch.tensor(classify[i:i + batch]))
                torch_rate = count / (time.perf_counter() - start)
        for compute in compute_types:
            heed = run_heed(args.binary, common + [
                f"--model_dir={distil}", f"--inputs={classify_inputs}", "--task=classify",
                f"--batch={batch}", f"--compute_type={compute}", f"--limit={count}"])
            report(name, compute, count, heed, torch_rate, f32_rates)


if __name__ == "__main__":
    main()
