#!/usr/bin/python3
"""Writes tiny random-weight models of each family heed serves, in Hugging Face
Hub layout (config.json, generation_config.json, model.safetensors, tokenizer
files), and golden vectors computed by the PyTorch reference in models.py:
token ids, encoder outputs, logits and greedy outputs. Committed under
tests/golden/models so that CI needs no torch.

Usage: /usr/bin/python3 tools/reference/make_model_fixtures.py
"""
import json
import os
import shutil

import numpy as np
import sentencepiece as spm
import torch

import hf_tokenizers as hf
import models
import safetensors_np

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "..", "tests", "golden")
TOKENIZERS = os.path.join(GOLDEN, "tokenizers")
OUT = os.path.join(GOLDEN, "models")

D, FFN, HEADS, LAYERS, MAX_POS = 32, 64, 4, 2, 64
TEXTS_EN = ["A dog runs across the green field.", "Two men are playing guitars on stage.",
            "The file could not be opened: permission denied!"]
TEXTS_SENTIMENT = ["This movie was absolutely wonderful.", "A dull, lifeless and tedious film.",
                   "Not bad at all :)"]


class Init:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.w = {}

    def matrix(self, name, rows, cols, std=0.3):
        self.w[name] = self.rng.normal(0, std, (rows, cols)).astype(np.float32)

    def vector(self, name, n, mean=0.0, std=0.1):
        self.w[name] = (mean + self.rng.normal(0, std, n)).astype(np.float32)

    def linear(self, prefix, out, inp):
        self.matrix(prefix + "weight", out, inp)
        self.vector(prefix + "bias", out)

    def norm(self, prefix, n):
        self.vector(prefix + "weight", n, 1.0)
        self.vector(prefix + "bias", n)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, ensure_ascii=False)
        f.write("\n")


def floats(t):
    return [round(float(x), 7) for x in t.flatten()]


def seq2seq_weights(init, vocab, marian):
    init.matrix("model.shared.weight", vocab, D)
    init.vector("final_logits_bias", vocab)
    init.w["final_logits_bias"] = init.w["final_logits_bias"].reshape(1, vocab)
    for side in ("encoder", "decoder"):
        if not marian:
            init.matrix(f"model.{side}.embed_positions.weight", MAX_POS + 2, D)
            init.norm(f"model.{side}.layernorm_embedding.", D)
        for i in range(LAYERS):
            p = f"model.{side}.layers.{i}."
            attentions = ["self_attn."] + (["encoder_attn."] if side == "decoder" else [])
            for a in attentions:
                for proj in ("q_proj.", "k_proj.", "v_proj.", "out_proj."):
                    init.linear(p + a + proj, D, D)
                init.norm(p + a[:-1] + "_layer_norm.", D)
            init.linear(p + "fc1.", FFN, D)
            init.linear(p + "fc2.", D, FFN)
            init.norm(p + "final_layer_norm.", D)


