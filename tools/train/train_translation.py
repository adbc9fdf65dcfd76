#!/usr/bin/python3
"""Trains the bundled English→German Marian model on Multi30k train plus the
Debian gettext pairs (hash split), with a shared SentencePiece vocabulary, and
writes it in Hugging Face layout. Prints progress; evaluates BLEU (sacreBLEU
13a, cased) on Multi30k test_2016_flickr and on the held-out gettext pairs.

Usage: /usr/bin/python3 tools/train/train_translation.py [--data ../shared/data]
           [--out models/marian-en-de-demo] > train.log
"""
import argparse
import json
import os
import random
import tempfile
import time

import sentencepiece as spm
import torch

import bleu
import corpora
import export
import trainer
import transformer

HERE = os.path.dirname(os.path.abspath(__file__))


def train_sentencepiece(texts, out, vocab_size, seed):
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt") as f:
        random.Random(seed).shuffle(texts)
        f.write("\n".join(texts) + "\n")
        f.flush()
        prefix = os.path.join(out, "spm")
        spm.SentencePieceTrainer.train(
            input=f.name, model_prefix=prefix, vocab_size=vocab_size, model_type="unigram",
            character_coverage=1.0, eos_id=0, unk_id=1, bos_id=-1, pad_id=-1,
            num_threads=2, minloglevel=2)
    os.replace(prefix + ".model", os.path.join(out, "source.spm"))
    os.remove(prefix + ".vocab")
    with open(os.path.join(out, "source.spm"), "rb") as src, \
            open(os.path.join(out, "target.spm"), "wb") as dst:
        dst.write(src.read())
    sp = spm.SentencePieceProcessor(model_file=os.path.join(out, "source.spm"))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    vocab["<pad>"] = len(vocab)
    export.write_json(os.path.join(out, "vocab.json"), vocab)
    return sp, vocab


def translate(model, sp, sources, pad, max_len):
    encoded = [sp.encode(text) + [0] for text in sources]
    outputs = trainer.greedy_in_length_order(model, encoded, pad, pad, 0, max_len)
    return [sp.decode([t for t in ids if t != pad]) for ids in outputs]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=corpora.DEFAULT_DATA)
    parser.add_argument("--out", default=os.path.join(HERE, "..", "..", "models", "marian-en-de-demo"))
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=3000)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bench-steps", type=int, default=0,
                        help="time this many steps with and without bf16 autocast, then exit")
    args = parser.parse_args()
    trainer.run_under_jemalloc()
    torch.set_num_threads(args.threads)
    trainer.seed_everything(args.seed)
    os.makedirs(args.out, exist_ok=True)

    multi30k = corpora.multi30k(args.data, "train")
    gettext = corpora.gettext(args.data, "train")
    trainer.log(f"{len(multi30k)} Multi30k + {len(gettext)} gettext training pairs")
    sp, vocab = train_sentencepiece([t for p in multi30k + gettext for t in p], args.out,
                                    args.vocab - 1, args.seed)
    pad = vocab["<pad>"]
    examples = []
    for en, de in multi30k + gettext:
        src, tgt = sp.encode(en) + [0], sp.encode(de)
        if len(src) <= 128 and len(tgt) < 128:
            examples.append((src, [pad] + tgt, tgt + [0]))
    trainer.log(f"{len(examples)} pairs after the 128-token limit, "
                f"{sum(len(e[2]) for e in examples):,} target tokens per epoch")

    config = {"architectures": ["MarianMTModel"], "model_type": "marian",
              "vocab_size": len(vocab), "d_model": args.d_model,
              "encoder_layers": args.layers, "decoder_layers": args.layers,
              "encoder_attention_heads": 4, "decoder_attention_heads": 4,
              "encoder_ffn_dim": 4 * args.d_model, "decoder_ffn_dim": 4 * args.d_model,
              "activation_function": "swish", "max_position_embeddings": 512,
              "scale_embedding": True, "static_position_embeddings": True,
              "share_encoder_decoder_embeddings": True, "normalize_before": False,
              "pad_token_id": pad, "eos_token_id": 0, "decoder_start_token_id": pad,
              "forced_eos_token_id": 0, "dropout": 0.1, "attention_dropout": 0.1,
              "torch_dtype": "bfloat16", "transformers_version": "4.30.0"}
    model = transformer.Seq2Seq(config)

    def make_batches(epoch):
        return trainer.token_batches(examples, args.max_tokens, random.Random(args.seed + epoch))

    def step_loss(batch):
        src = trainer.pad([e[0] for e in batch], pad)
        logits = model(src, trainer.pad([e[1] for e in batch], pad))
        return trainer.smoothed_loss(logits, trainer.pad([e[2] for e in batch], pad), pad, 0.1)

    if args.bench_steps:
        for bf16 in (False, True):
            batches = make_batches(0)[:args.bench_steps]
            start, tokens = time.time(), 0
            for batch in batches:
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    loss, _, n = step_loss(batch)
                loss.backward()
                tokens += n
            trainer.log(f"bf16 {bf16}: {tokens / (time.time() - start):,.0f} target tokens/s")
        return

    val = corpora.multi30k(args.data, "val")[:300]

    def evaluate(epoch):
        hyps = translate(model, sp, [en for en, _ in val], pad, 96)
        trainer.log(f"epoch {epoch + 1}: val[:300] BLEU {bleu.corpus_bleu(hyps, [[de for _, de in val]])[0]:.2f}"
                    f" | {val[0][0]} → {hyps[0]}")

    seconds = trainer.train(model, args.epochs, make_batches, step_loss, args.lr, warmup=400,
                            evaluate=evaluate)
    export.save_weights(model, args.out, "BF16")
    export.write_json(os.path.join(args.out, "config.json"),
                      {k: v for k, v in config.items() if k not in ("dropout", "attention_dropout")}
                      | {"dropout": 0.0, "attention_dropout": 0.0})
    export.write_json(os.path.join(args.out, "generation_config.json"),
                      {"bad_words_ids": [[pad]], "decoder_start_token_id": pad, "eos_token_id": 0,
                       "forced_eos_token_id": 0, "max_length": 256, "num_beams": 1,
                       "pad_token_id": pad})
    export.write_json(os.path.join(args.out, "tokenizer_config.json"),
                      {"source_lang": "en", "target_lang": "de", "model_max_length": 512,
                       "separate_vocabs": False, "tokenizer_class": "MarianTokenizer"})
    export.load_rounded(model, args.out)
    sample = sp.encode(val[1][0]) + [0]
    diff = export.check_seq2seq(model, args.out, sample, [pad] + sp.encode(val[1][1]))
    trainer.log(f"reference vs training module, max |logit difference| {diff:.2e}")
    assert diff < 1e-3, diff

    results = {"training_minutes": round(seconds / 60, 1), "epochs": args.epochs}
    for name, pairs in (("test_2016_flickr", corpora.multi30k(args.data, "test_2016_flickr")),
                        ("gettext_heldout", corpora.gettext(args.data, "test"))):
        hyps = translate(model, sp, [en for en, _ in pairs], pad, 256)
        score, p, bp, hyp_len, ref_len = bleu.corpus_bleu(hyps, [[de for _, de in pairs]])
        results[name] = {"pairs": len(pairs), "bleu": round(score, 2),
                         "precisions": [round(x, 1) for x in p], "bp": round(bp, 3),
                         "hyp_len": hyp_len, "ref_len": ref_len}
        trainer.log(f"{name}: {results[name]}")
    with open(os.path.join(args.out, "eval_results.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
