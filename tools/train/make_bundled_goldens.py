#!/usr/bin/python3
"""Expected outputs of the bundled models on samples of their evaluation sets,
computed by the independent PyTorch reference (tools/reference/models.py, in
double precision) with each model's generation_config.json. heed must
reproduce them (tests/core/pipelines/bundled_models_test.cc).

The inputs are named by corpus file and line number, never copied: the test
reads them from ../shared/data as this script does.

Usage: /usr/bin/python3 tools/train/make_bundled_goldens.py [--data ../shared/data]
"""
import argparse
import json
import os
import sys

import sentencepiece as spm
import torch

import corpora

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import hf_tokenizers  # noqa: E402
import models  # noqa: E402

OUT = os.path.join(ROOT, "tests", "golden", "bundled")
TRANSLATION, SUMMARIZATION, SENTIMENT = ("marian-en-de-demo", "bart-synopsis-demo",
                                         "distilbert-sentiment-demo")


def numbered_lines(data, file, column, wanted, limit):
    """[(line number, text)] of the first `limit` lines whose text `wanted` accepts."""
    rows = []
    for number, line in enumerate(corpora.read_lines(os.path.join(data, file))):
        parts = line.split("\t")
        text = parts[column] if column >= 0 and len(parts) > column else line
        if wanted(text, parts):
            rows.append((number, text))
            if len(rows) == limit:
                break
    return rows


def truncate(ids, limit):
    return ids if len(ids) <= limit else ids[:limit - 1] + ids[-1:]


def greedy_options(model_dir):
    """Greedy search with the model's length, forcing and n-gram settings; its
    num_beams, repetition penalties and no_adjacent_repeat_ngram_size stay off
    (the test asks heed for plain greedy search too)."""
    with open(os.path.join(model_dir, "generation_config.json")) as f:
        g = json.load(f)
    return {"max_length": g["max_length"], "min_length": g.get("min_length", 0),
            "bad_words": g.get("bad_words_ids", []),
            "forced_bos": g.get("forced_bos_token_id"),
            "forced_eos": g.get("forced_eos_token_id"),
            "no_repeat_ngram": g.get("no_repeat_ngram_size", 0)}


def generation_cases(model_dir, encode, samples):
    model = models.Seq2Seq(model_dir)
    options = greedy_options(model_dir)
    limit = model.config["max_position_embeddings"]
    groups = []
    for file, column, rows in samples:
        outputs = []
        for _, text in rows:
            ids, _ = model.greedy(truncate(encode(text), limit), **options)
            outputs.append(ids[1:])  # without the decoder start token
        groups.append({"file": file, "column": column, "lines": [n for n, _ in rows],
                       "output_ids": outputs})
        print(f"{os.path.basename(model_dir)}: {file}: {len(rows)} cases", flush=True)
    return {"model": os.path.basename(model_dir), "groups": groups}


def write(name, value):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        json.dump(value, f, separators=(",", ":"))
        f.write("\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=corpora.DEFAULT_DATA)
    parser.add_argument("--models", default=os.path.join(ROOT, "models"))
    parser.add_argument("--per-set", type=int, default=100)
    parser.add_argument("--only", choices=["translation", "summarization", "sentiment"])
    args = parser.parse_args()
    torch.set_num_threads(2)
    held_out = lambda text, parts: len(parts) == 2 and corpora.split_of(text) == "test"  # noqa: E731
    n = args.per_set

    if args.only in (None, "translation"):
        path = os.path.join(args.models, TRANSLATION)
        sp = spm.SentencePieceProcessor(model_file=os.path.join(path, "source.spm"))
        with open(os.path.join(path, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        encode = lambda text: [vocab.get(p, vocab["<unk>"])  # noqa: E731
                               for p in sp.encode(text, out_type=str)] + [vocab["</s>"]]
        samples = [("multi30k/test_2016_flickr.en.gz", -1,
                    numbered_lines(args.data, "multi30k/test_2016_flickr.en.gz", -1,
                                   lambda t, p: True, n)),
                   ("debian/gettext-en-de.tsv.gz", 0,
                    numbered_lines(args.data, "debian/gettext-en-de.tsv.gz", 0, held_out, n))]
        write("translation.json", generation_cases(path, encode, samples))

    if args.only in (None, "summarization"):
        path = os.path.join(args.models, SUMMARIZATION)
        bpe = hf_tokenizers.ByteLevelBpe(os.path.join(path, "vocab.json"),
                                         os.path.join(path, "merges.txt"))
        # The summarizer's held-out side is the split by near-duplicate cluster.
        test = {d for d, _ in corpora.description_splits(args.data)["test"]}
        samples = [("debian/descriptions.tsv.gz", 0,
                    numbered_lines(args.data, "debian/descriptions.tsv.gz", 0,
                                   lambda text, parts: len(parts) == 2 and text in test, 2 * n))]
        write("summarization.json", generation_cases(path, bpe.encode, samples))

    if args.only in (None, "sentiment"):
        path = os.path.join(args.models, SENTIMENT)
        model = models.Classifier(path)
        wordpiece = hf_tokenizers.WordPiece(os.path.join(path, "vocab.txt"))
        limit = model.config["max_position_embeddings"]
        groups = []
        for source, name in corpora.VADER_SOURCES.items():
            file = f"vader/{name}_GroundTruth.txt.gz"
            rows = numbered_lines(args.data, file, 2,
                                  lambda t, p: len(p) >= 3 and corpora.split_of(t) == "test",
                                  n // 2)
            logits = [[round(float(x), 6) for x in model.logits(truncate(wordpiece.encode(t), limit))]
                      for _, t in rows]
            groups.append({"file": file, "column": 2, "lines": [n for n, _ in rows],
                           "logits": logits})
            print(f"{SENTIMENT}: {file}: {len(rows)} cases", flush=True)
        write("sentiment.json", {"model": SENTIMENT, "groups": groups})


if __name__ == "__main__":
    main()
