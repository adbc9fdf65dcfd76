#!/usr/bin/python3
"""Writes what python3-sentencepiece makes of ../shared/data with the bundled
Marian model's SentencePiece files (models/marian-en-de-demo/{source,target}.spm),
so that tests/core/tokenizers/bundled_sentencepiece_test.cc can hold heed's
own encoder to it id for id, exact Viterbi ties included:

- every line of every corpus in ../shared/data: one FNV-1a 64 hash per block
  of 100 lines (the ids of each line joined by spaces, lines ended by "\\n"),
  so that the corpus text stays out of the repository and the files stay
  small; `--show CORPUS:LINE` prints the reference pieces of one line;
- tests/golden/tokenizers/ties.txt (digit runs, decimals, repeated
  characters): the ids themselves.

Usage: /usr/bin/python3 tools/reference/make_bundled_spm_fixtures.py [--data DIR]
"""
import argparse
import gzip
import os

import sentencepiece as spm

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MODEL_DIR = os.path.join(ROOT, "models", "marian-en-de-demo")
OUT = os.path.join(ROOT, "tests", "golden", "tokenizers", "marian-en-de-demo")
TIES = os.path.join(ROOT, "tests", "golden", "tokenizers", "ties.txt")
BLOCK = 100
# Every corpus in ../shared/data (names are the golden files' middle part).
CORPORA = [
    ("descriptions", "debian/descriptions.tsv.gz"),
    ("gettext", "debian/gettext-en-de.tsv.gz"),
    ("flickr2016_de", "multi30k/test_2016_flickr.de.gz"),
    ("flickr2016_en", "multi30k/test_2016_flickr.en.gz"),
    ("flickr2017_de", "multi30k/test_2017_flickr.de.gz"),
    ("flickr2017_en", "multi30k/test_2017_flickr.en.gz"),
    ("train_de", "multi30k/train.de.gz"),
    ("train_en", "multi30k/train.en.gz"),
    ("val_de", "multi30k/val.de.gz"),
    ("val_en", "multi30k/val.en.gz"),
    ("vader_amazon", "vader/amazonReviewSnippets_GroundTruth.txt.gz"),
    ("vader_movies", "vader/movieReviewSnippets_GroundTruth.txt.gz"),
    ("vader_nyt", "vader/nytEditorialSnippets_GroundTruth.txt.gz"),
    ("vader_tweets", "vader/tweets_GroundTruth.txt.gz"),
]


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def read_lines(path):
    # Python's text mode splits on \n, \r\n and \r; the C++ reader does too.
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    parser.add_argument("--show", help="CORPUS:LINE (0-based): print the reference pieces")
    args = parser.parse_args()
    processors = {name: spm.SentencePieceProcessor(model_file=os.path.join(MODEL_DIR, f"{name}.spm"))
                  for name in ("source", "target")}
    if args.show:
        corpus, line = args.show.split(":")
        text = read_lines(os.path.join(args.data, dict(CORPORA)[corpus]))[int(line)]
        for name, sp in processors.items():
            print(name, sp.encode(text, out_type=str), sp.encode(text))
        return
    os.makedirs(OUT, exist_ok=True)
    ties = open(TIES, encoding="utf-8").read().split("\n")[:-1]
    for name, sp in processors.items():
        with open(os.path.join(OUT, f"{name}.ties.ids"), "w") as out:
            for ids in sp.encode(ties):
                out.write(" ".join(map(str, ids)) + "\n")
        for corpus, path in CORPORA:
            lines = read_lines(os.path.join(args.data, path))
            encoded = sp.encode(lines)
            with open(os.path.join(OUT, f"{name}.{corpus}.fnv"), "w") as out:
                for first in range(0, len(encoded), BLOCK):
                    block = "".join(" ".join(map(str, ids)) + "\n"
                                    for ids in encoded[first:first + BLOCK])
                    out.write(f"{first} {fnv1a64(block.encode()):016x}\n")


if __name__ == "__main__":
    main()
