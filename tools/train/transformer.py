"""Batched, trainable versions of the architectures in tools/reference/models.py.

Module and parameter names are the Hugging Face ones, so state_dict() is the
checkpoint heed loads; export.py writes it and tools/reference/models.py (the
per-sequence torch.nn.functional reference) must reproduce these modules'
outputs from the written files (checked by export.check_against_reference).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {"swish": F.silu, "gelu": F.gelu}


class Attention(nn.Module):
    def __init__(self, d, heads, dropout, names=("q_proj", "k_proj", "v_proj", "out_proj")):
        super().__init__()
        self.heads, self.dropout, self.names = heads, dropout, names
        for name in names:
            setattr(self, name, nn.Linear(d, d))

    def forward(self, x_q, x_kv, bias):
        """bias: additive mask broadcastable to [batch, heads, len_q, len_kv]."""
        q_proj, k_proj, v_proj, out_proj = (getattr(self, n) for n in self.names)
        b, lq, d = x_q.shape
        lk, hd = x_kv.shape[1], d // self.heads
        q = q_proj(x_q).view(b, lq, self.heads, hd).transpose(1, 2)
        k = k_proj(x_kv).view(b, lk, self.heads, hd).transpose(1, 2)
        v = v_proj(x_kv).view(b, lk, self.heads, hd).transpose(1, 2)
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd)) + bias
        probs = F.dropout(F.softmax(scores.float(), dim=-1).to(v.dtype), self.dropout,
                          self.training)
        return out_proj((probs @ v).transpose(1, 2).reshape(b, lq, d))


class Seq2SeqLayer(nn.Module):
    def __init__(self, d, heads, ffn, dropout, act, cross):
        super().__init__()
        self.self_attn = Attention(d, heads, dropout)
        self.self_attn_layer_norm = nn.LayerNorm(d)
        if cross:
            self.encoder_attn = Attention(d, heads, dropout)
            self.encoder_attn_layer_norm = nn.LayerNorm(d)
        self.fc1, self.fc2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.final_layer_norm = nn.LayerNorm(d)
        self.dropout, self.act = dropout, act

    def forward(self, x, self_bias, memory=None, cross_bias=None):
        drop = lambda t: F.dropout(t, self.dropout, self.training)  # noqa: E731
        x = self.self_attn_layer_norm(x + drop(self.self_attn(x, x, self_bias)))
        if memory is not None:
            x = self.encoder_attn_layer_norm(x + drop(self.encoder_attn(x, memory, cross_bias)))
        h = F.dropout(self.act(self.fc1(x)), self.dropout, self.training)
        return self.final_layer_norm(x + drop(self.fc2(h)))


def sinusoidal(length, d, offset=0):
    i = torch.arange(d // 2, dtype=torch.float64)
    pos = torch.arange(offset, offset + length, dtype=torch.float64)
    angles = pos[:, None] / torch.pow(10000.0, 2 * i / d)[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1).float()


class Stack(nn.Module):
    def __init__(self, c, side, marian):
        super().__init__()
        d, dropout = c["d_model"], c["dropout"]
        act = ACTIVATIONS[c["activation_function"]]
        n = c[f"{side}_layers"]
        self.layers = nn.ModuleList(
            Seq2SeqLayer(d, c[f"{side}_attention_heads"], c[f"{side}_ffn_dim"], dropout, act,
                         side == "decoder") for _ in range(n))
        if not marian:
            self.embed_positions = nn.Embedding(c["max_position_embeddings"] + 2, d)
            self.layernorm_embedding = nn.LayerNorm(d)
        self.marian, self.d, self.dropout = marian, d, dropout
        self.scale = math.sqrt(d) if c["scale_embedding"] else 1.0

    def embed(self, shared, ids):
        x = shared(ids) * self.scale
        if self.marian:
            x = x + sinusoidal(ids.shape[1], self.d).to(x.device)
        else:
            x = self.layernorm_embedding(x + self.embed_positions.weight[2:2 + ids.shape[1]])
        return F.dropout(x, self.dropout, self.training)


class Seq2SeqInner(nn.Module):
    def __init__(self, c, marian):
        super().__init__()
        self.shared = nn.Embedding(c["vocab_size"], c["d_model"])
        self.encoder = Stack(c, "encoder", marian)
        self.decoder = Stack(c, "decoder", marian)


class Seq2Seq(nn.Module):
    """MarianMTModel / BartForConditionalGeneration: shared embeddings tied to
    the output projection, final_logits_bias kept at zero as Hugging Face does."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.marian = config["model_type"] == "marian"
        self.pad = config["pad_token_id"]
        self.model = Seq2SeqInner(config, self.marian)
        self.register_buffer("final_logits_bias", torch.zeros(1, config["vocab_size"]))
        self.reset_parameters()

    def reset_parameters(self):
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "layer_norm" in name or "layernorm" in name:
                nn.init.ones_(p)
            elif name == "model.shared.weight":
                nn.init.normal_(p, 0, self.config["d_model"] ** -0.5)
            elif "embed_positions" in name:
                nn.init.normal_(p, 0, 0.02)
            else:
                nn.init.xavier_uniform_(p)

    def encode(self, src):
        m = self.model
        x = m.encoder.embed(m.shared, src)
        bias = torch.zeros(src.shape, dtype=x.dtype).masked_fill(src == self.pad, -1e9)
        bias = bias[:, None, None, :]
        for layer in m.encoder.layers:
            x = layer(x, bias)
        return x, bias

    def decode(self, tgt_in, memory, memory_bias):
        m = self.model
        x = m.decoder.embed(m.shared, tgt_in)
        t = tgt_in.shape[1]
        causal = torch.full((t, t), -1e9).triu(1)[None, None]
        for layer in m.decoder.layers:
            x = layer(x, causal, memory, memory_bias)
        return x @ m.shared.weight.T + self.final_logits_bias

    def forward(self, src, tgt_in):
        memory, bias = self.encode(src)
        return self.decode(tgt_in, memory, bias)

    @torch.no_grad()
    def greedy(self, src, start, eos, max_len, forced_bos=None):
        """Batched greedy decoding without a cache (for progress evaluation only)."""
        memory, bias = self.encode(src)
        out = torch.full((src.shape[0], 1), start, dtype=torch.long)
        done = torch.zeros(src.shape[0], dtype=torch.bool)
        for step in range(max_len - 1):
            logits = self.decode(out, memory, bias)[:, -1]
            logits[:, self.pad] = float("-inf")
            token = logits.argmax(-1)
            if forced_bos is not None and step == 0:
                token[:] = forced_bos
            token = token.masked_fill(done, self.pad)
            out = torch.cat([out, token[:, None]], dim=1)
            done |= token == eos
            if bool(done.all()):
                break
        return out[:, 1:].tolist()


