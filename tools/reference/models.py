"""An independent PyTorch implementation of the architectures heed serves,
written with torch.nn.functional from the Hugging Face model definitions'
documented operation order, reading Hub-layout directories:

  Marian  sinusoidal positions, embeddings scaled by sqrt(d), post-LN blocks,
          final_logits_bias, output projection tied to the shared embeddings
  BART    learned positions offset by 2, layernorm_embedding, post-LN blocks
  BERT    word + position + token-type embeddings, post-LN, tanh pooler, classifier
  DistilBERT  word + position embeddings, post-LN, pre_classifier + ReLU, classifier

and greedy decoding with Hugging Face's processors (min length, forced BOS/EOS,
bad words, no-repeat n-grams). The reference for heed's C++ models; never
imported by C++.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

import safetensors_np

ACTIVATIONS = {
    "gelu": lambda x: F.gelu(x),
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "swish": F.silu,
    "silu": F.silu,
}


def load_dir(path):
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    weights = {k: torch.from_numpy(v).double()
               for k, v in safetensors_np.load(os.path.join(path, "model.safetensors")).items()}
    return config, weights


def attention(x_q, x_kv, w, prefix, heads, causal=False, cache=None):
    """Multi-head attention; `cache` holds past keys/values (decoder self-attention)."""
    q = F.linear(x_q, w[prefix + "q_proj.weight"], w[prefix + "q_proj.bias"])
    k = F.linear(x_kv, w[prefix + "k_proj.weight"], w[prefix + "k_proj.bias"])
    v = F.linear(x_kv, w[prefix + "v_proj.weight"], w[prefix + "v_proj.bias"])
    if cache is not None:
        if "k" in cache:
            k = torch.cat([cache["k"], k], dim=0)
            v = torch.cat([cache["v"], v], dim=0)
        cache["k"], cache["v"] = k, v
    lq, lk, d = q.shape[0], k.shape[0], q.shape[1]
    hd = d // heads
    q = q.view(lq, heads, hd).transpose(0, 1)
    k = k.view(lk, heads, hd).transpose(0, 1)
    v = v.view(lk, heads, hd).transpose(0, 1)
    scores = q @ k.transpose(1, 2) / math.sqrt(hd)
    if causal:
        offset = lk - lq
        mask = torch.ones(lq, lk, dtype=torch.bool).triu(1 + offset)
        scores = scores.masked_fill(mask, float("-inf"))
    probs = F.softmax(scores, dim=-1)
    out = (probs @ v).transpose(0, 1).reshape(lq, d)
    return F.linear(out, w[prefix + "out_proj.weight"], w[prefix + "out_proj.bias"]), probs


def layer_norm(x, w, prefix, eps):
    return F.layer_norm(x, (x.shape[-1],), w[prefix + "weight"], w[prefix + "bias"], eps)


def sinusoidal(positions, d):
    i = torch.arange(d // 2, dtype=torch.float64)
    angles = positions[:, None].double() / torch.pow(10000.0, 2 * i / d)[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class Seq2Seq:
    """Marian and BART."""

    def __init__(self, path):
        self.config, self.w = load_dir(path)
        c = self.config
        self.marian = c["model_type"] == "marian"
        self.d = c["d_model"]
        self.scale = math.sqrt(self.d) if c.get("scale_embedding", self.marian) else 1.0
        self.act = ACTIVATIONS[c.get("activation_function", "swish" if self.marian else "gelu")]
        self.eps = 1e-5

    def embed(self, ids, side, past=0):
        w = self.w
        x = w["model.shared.weight"][ids] * self.scale
        positions = torch.arange(past, past + len(ids))
        if self.marian:
            x = x + sinusoidal(positions, self.d)
        else:
            x = x + w[f"model.{side}.embed_positions.weight"][positions + 2]
            x = layer_norm(x, w, f"model.{side}.layernorm_embedding.", self.eps)
        return x

    def ffn(self, x, prefix):
        w = self.w
        h = self.act(F.linear(x, w[prefix + "fc1.weight"], w[prefix + "fc1.bias"]))
        return F.linear(h, w[prefix + "fc2.weight"], w[prefix + "fc2.bias"])

    def encode(self, ids):
        c, w = self.config, self.w
        x = self.embed(torch.tensor(ids), "encoder")
        for i in range(c["encoder_layers"]):
            p = f"model.encoder.layers.{i}."
            a, _ = attention(x, x, w, p + "self_attn.", c["encoder_attention_heads"])
            x = layer_norm(x + a, w, p + "self_attn_layer_norm.", self.eps)
            x = layer_norm(x + self.ffn(x, p), w, p + "final_layer_norm.", self.eps)
        return x

    def decode_step(self, memory, tokens, caches, past):
        """Logits for the positions of `tokens`, given `past` cached positions."""
        c, w = self.config, self.w
        x = self.embed(torch.tensor(tokens), "decoder", past)
        cross = None
        for i in range(c["decoder_layers"]):
            p = f"model.decoder.layers.{i}."
            a, _ = attention(x, x, w, p + "self_attn.", c["decoder_attention_heads"], causal=True,
                             cache=caches[i])
            x = layer_norm(x + a, w, p + "self_attn_layer_norm.", self.eps)
            a, cross = attention(x, memory, w, p + "encoder_attn.", c["decoder_attention_heads"])
            x = layer_norm(x + a, w, p + "encoder_attn_layer_norm.", self.eps)
            x = layer_norm(x + self.ffn(x, p), w, p + "final_layer_norm.", self.eps)
        logits = x @ w["model.shared.weight"].T + w["final_logits_bias"][0]
        return logits, cross

    def greedy(self, ids, max_length, min_length=0, bad_words=(), forced_bos=None,
               forced_eos=None, no_repeat_ngram=0):
        """Hugging Face greedy search; max_length counts the decoder start token."""
        c = self.config
        eos, start = c["eos_token_id"], c["decoder_start_token_id"]
        memory = self.encode(ids)
        caches = [dict() for _ in range(c["decoder_layers"])]
        out, step_logits = [start], []
        while len(out) < max_length:
            logits, _ = self.decode_step(memory, [out[-1]], caches, len(out) - 1)
            scores = F.log_softmax(logits[-1], dim=-1)
            scores = apply_processors(scores, out, eos, min_length, max_length, bad_words,
                                      forced_bos, forced_eos, no_repeat_ngram)
            step_logits.append(logits[-1])
            token = int(torch.argmax(scores))
            out.append(token)
            if token == eos:
                break
        return out, step_logits


def apply_processors(scores, seq, eos, min_length=0, max_length=20, bad_words=(),
                     forced_bos=None, forced_eos=None, no_repeat_ngram=0):
    scores = scores.clone()
    if len(seq) < min_length:
        scores[eos] = float("-inf")
    if no_repeat_ngram and len(seq) + 1 >= no_repeat_ngram:
        n = no_repeat_ngram
        prefix = tuple(seq[len(seq) - n + 1:])
        for i in range(len(seq) - n + 1):
            if tuple(seq[i:i + n - 1]) == prefix:
                scores[seq[i + n - 1]] = float("-inf")
    for words in bad_words:
        if len(words) == 1 or tuple(seq[-(len(words) - 1):]) == tuple(words[:-1]):
            scores[words[-1]] = float("-inf")
    if forced_bos is not None and len(seq) == 1:
        scores[:] = float("-inf")
        scores[forced_bos] = 0
    if forced_eos is not None and len(seq) == max_length - 1:
        scores[:] = float("-inf")
        scores[forced_eos] = 0
    return scores


# Names of one post-LN encoder block's tensors, per family.
BERT_LAYER = {"q": "attention.self.query.", "k": "attention.self.key.",
              "v": "attention.self.value.", "out": "attention.output.dense.",
              "attention_norm": "attention.output.LayerNorm.", "fc1": "intermediate.dense.",
              "fc2": "output.dense.", "output_norm": "output.LayerNorm."}
DISTILBERT_LAYER = {"q": "attention.q_lin.", "k": "attention.k_lin.", "v": "attention.v_lin.",
                    "out": "attention.out_lin.", "attention_norm": "sa_layer_norm.",
                    "fc1": "ffn.lin1.", "fc2": "ffn.lin2.", "output_norm": "output_layer_norm."}


def encoder_layer(x, w, prefix, names, heads, act, eps):
    """x = LN1(x + Attention(x)); x = LN2(x + FC2(act(FC1(x))))."""
    roles = {"q_proj.": "q", "k_proj.": "k", "v_proj.": "v", "out_proj.": "out"}
    lw = {proj + s: w[prefix + names[role] + s] for proj, role in roles.items()
          for s in ("weight", "bias")}
    a, _ = attention(x, x, lw, "", heads)
    x = layer_norm(x + a, w, prefix + names["attention_norm"], eps)
    h = act(F.linear(x, w[prefix + names["fc1"] + "weight"], w[prefix + names["fc1"] + "bias"]))
    h = F.linear(h, w[prefix + names["fc2"] + "weight"], w[prefix + names["fc2"] + "bias"])
    return layer_norm(x + h, w, prefix + names["output_norm"], eps)


class Classifier:
    """BERT and DistilBERT sequence classification."""

    def __init__(self, path):
        self.config, self.w = load_dir(path)
        self.bert = self.config["model_type"] == "bert"

    def logits(self, ids):
        c, w = self.config, self.w
        ids = torch.tensor(ids)
        positions = torch.arange(len(ids))
        if self.bert:
            b = "bert."
            eps = c.get("layer_norm_eps", 1e-12)
            x = (w[b + "embeddings.word_embeddings.weight"][ids]
                 + w[b + "embeddings.position_embeddings.weight"][positions]
                 + w[b + "embeddings.token_type_embeddings.weight"][0])
            x = layer_norm(x, w, b + "embeddings.LayerNorm.", eps)
            heads, act = c["num_attention_heads"], ACTIVATIONS[c.get("hidden_act", "gelu")]
            for i in range(c["num_hidden_layers"]):
                x = encoder_layer(x, w, f"{b}encoder.layer.{i}.", BERT_LAYER, heads, act, eps)
            pooled = torch.tanh(F.linear(x[0], w[b + "pooler.dense.weight"], w[b + "pooler.dense.bias"]))
            return F.linear(pooled, w["classifier.weight"], w["classifier.bias"])
        b, eps = "distilbert.", 1e-12
        x = (w[b + "embeddings.word_embeddings.weight"][ids]
             + w[b + "embeddings.position_embeddings.weight"][positions])
        x = layer_norm(x, w, b + "embeddings.LayerNorm.", eps)
        heads, act = c["n_heads"], ACTIVATIONS[c.get("activation", "gelu")]
        for i in range(c["n_layers"]):
            x = encoder_layer(x, w, f"{b}transformer.layer.{i}.", DISTILBERT_LAYER, heads, act, eps)
        h = F.relu(F.linear(x[0], w["pre_classifier.weight"], w["pre_classifier.bias"]))
        return F.linear(h, w["classifier.weight"], w["classifier.bias"])


def beam_search(model, ids, num_beams, length_penalty=1.0, early_stopping=False,
                num_return_sequences=1, max_length=20, **processor_options):
    """Hugging Face's beam search (BeamSearchScorer) for one input: log-softmax
    scores plus processors, the best 2 * num_beams candidates per step, EOS
    candidates ranked within the first num_beams finish a hypothesis scored
    sum_logprobs / length ** length_penalty (length without the EOS, with the
    start token), early stopping as Hugging Face defines it for True and False.
    Returns [(score, ids)] best first; ids end with EOS when they finished."""
    c = model.config
    eos, start = c["eos_token_id"], c["decoder_start_token_id"]
    memory = model.encode(ids)
    beams = [[start] for _ in range(num_beams)]
    beam_scores = torch.zeros(num_beams, dtype=torch.float64)
    beam_scores[1:] = -1e9
    finished, worst = [], 1e9
    done = False

    def add(hyp, sum_logprobs):
        nonlocal worst
        score = sum_logprobs / (len(hyp) ** length_penalty)
        if len(finished) < num_beams or score > worst:
            finished.append((score, hyp))
            if len(finished) > num_beams:
                ranked = sorted((s, i) for i, (s, _) in enumerate(finished))
                del finished[ranked[0][1]]
                worst = ranked[1][0]
            else:
                worst = min(score, worst)

    def is_done(best_sum_logprobs, cur_len):
        if len(finished) < num_beams:
            return False
        if early_stopping:
            return True
        return worst >= best_sum_logprobs / cur_len ** length_penalty

    cur_len = 1
    while cur_len < max_length:
        rows = []
        for beam in beams:
            caches = [dict() for _ in range(c["decoder_layers"])]
            logits, _ = model.decode_step(memory, beam, caches, 0)
            scores = F.log_softmax(logits[-1], dim=-1)
            rows.append(apply_processors(scores, beam, eos, max_length=max_length,
                                         **processor_options))
        scores = torch.stack(rows) + beam_scores[:, None]
        vocab = scores.shape[1]
        top_scores, top = torch.topk(scores.flatten(), 2 * num_beams)
        next_beams, next_scores = [], []
        for rank, (score, index) in enumerate(zip(top_scores.tolist(), top.tolist())):
            beam_index, token = divmod(index, vocab)
            if token == eos:
                if rank >= num_beams:
                    continue
                add(list(beams[beam_index]), score)
            else:
                next_beams.append(beams[beam_index] + [token])
                next_scores.append(score)
            if len(next_beams) == num_beams:
                break
        done = done or is_done(max(top_scores.tolist()), cur_len)
        beams = next_beams
        beam_scores = torch.tensor(next_scores, dtype=torch.float64)
        cur_len += 1
        if done:
            break
    if not done:
        for beam, score in zip(beams, beam_scores.tolist()):
            add(list(beam), score)
    ranked = sorted(finished, key=lambda x: x[0], reverse=True)[:num_return_sequences]
    return [(score, hyp + [eos] if len(hyp) < max_length else hyp) for score, hyp in ranked]
