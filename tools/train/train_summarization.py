#!/usr/bin/python3
"""Trains the bundled summarization model (BART architecture) to write a
Debian package's one-line synopsis from its long description, with a
byte-level BPE vocabulary whose merges are learned here from the training
descriptions, and writes it in Hugging Face layout.

Data: the "train" side of corpora.description_splits (near-duplicate clusters
held out whole), plus the descriptions of other Debian suites and sections
(debian_archive.py, downloaded once into --cache) whose clusters reach no
"val" or "test" pair. Each epoch draws at most --per-cluster pairs of a
near-duplicate cluster and adds auxiliary copy examples (summarization_data.py:
the description's opening, to be reproduced from the description with a span
masked), so that the model learns to copy names rather than recall them.
Sources end with one </s>, as heed encodes them. Prints progress, and ROUGE
on 300 "val" pairs after each epoch (tools/train/evaluate.py measures the
shipped model through heed on "test"). Checkpoints go to --work every few
minutes; run the same command again to resume an interrupted run (and empty
--work before a run with other settings).

Usage: /usr/bin/python3 tools/train/train_summarization.py [--data ../shared/data]
           [--out models/bart-synopsis-demo] [--work ~/.cache/heed-train/summarization] > train.log
"""
import argparse
import os
import pickle
import random
import shutil
import sys

import torch

import corpora
import debian_archive
import export
import rouge
import summarization_data
import trainer
import transformer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import hf_tokenizers  # noqa: E402
from make_wordpiece_bpe_fixtures import learn_bpe  # noqa: E402