def make_marian():
    path = os.path.join(OUT, "marian-tiny")
    os.makedirs(path, exist_ok=True)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(TOKENIZERS, "unigram.model"))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    # Marian's vocab.json: </s> and <unk> first, <pad> last.
    vocab = {"</s>": 0, "<unk>": 1}
    for p in pieces:
        if p not in ("<s>", "</s>", "<unk>"):
            vocab.setdefault(p, len(vocab))
    vocab["<pad>"] = len(vocab)
    for name in ("source.spm", "target.spm"):
        shutil.copy(os.path.join(TOKENIZERS, "unigram.model"), os.path.join(path, name))
    write_json(os.path.join(path, "vocab.json"), vocab)
    pad = vocab["<pad>"]
    config = {"architectures": ["MarianMTModel"], "model_type": "marian", "vocab_size": len(vocab),
              "d_model": D, "encoder_layers": LAYERS, "decoder_layers": LAYERS,
              "encoder_attention_heads": HEADS, "decoder_attention_heads": HEADS,
              "encoder_ffn_dim": FFN, "decoder_ffn_dim": FFN, "activation_function": "swish",
              "max_position_embeddings": MAX_POS, "scale_embedding": True, "pad_token_id": pad,
              "eos_token_id": 0, "decoder_start_token_id": pad, "normalize_before": False}
    write_json(os.path.join(path, "config.json"), config)
    write_json(os.path.join(path, "generation_config.json"),
               {"bad_words_ids": [[pad]], "max_length": 16, "num_beams": 1,
                "decoder_start_token_id": pad, "eos_token_id": 0, "pad_token_id": pad})
    write_json(os.path.join(path, "tokenizer_config.json"),
               {"source_lang": "en", "target_lang": "de", "model_max_length": MAX_POS})
    init = Init(1)
    seq2seq_weights(init, len(vocab), marian=True)
    safetensors_np.save(os.path.join(path, "model.safetensors"), init.w, {"format": "pt"})

    def tokenize(text):
        return [vocab.get(p, vocab["<unk>"]) for p in sp.encode(text, out_type=str)] + [0]
    return path, tokenize, {"bad_words": [[pad]], "max_length": 16}


def make_bart():
    path = os.path.join(OUT, "bart-tiny")
    os.makedirs(path, exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(TOKENIZERS, "bytelevel", name), os.path.join(path, name))
    tokenizer = hf.ByteLevelBpe(os.path.join(path, "vocab.json"), os.path.join(path, "merges.txt"))
    vocab = len(tokenizer.vocab)
    config = {"architectures": ["BartForConditionalGeneration"], "model_type": "bart",
              "vocab_size": vocab, "d_model": D, "encoder_layers": LAYERS,
              "decoder_layers": LAYERS, "encoder_attention_heads": HEADS,
              "decoder_attention_heads": HEADS, "encoder_ffn_dim": FFN, "decoder_ffn_dim": FFN,
              "activation_function": "gelu", "max_position_embeddings": MAX_POS,
              "scale_embedding": False, "bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2,
              "decoder_start_token_id": 2, "forced_bos_token_id": 0, "forced_eos_token_id": 2}
    write_json(os.path.join(path, "config.json"), config)
    write_json(os.path.join(path, "generation_config.json"),
               {"max_length": 16, "min_length": 3, "num_beams": 1, "no_repeat_ngram_size": 3,
                "forced_bos_token_id": 0, "forced_eos_token_id": 2})
    write_json(os.path.join(path, "tokenizer_config.json"), {"model_max_length": MAX_POS})
    init = Init(2)
    seq2seq_weights(init, vocab, marian=False)
    safetensors_np.save(os.path.join(path, "model.safetensors"), init.w, {"format": "pt"})
    return path, tokenizer.encode, {"max_length": 16, "min_length": 3, "no_repeat_ngram": 3,
                                    "forced_bos": 0, "forced_eos": 2}


