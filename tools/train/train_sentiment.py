#!/usr/bin/python3
"""Trains the bundled sentiment model (DistilBERT architecture) on the VADER
sentences, with a WordPiece vocabulary learned here, and writes it in Hugging
Face layout. Labels come from the mean of ~20 human ratings (−4…+4):
POSITIVE when mean >= +BAND, NEGATIVE when mean <= −BAND, and the sentences in
between are dropped as neutral. Held out: 5 % of each source by a hash of the
text. Prints accuracy and macro-F1 per source.

Usage: /usr/bin/python3 tools/train/train_sentiment.py [--data ../shared/data]
           [--out models/distilbert-sentiment-demo] > train.log
"""
import argparse
import collections
import os
import random
import sys

import torch

import corpora
import export
from sentiment_labels import BAND, labelled, scores
import trainer
import transformer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import hf_tokenizers  # noqa: E402
from pair_merges import pair_merges  # noqa: E402

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def basic_words(texts):
    basic = hf_tokenizers.WordPiece.__new__(hf_tokenizers.WordPiece)
    basic.lower, basic.strip_accents = True, None
    return collections.Counter(w for t in texts for w in basic.basic(t))


def learn_wordpiece(texts, size, path):
    """WordPiece vocabulary by greedy pair merging (as Hugging Face's trainer
    does): words start as characters, non-initial ones marked '##'; the most
    frequent adjacent pair merges until the vocabulary has `size` entries."""
    counts = basic_words(texts)
    words = [[[w[0]] + ["##" + c for c in w[1:]], n] for w, n in counts.items()]
    vocab = list(SPECIALS)
    seen = set(vocab)
    for symbols, _ in words:
        for s in symbols:
            if s not in seen:
                seen.add(s)
                vocab.append(s)
    for _, joined in pair_merges(words, lambda a, b: a + b[2:]):
        if len(vocab) >= size:
            break
        if joined not in seen:
            seen.add(joined)
            vocab.append(joined)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=corpora.DEFAULT_DATA)
    parser.add_argument("--out", default=os.path.join(HERE, "..", "..", "models",
                                                      "distilbert-sentiment-demo"))
    parser.add_argument("--band", type=float, default=BAND)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    trainer.run_under_jemalloc()
    torch.set_num_threads(args.threads)
    trainer.seed_everything(args.seed)
    os.makedirs(args.out, exist_ok=True)

    train, test = [], {}
    for source in corpora.VADER_SOURCES:
        rows = labelled(corpora.vader(args.data, source), args.band)
        train += [r for r in rows if corpora.split_of(r[0]) == "train"]
        test[source] = [r for r in rows if corpora.split_of(r[0]) == "test"]
    trainer.log(f"{len(train)} training sentences, held out: "
                + ", ".join(f"{s} {len(t)}" for s, t in test.items()))
    vocab_path = os.path.join(args.out, "vocab.txt")
    learn_wordpiece([t for t, _ in train], args.vocab, vocab_path)
    tokenizer = hf_tokenizers.WordPiece(vocab_path)
    max_len = 128
    examples = [(tokenizer.encode(t)[:max_len - 1] + [tokenizer.vocab["[SEP]"]], y)
                for t, y in train]

    labels = {"0": "NEGATIVE", "1": "POSITIVE"}
    config = {"architectures": ["DistilBertForSequenceClassification"],
              "model_type": "distilbert", "vocab_size": len(tokenizer.vocab), "dim": args.dim,
              "n_layers": args.layers, "n_heads": args.dim // 64, "hidden_dim": 4 * args.dim,
              "activation": "gelu", "max_position_embeddings": max_len,
              "sinusoidal_pos_embds": False, "pad_token_id": 0, "dropout": 0.1,
              "attention_dropout": 0.1, "seq_classif_dropout": 0.2, "id2label": labels,
              "label2id": {v: int(k) for k, v in labels.items()}, "torch_dtype": "bfloat16",
              "transformers_version": "4.30.0"}
    model = transformer.DistilBertClassifier(config)

    def make_batches(epoch):
        rng = random.Random(args.seed + epoch)
        order = list(examples)
        rng.shuffle(order)
        return [order[i:i + args.batch] for i in range(0, len(order), args.batch)]

    def step_loss(batch):
        logits = model(trainer.pad([e[0] for e in batch], 0))
        labels = torch.tensor([e[1] for e in batch])
        return trainer.smoothed_loss(logits, labels, -1, 0.0)

    def predict(texts):
        model.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), 128):
                ids = [tokenizer.encode(t)[:max_len - 1] + [tokenizer.vocab["[SEP]"]]
                       for t in texts[i:i + 128]]
                out += model(trainer.pad(ids, 0)).argmax(-1).tolist()
        return out

    def evaluate(epoch):
        line = []
        for source, rows in test.items():
            acc, f1 = scores([y for _, y in rows], predict([t for t, _ in rows]))
            line.append(f"{source} acc {acc:.3f} F1 {f1:.3f}")
        trainer.log(f"epoch {epoch + 1}: " + "; ".join(line))

    seconds = trainer.train(model, args.epochs, make_batches, step_loss, args.lr, warmup=200,
                            evaluate=evaluate, weight_decay=0.01, log_every=200)
    export.save_weights(model, args.out, "BF16")
    export.write_json(os.path.join(args.out, "config.json"),
                      config | {"dropout": 0.0, "attention_dropout": 0.0,
                                "seq_classif_dropout": 0.0})
    export.write_json(os.path.join(args.out, "tokenizer_config.json"),
                      {"do_lower_case": True, "model_max_length": max_len,
                       "tokenizer_class": "DistilBertTokenizer"})
    export.load_rounded(model, args.out)
    evaluate(args.epochs - 1)
    diff = export.check_classifier(model, args.out, examples[0][0])
    trainer.log(f"reference vs training module, max |logit difference| {diff:.2e}; "
                f"training took {seconds / 60:.1f} min")
    assert diff < 1e-3, diff


if __name__ == "__main__":
    main()
