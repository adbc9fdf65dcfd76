#!/usr/bin/python3
"""Trains two small SentencePiece models (unigram; BPE with byte fallback) on
real text from ../shared/data and writes the token ids python3-sentencepiece
produces for real sentences and for tests/golden/tokenizers/tricky.txt.
heed's own SentencePiece encoder must reproduce them id for id
(tests/core/tokenizers/sentencepiece_test.cc).

The corpus text itself is never written into the repository: golden files hold
ids by line number, and the C++ test reads the sentences from ../shared/data.

Usage: /usr/bin/python3 tools/reference/make_tokenizer_fixtures.py [--data ../shared/data]
"""
import argparse
import gzip
import os
import tempfile

import sentencepiece as spm

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "golden", "tokenizers")

# (name, path relative to the data dir, column of a TSV or None, lines)
CORPORA = [
    ("flickr2016_en", "multi30k/test_2016_flickr.en.gz", None, 1000),
    ("flickr2016_de", "multi30k/test_2016_flickr.de.gz", None, 1000),
    ("gettext_en", "debian/gettext-en-de.tsv.gz", 0, 1500),
    ("gettext_de", "debian/gettext-en-de.tsv.gz", 1, 1500),
]


def read_lines(path, column, limit):
    lines = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if column is not None:
                parts = line.split("\t")
                if len(parts) != 2:
                    continue
                line = parts[column]
            lines.append(line)
            if limit and len(lines) >= limit:
                break
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
    args = parser.parse_args()

    train = read_lines(os.path.join(args.data, "multi30k/train.en.gz"), None, 8000)
    train += read_lines(os.path.join(args.data, "multi30k/train.de.gz"), None, 8000)
    train += read_lines(os.path.join(args.data, "debian/gettext-en-de.tsv.gz"), 0, 4000)[2000:]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(train) + "\n")
        train_path = f.name

    models = {
        # Default nmt_nfkc normalization; character coverage below 1 leaves
        # rare characters unknown, which exercises the unknown-token path.
        "unigram": dict(model_type="unigram", vocab_size=1200, character_coverage=0.995),
        "bpe": dict(model_type="bpe", vocab_size=1200, character_coverage=0.995, byte_fallback=True),
    }
    tricky = open(os.path.join(OUT, "tricky.txt"), encoding="utf-8").read().split("\n")[:-1]
    for name, options in models.items():
        prefix = os.path.join(OUT, name)
        spm.SentencePieceTrainer.train(input=train_path, model_prefix=prefix, num_threads=2,
                                       shuffle_input_sentence=False, minloglevel=2, **options)
        os.remove(prefix + ".vocab")
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
        for corpus, path, column, limit in CORPORA:
            lines = read_lines(os.path.join(args.data, path), column, limit)
            with open(f"{prefix}.{corpus}.ids", "w") as out:
                for ids in sp.encode(lines):
                    out.write(" ".join(map(str, ids)) + "\n")
        with open(f"{prefix}.tricky.ids", "w") as out:
            for ids in sp.encode(tricky):
                out.write(" ".join(map(str, ids)) + "\n")
        with open(f"{prefix}.tricky.decoded", "w", encoding="utf-8") as out:
            for ids in sp.encode(tricky):
                out.write(sp.decode(ids) + "\n")
    os.remove(train_path)


if __name__ == "__main__":
    main()