def make_classifier(family):
    path = os.path.join(OUT, f"{family}-tiny")
    os.makedirs(path, exist_ok=True)
    shutil.copy(os.path.join(TOKENIZERS, "wordpiece", "vocab.txt"), os.path.join(path, "vocab.txt"))
    write_json(os.path.join(path, "tokenizer_config.json"),
               {"do_lower_case": True, "model_max_length": MAX_POS})
    tokenizer = hf.WordPiece(os.path.join(path, "vocab.txt"))
    vocab = len(tokenizer.vocab)
    labels = {"0": "NEGATIVE", "1": "POSITIVE"}
    init = Init(3 if family == "bert" else 4)
    if family == "bert":
        config = {"architectures": ["BertForSequenceClassification"], "model_type": "bert",
                  "vocab_size": vocab, "hidden_size": D, "num_hidden_layers": LAYERS,
                  "num_attention_heads": HEADS, "intermediate_size": FFN, "hidden_act": "gelu",
                  "max_position_embeddings": MAX_POS, "type_vocab_size": 2,
                  "layer_norm_eps": 1e-12, "id2label": labels,
                  "label2id": {v: int(k) for k, v in labels.items()}}
        b = "bert."
        init.matrix(b + "embeddings.word_embeddings.weight", vocab, D)
        init.matrix(b + "embeddings.position_embeddings.weight", MAX_POS, D)
        init.matrix(b + "embeddings.token_type_embeddings.weight", 2, D)
        init.norm(b + "embeddings.LayerNorm.", D)
        for i in range(LAYERS):
            p = f"{b}encoder.layer.{i}."
            for name in ("query", "key", "value"):
                init.linear(p + f"attention.self.{name}.", D, D)
            init.linear(p + "attention.output.dense.", D, D)
            init.norm(p + "attention.output.LayerNorm.", D)
            init.linear(p + "intermediate.dense.", FFN, D)
            init.linear(p + "output.dense.", D, FFN)
            init.norm(p + "output.LayerNorm.", D)
        init.linear(b + "pooler.dense.", D, D)
    else:
        config = {"architectures": ["DistilBertForSequenceClassification"],
                  "model_type": "distilbert", "vocab_size": vocab, "dim": D, "n_layers": LAYERS,
                  "n_heads": HEADS, "hidden_dim": FFN, "activation": "gelu",
                  "max_position_embeddings": MAX_POS, "sinusoidal_pos_embds": False,
                  "id2label": labels, "label2id": {v: int(k) for k, v in labels.items()}}
        b = "distilbert."
        init.matrix(b + "embeddings.word_embeddings.weight", vocab, D)
        init.matrix(b + "embeddings.position_embeddings.weight", MAX_POS, D)
        init.norm(b + "embeddings.LayerNorm.", D)
        for i in range(LAYERS):
            p = f"{b}transformer.layer.{i}."
            for name in ("q_lin", "k_lin", "v_lin", "out_lin"):
                init.linear(p + f"attention.{name}.", D, D)
            init.norm(p + "sa_layer_norm.", D)
            init.linear(p + "ffn.lin1.", FFN, D)
            init.linear(p + "ffn.lin2.", D, FFN)
            init.norm(p + "output_layer_norm.", D)
        init.linear("pre_classifier.", D, D)
    init.linear("classifier.", 2, D)
    write_json(os.path.join(path, "config.json"), config)
    safetensors_np.save(os.path.join(path, "model.safetensors"), init.w, {"format": "pt"})
    return path, tokenizer.encode


def main():
    torch.set_num_threads(2)
    for make in (make_marian, make_bart):
        path, tokenize, options = make()
        model = models.Seq2Seq(path)
        cases = []
        for text in TEXTS_EN:
            ids = tokenize(text)
            encoder = model.encode(ids)
            output, step_logits = model.greedy(ids, **options)
            beams = {}
            for num_beams, penalty, early in ((4, 1.0, False), (3, 0.6, True), (2, 2.0, False)):
                hyps = models.beam_search(model, ids, num_beams, penalty, early,
                                          num_return_sequences=2, **options)
                beams[f"{num_beams}_{penalty}_{int(early)}"] = [
                    {"score": round(score, 6), "ids": hyp} for score, hyp in hyps]
            cases.append({"text": text, "input_ids": ids, "encoder_output": floats(encoder),
                          "greedy_ids": output,
                          "step_logits": [floats(l) for l in step_logits[:2]], "beam": beams})
        write_json(os.path.join(path, "golden.json"), {"generation": options, "cases": cases})
    for family in ("bert", "distilbert"):
        path, tokenize = make_classifier(family)
        model = models.Classifier(path)
        cases = [{"text": t, "input_ids": tokenize(t), "logits": floats(model.logits(tokenize(t)))}
                 for t in TEXTS_SENTIMENT]
        write_json(os.path.join(path, "golden.json"), {"cases": cases})


if __name__ == "__main__":
    main()