class DistilBertClassifier(nn.Module):
    """DistilBertForSequenceClassification."""

    def __init__(self, c):
        super().__init__()
        self.config = c
        d = c["dim"]
        self.distilbert = nn.Module()
        emb = nn.Module()
        emb.word_embeddings = nn.Embedding(c["vocab_size"], d)
        emb.position_embeddings = nn.Embedding(c["max_position_embeddings"], d)
        emb.LayerNorm = nn.LayerNorm(d, eps=1e-12)
        self.distilbert.embeddings = emb
        self.distilbert.transformer = nn.Module()
        self.distilbert.transformer.layer = nn.ModuleList(
            DistilBertLayer(d, c["n_heads"], c["hidden_dim"], c["dropout"])
            for _ in range(c["n_layers"]))
        self.pre_classifier = nn.Linear(d, d)
        self.classifier = nn.Linear(d, len(c["id2label"]))
        self.dropout = c["seq_classif_dropout"]
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "LayerNorm" in name or "layer_norm" in name:
                nn.init.ones_(p)
            else:
                nn.init.normal_(p, 0, 0.02)

    def forward(self, ids):
        emb = self.distilbert.embeddings
        x = emb.word_embeddings(ids) + emb.position_embeddings.weight[:ids.shape[1]]
        x = F.dropout(emb.LayerNorm(x), self.config["dropout"], self.training)
        bias = torch.zeros(ids.shape).masked_fill(ids == self.config["pad_token_id"], -1e9)
        bias = bias[:, None, None, :]
        for layer in self.distilbert.transformer.layer:
            x = layer(x, bias)
        h = F.relu(self.pre_classifier(x[:, 0]))
        return self.classifier(F.dropout(h, self.dropout, self.training))


class DistilBertLayer(nn.Module):
    def __init__(self, d, heads, ffn, dropout):
        super().__init__()
        self.attention = Attention(d, heads, dropout, ("q_lin", "k_lin", "v_lin", "out_lin"))
        self.sa_layer_norm = nn.LayerNorm(d, eps=1e-12)
        self.ffn = nn.Module()
        self.ffn.lin1, self.ffn.lin2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.output_layer_norm = nn.LayerNorm(d, eps=1e-12)
        self.dropout = dropout

    def forward(self, x, bias):
        drop = lambda t: F.dropout(t, self.dropout, self.training)  # noqa: E731
        x = self.sa_layer_norm(x + drop(self.attention(x, x, bias)))
        h = self.ffn.lin2(F.gelu(self.ffn.lin1(x)))
        return self.output_layer_norm(x + drop(h))