class CachedBpe(hf_tokenizers.ByteLevelBpe):
    """The reference byte-level BPE with a per-word cache (the corpus repeats words)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.cache = {}

    def bpe(self, word):
        if word not in self.cache:
            self.cache[word] = super().bpe(word)
        return self.cache[word]


def summarize(model, tokenizer, texts, max_source, max_len):
    encoded = [summarization_data.source_ids(tokenizer, t, max_source) for t in texts]
    outputs = trainer.greedy_in_length_order(model, encoded, 1, 2, 2, max_len, forced_bos=0)
    return [tokenizer.decode(ids).strip() for ids in outputs]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=corpora.DEFAULT_DATA)
    parser.add_argument("--out", default=os.path.join(HERE, "..", "..", "models", "bart-synopsis-demo"))
    parser.add_argument("--work", default=os.path.join(debian_archive.DEFAULT_CACHE,
                                                       "summarization"))
    parser.add_argument("--cache", default=debian_archive.DEFAULT_CACHE)
    parser.add_argument("--no-extra", action="store_true",
                        help="train on ../shared/data's bookworm descriptions only")
    parser.add_argument("--epochs", type=float, default=3.3)
    parser.add_argument("--per-cluster", type=int, default=8,
                        help="at most this many pairs of one near-duplicate cluster per epoch "
                             "(drawn anew each epoch), so that large package families are "
                             "not learnt by heart")
    parser.add_argument("--copy-share", type=float, default=0.3,
                        help="auxiliary copy examples (summarization_data.copy_example) per "
                             "summarization pair")
    parser.add_argument("--copy-tokens", type=int, default=24)
    parser.add_argument("--max-tokens", type=int, default=6000)
    parser.add_argument("--max-source", type=int, default=256)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--encoder-layers", type=int, default=3)
    parser.add_argument("--decoder-layers", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--merges", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--num-beams", type=int, default=4, help="generation_config default")
    parser.add_argument("--repetition-penalty", type=float, default=1.0,
                        help="generation_config default")
    parser.add_argument("--encoder-repetition-penalty", type=float, default=2.0,
                        help="generation_config default (favours copying from the input)")
    parser.add_argument("--no-adjacent-repeat-ngram-size", type=int, default=3,
                        help="generation_config default (heed's stutter guard)")
    args = parser.parse_args()
    trainer.run_under_jemalloc()
    torch.set_num_threads(args.threads)
    trainer.seed_everything(args.seed)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)

    vocab_path, merges_path = (os.path.join(args.work, n) for n in ("vocab.json", "merges.txt"))
    prepared = os.path.join(args.work, "prepared.pickle")
    if os.path.exists(prepared):  # a resumed run: the same data and vocabulary
        with open(prepared, "rb") as f:
            examples, clusters, monitor = pickle.load(f)
        tokenizer = CachedBpe(vocab_path, merges_path)
    else:
        import near_duplicates
        splits = corpora.description_splits(args.data)
        extra = [] if args.no_extra else corpora.training_extras(
            splits, debian_archive.descriptions(args.cache))
        train_pairs = splits["train"] + extra
        monitor = splits["val"][:300]
        leak = corpora.near_duplicate_share([d for d, _ in splits["test"]],
                                            [d for d, _ in train_pairs])
        trainer.log(f"{len(splits['train'])} training pairs + {len(extra)} from other suites "
                    f"and sections, {len(splits['val'])} validation, {len(splits['test'])} "
                    f"held out ({100 * leak:.2f} % with a near-duplicate in training)")
        if not (os.path.exists(vocab_path) and os.path.exists(merges_path)):
            learn_bpe([t for p in train_pairs for t in p], args.merges, vocab_path, merges_path)
        tokenizer = CachedBpe(vocab_path, merges_path)
        cluster_of = near_duplicates.clusters([d for d, _ in train_pairs])
        examples, clusters = [], []
        for (description, synopsis), cluster in zip(train_pairs, cluster_of):
            src = summarization_data.source_ids(tokenizer, description, args.max_source)
            tgt = tokenizer.encode(synopsis)
            if len(tgt) <= 48:
                examples.append((src, [2] + tgt[:-1], tgt))
                clusters.append(cluster)
        with open(prepared + ".part", "wb") as f:
            pickle.dump((examples, clusters, monitor), f)
        os.replace(prepared + ".part", prepared)
    trainer.log(f"{args.merges} merges, vocabulary {len(tokenizer.vocab)}; "
                f"{len(examples)} pairs, {sum(len(e[0]) for e in examples):,} source and "
                f"{sum(len(e[2]) for e in examples):,} target tokens, "
                f"{len(set(clusters))} near-duplicate clusters")

    config = {"architectures": ["BartForConditionalGeneration"], "model_type": "bart",
              "vocab_size": len(tokenizer.vocab), "d_model": args.d_model,
              "encoder_layers": args.encoder_layers, "decoder_layers": args.decoder_layers,
              "encoder_attention_heads": args.heads, "decoder_attention_heads": args.heads,
              "encoder_ffn_dim": 4 * args.d_model, "decoder_ffn_dim": 4 * args.d_model,
              "activation_function": "gelu", "max_position_embeddings": args.max_source,
              "scale_embedding": False, "normalize_before": False, "add_final_layer_norm": False,
              "bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2,
              "decoder_start_token_id": 2, "forced_bos_token_id": 0, "forced_eos_token_id": 2,
              "dropout": 0.1, "attention_dropout": 0.1, "torch_dtype": "bfloat16",
              "transformers_version": "4.30.0"}
    model = transformer.Seq2Seq(config)

    def make_batches(epoch):
        rng = random.Random(args.seed + epoch)
        return trainer.token_batches(
            summarization_data.epoch_examples(examples, clusters, rng, args.per_cluster,
                                              args.copy_share, args.copy_tokens,
                                              tokenizer.vocab["<mask>"]),
            args.max_tokens, rng)

    def step_loss(batch):
        src = trainer.pad([e[0] for e in batch], 1)
        logits = model(src, trainer.pad([e[1] for e in batch], 1))
        return trainer.smoothed_loss(logits, trainer.pad([e[2] for e in batch], 1), 1, 0.1)

    def evaluate(epoch):
        hyps = summarize(model, tokenizer, [d for d, _ in monitor], args.max_source, 32)
        scores = rouge.corpus_rouge([s for _, s in monitor], hyps)
        trainer.log(f"epoch {epoch + 1}: val[:300] "
                    + " ".join(f"{k} {v:.1f}" for k, v in scores.items()) + f" | {hyps[0]}")

    seconds = trainer.train(model, args.epochs, make_batches, step_loss, args.lr, warmup=300,
                            evaluate=evaluate, checkpoint=os.path.join(args.work, "checkpoint.pt"))
    for path in (vocab_path, merges_path):
        shutil.copy(path, args.out)
    export.save_weights(model, args.out, "BF16")
    export.write_json(os.path.join(args.out, "config.json"),
                      config | {"dropout": 0.0, "attention_dropout": 0.0})
    export.write_json(os.path.join(args.out, "generation_config.json"),
                      {"bos_token_id": 0, "decoder_start_token_id": 2, "eos_token_id": 2,
                       "forced_bos_token_id": 0, "forced_eos_token_id": 2, "max_length": 32,
                       "min_length": 3, "no_repeat_ngram_size": 3, "num_beams": args.num_beams,
                       "repetition_penalty": args.repetition_penalty,
                       "encoder_repetition_penalty": args.encoder_repetition_penalty,
                       "no_adjacent_repeat_ngram_size": args.no_adjacent_repeat_ngram_size,
                       "pad_token_id": 1})
    export.write_json(os.path.join(args.out, "tokenizer_config.json"),
                      {"model_max_length": args.max_source, "tokenizer_class": "BartTokenizer",
                       "add_prefix_space": False})
    export.load_rounded(model, args.out)
    src = summarization_data.source_ids(tokenizer, monitor[0][0], args.max_source)
    tgt = tokenizer.encode(monitor[0][1])
    diff = export.check_seq2seq(model, args.out, src, [2] + tgt[:-1])
    trainer.log(f"reference vs training module, max |logit difference| {diff:.2e}; "
                f"training took {seconds / 60:.1f} min")
    assert diff < 1e-3, diff


if __name__ == "__main__":
    main()
