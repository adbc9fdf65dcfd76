#!/usr/bin/python3
"""Builds a small WordPiece vocabulary (from the VADER sentences) and learns a
small byte-level BPE (from Debian package descriptions), both from real text in
../shared/data, and writes the ids that the independent Python tokenizers in
hf_tokenizers.py produce for real sentences and for tricky.txt. heed's C++
tokenizers must reproduce them (tests/core/tokenizers/).

Golden files hold ids by line number; the C++ tests read the text itself from
../shared/data, so no corpus text enters the repository.

Usage: /usr/bin/python3 tools/reference/make_wordpiece_bpe_fixtures.py [--data DIR]
"""
import argparse
import collections
import gzip
import itertools
import json
import os

import hf_tokenizers as hf
from pair_merges import pair_merges

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "golden", "tokenizers")

VADER = ["movieReviewSnippets", "amazonReviewSnippets", "nytEditorialSnippets", "tweets"]


def vader_lines(data, name, limit):
    lines = []
    with gzip.open(os.path.join(data, "vader", f"{name}_GroundTruth.txt.gz"), "rt",
                   encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                lines.append(parts[2])
            if len(lines) >= limit:
                break
    return lines


def description_lines(data, column, limit):
    lines = []
    with gzip.open(os.path.join(data, "debian", "descriptions.tsv.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2:
                lines.append(parts[column])
            if len(lines) >= limit:
                break
    return lines


def build_wordpiece_vocab(texts, path):
    basic = hf.WordPiece.__new__(hf.WordPiece)
    basic.lower, basic.strip_accents = True, None
    words = collections.Counter(w for t in texts for w in basic.basic(t))
    chars = sorted({c for w in words for c in w})
    suffixes = collections.Counter()
    for w, n in words.items():
        for k in range(2, 6):
            if len(w) > k + 1:
                suffixes["##" + w[-k:]] += n
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += chars + ["##" + c for c in chars]
    vocab += [w for w, _ in words.most_common(2500) if w not in vocab]
    vocab += [s for s, _ in suffixes.most_common(400) if s not in vocab]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")


def learn_bpe(texts, merges_count, vocab_path, merges_path):
    byte_map = hf.bytes_to_unicode()
    counts = collections.Counter()
    for t in texts:
        for chunk in hf.GPT2_PATTERN.findall(t):
            counts["".join(byte_map[b] for b in chunk.encode("utf-8"))] += 1
    words = [[list(w), n] for w, n in counts.items()]
    merges = [pair for pair, _ in itertools.islice(pair_merges(words, str.__add__), merges_count)]
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for b in range(256):
        vocab.setdefault(byte_map[b], len(vocab))
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab["<mask>"] = len(vocab)
    with open(vocab_path, "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(merges_path, "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))


def write_ids(path, rows):
    with open(path, "w") as f:
        for ids in rows:
            f.write(" ".join(map(str, ids)) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.path.join(HERE, "..", "..", "..", "shared", "data"))
    args = parser.parse_args()
    tricky = open(os.path.join(OUT, "tricky.txt"), encoding="utf-8").read().split("\n")[:-1]

    wp_dir = os.path.join(OUT, "wordpiece")
    os.makedirs(wp_dir, exist_ok=True)
    build_wordpiece_vocab(vader_lines(args.data, "movieReviewSnippets", 6000)
                          + vader_lines(args.data, "tweets", 2000), os.path.join(wp_dir, "vocab.txt"))
    wp = hf.WordPiece(os.path.join(wp_dir, "vocab.txt"))
    for name in VADER:
        write_ids(os.path.join(OUT, f"wordpiece.{name}.ids"),
                  [wp.encode(t) for t in vader_lines(args.data, name, 1000)])
    write_ids(os.path.join(OUT, "wordpiece.tricky.ids"), [wp.encode(t) for t in tricky])

    bpe_dir = os.path.join(OUT, "bytelevel")
    os.makedirs(bpe_dir, exist_ok=True)
    learn_bpe(description_lines(args.data, 0, 4000), 1500, os.path.join(bpe_dir, "vocab.json"),
              os.path.join(bpe_dir, "merges.txt"))
    bpe = hf.ByteLevelBpe(os.path.join(bpe_dir, "vocab.json"), os.path.join(bpe_dir, "merges.txt"))
    for name, column in (("descriptions", 0), ("synopses", 1)):
        write_ids(os.path.join(OUT, f"bytelevel.{name}.ids"),
                  [bpe.encode(t) for t in description_lines(args.data, column, 1000)])
    rows = [bpe.encode(t) for t in tricky]
    write_ids(os.path.join(OUT, "bytelevel.tricky.ids"), rows)
    with open(os.path.join(OUT, "bytelevel.tricky.decoded"), "w", encoding="utf-8") as f:
        for ids in rows:
            f.write(bpe.decode(ids) + "\n")


if __name__ == "__main__":
    main()
