#!/usr/bin/python3
"""Measures the bundled models as heed serves them: starts build/server/heed-server
on the models directory, sends the held-out evaluation sets over gRPC and
prints the figures the model cards quote, next to their baselines.

  translation    BLEU (sacreBLEU 13a, cased) on Multi30k test_2016_flickr and
                 test_2017_flickr and on the held-out gettext pairs, greedy and beam 4,
                 also without the pairs that have a near-duplicate in training, next
                 to copying the English unchanged
  summarization  ROUGE-1/2/L F on the held-out descriptions, next to lead-N words
  sentiment      accuracy and macro-F1 per VADER source on the held-out sentences,
                 next to the majority label
  long_sentiment accuracy on long texts made of held-out sentences (a known
                 majority label), truncated to the model's length against
                 classified in overlapping windows (long_input CHUNKS)

Usage: /usr/bin/python3 tools/train/evaluate.py [--data ../shared/data]
           [--compute-type float32|bfloat16|int8] [--only translation|summarization|sentiment|long_sentiment]
"""
import argparse
import concurrent.futures
import functools
import json
import os
import random
import socket
import subprocess
import sys
import time

import grpc

import bleu
import corpora
import rouge
from sentiment_labels import BAND, labelled, scores

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "build", "client", "python"))
from heed.v1 import inference_pb2, inference_pb2_grpc  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, models_dir, compute_type):
        self.port = free_port()
        self.process = subprocess.Popen(
            [os.path.join(ROOT, "build", "server", "heed-server"), f"--models_dir={models_dir}",
             f"--grpc_address=127.0.0.1:{self.port}", f"--metrics_address=127.0.0.1:{free_port()}",
             f"--compute_type={compute_type}",
             # An evaluation queues its whole set at once: no request may be
             # refused for the queue's wait.
             "--max_queue_wait=0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in self.process.stdout:
            if line.rstrip().endswith(" info serving"):
                break
        else:
            raise RuntimeError("heed-server exited before serving")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = inference_pb2_grpc.InferenceStub(self.channel)

    def close(self):
        self.channel.close()
        self.process.terminate()
        self.process.wait(30)


def parallel(function, items, workers=16):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, items))


def translate(stub, texts, beams):
    def one(text):
        options = inference_pb2.GenerationOptions()
        if beams > 1:
            options.beam_size = beams
        request = inference_pb2.TranslateRequest(text=text, options=options, truncate_input=True)
        return stub.Translate(request, timeout=120).text
    return parallel(one, texts)


def evaluate_translation(stub, data):
    """BLEU of each held-out set, greedy and beam 4, on all its pairs and on
    those whose English has no near-duplicate among the training pairs'
    (corpora.near_duplicate_flags; the gettext split hashes the exact text,
    so variants of one message fall on both sides), next to the trivial
    baseline that copies the English unchanged."""
    results = {}
    sets = {name: corpora.multi30k(data, name) for name in ("test_2016_flickr", "test_2017_flickr")}
    sets["gettext_heldout"] = corpora.gettext(data, "test")
    train_english = [en for en, _ in
                     corpora.multi30k(data, "train") + corpora.gettext(data, "train")]

    def scored(hyps, pairs):
        score, p, bp, _, _ = bleu.corpus_bleu(hyps, [[de for _, de in pairs]])
        return {"pairs": len(pairs), "BLEU": round(score, 2), "BP": round(bp, 3),
                "precisions": [round(x, 1) for x in p]}
    for name, pairs in sets.items():
        seen = corpora.near_duplicate_flags([en for en, _ in pairs], train_english)
        unseen = [i for i, flag in enumerate(seen) if not flag]
        results[f"{name} near-duplicate share"] = round(sum(seen) / len(pairs), 4)
        for subset, rows in (("", range(len(pairs))), (" without near-duplicates", unseen)):
            chosen = [pairs[i] for i in rows]
            results[f"{name}{subset} copy the English"] = scored([en for en, _ in chosen], chosen)
        for beams in (1, 4):
            start = time.time()
            hyps = translate(stub, [en for en, _ in pairs], beams)
            seconds = round(time.time() - start, 1)
            results[f"{name} beam {beams}"] = scored(hyps, pairs) | {"seconds": seconds}
            results[f"{name} without near-duplicates beam {beams}"] = scored(
                [hyps[i] for i in unseen], [pairs[i] for i in unseen])
        for key in [k for k in results if k.startswith(name)]:
            print(f"translation {key}: {results[key]}", flush=True)
    return results


@functools.lru_cache(maxsize=None)
def _held_out_descriptions(data, split):
    """(pairs, share with a near-duplicate in the training side) of a split
    (see evaluate_summarization); computed once per process."""
    if split == "legacy":
        pairs = corpora.descriptions(data, "test")
        train = corpora.descriptions(data, "train")
    else:
        splits = corpora.description_splits(data)
        pairs = splits["test" if split == "clusters" else split]
        if split == "unseen":
            train = corpora.descriptions(data, "train")
        else:
            import debian_archive
            train = splits["train"] + corpora.training_extras(splits,
                                                              debian_archive.descriptions())
    return pairs, corpora.near_duplicate_share([d for d, _ in pairs], [d for d, _ in train])


def evaluate_summarization(stub, data, split="legacy", options=None):
    """split: "legacy" (the old hash-of-text split), "unseen" (its held-out
    pairs with no near-duplicate cluster in its training side), or the
    leak-free split by cluster the bundled model is trained on: "clusters"
    (its held-out pairs) or "val" (its validation pairs, for choosing
    settings). options: SummarizeRequest.options fields (default: the
    model's)."""
    pairs, leak = _held_out_descriptions(data, split)

    def one(text):
        request = inference_pb2.SummarizeRequest(text=text, truncate_input=True,
                                                 return_alignment=True)  # for the tokens
        for field, value in (options or {}).items():
            setattr(request.options, field, value)
        response = stub.Summarize(request, timeout=120)
        ids = [t.id for t in response.hypotheses[0].tokens]
        # Stutter: a token or a word repeated back to back ("text text",
        # sub-word "meteringeringering").
        words = response.text.split()
        stutters = any(a == b for a, b in zip(ids, ids[1:])) or \
            any(a == b for a, b in zip(words, words[1:]))
        return response.text.strip(), stutters
    start = time.time()
    answers = parallel(one, [d for d, _ in pairs])
    hyps = [h for h, _ in answers]
    refs = [s for _, s in pairs]
    stutter = sum(s for _, s in answers)
    results = {"split": split, "pairs": len(pairs), "options": options or {},
               "held_out_with_near_duplicate_in_training": round(leak, 4),
               "heed": rouge.corpus_rouge(refs, hyps),
               "stutter_rate": round(stutter / max(1, len(hyps)), 4),
               "mean_words": {"heed": sum(len(h.split()) for h in hyps) / max(1, len(hyps)),
                              "reference": sum(len(r.split()) for r in refs) / max(1, len(refs))},
               "seconds": round(time.time() - start, 1)}
    for n in (5, 7, 10, 12):
        lead = [" ".join(d.split()[:n]) for d, _ in pairs]
        results[f"lead-{n} words"] = rouge.corpus_rouge(refs, lead)
    for key, value in results.items():
        if isinstance(value, dict):
            results[key] = {k: round(v, 2) for k, v in value.items()}
    print(f"summarization: {results}", flush=True)
    for (description, synopsis), hyp in list(zip(pairs, hyps))[:5]:
        print(f"  reference: {synopsis}\n  heed:      {hyp}")
    return results


def evaluate_sentiment(stub, data):
    results = {}
    for source in corpora.VADER_SOURCES:
        every = labelled(corpora.vader(data, source), BAND)
        rows = [r for r in every if corpora.split_of(r[0]) == "test"]
        train = [r for r in every if corpora.split_of(r[0]) == "train"]
        texts = [t for t, _ in rows]
        batches = [texts[i:i + 32] for i in range(0, len(texts), 32)]

        def one(batch):
            request = inference_pb2.ClassifySentimentRequest(texts=batch, truncate_input=True)
            return [int(r.label == "POSITIVE") for r in stub.ClassifySentiment(request, timeout=120).results]
        predicted = [y for batch in parallel(one, batches) for y in batch]
        truth = [y for _, y in rows]
        accuracy, macro_f1 = scores(truth, predicted)
        # The trivial baseline: the training side's majority label for every sentence.
        majority = int(2 * sum(y for _, y in train) >= len(train))
        baseline_accuracy, baseline_f1 = scores(truth, [majority] * len(truth))
        near = corpora.near_duplicate_flags(texts, [t for t, _ in train])
        results[source] = {"sentences": len(rows), "accuracy": round(accuracy, 3),
                           "macro_F1": round(macro_f1, 3),
                           "majority_label_accuracy": round(baseline_accuracy, 3),
                           "majority_label_macro_F1": round(baseline_f1, 3),
                           "near_duplicate_share": round(sum(near) / max(1, len(near)), 4)}
        print(f"sentiment {source}: {results[source]}", flush=True)
    return results


def long_documents(data, count=400, seed=7):
    """Texts of 12-24 held-out VADER sentences (all sources) whose label is
    known by construction: 60-80 % of the sentences carry it (|rating| >= BAND),
    the rest the other label, in random order; half of the texts each way."""
    rng = random.Random(seed)
    pool = {0: [], 1: []}
    for source in corpora.VADER_SOURCES:
        for text, label in labelled(corpora.vader(data, source), BAND):
            if corpora.split_of(text) == "test":
                pool[label].append(text)
    documents = []
    for i in range(count):
        label = i % 2
        k = rng.randint(12, 24)
        majority = round(k * rng.uniform(0.6, 0.8))
        sentences = rng.sample(pool[label], majority) + rng.sample(pool[1 - label], k - majority)
        rng.shuffle(sentences)
        documents.append((" ".join(sentences), label, sentences))
    return documents


def evaluate_long_sentiment(stub, data):
    documents = long_documents(data)

    def classify(texts, **options):
        request = inference_pb2.ClassifySentimentRequest(texts=texts, **options)
        response = stub.ClassifySentiment(request, timeout=300)
        return [(int(r.label == "POSITIVE"), r.windows, r.input_truncated) for r in response.results]

    gold = [label for _, label, _ in documents]
    texts = [text for text, _, _ in documents]
    batches = [texts[i:i + 16] for i in range(0, len(texts), 16)]
    truncated = [y for b in parallel(lambda b: classify(b, truncate_input=True), batches) for y in b]
    chunked = [y for b in parallel(lambda b: classify(b, long_input=inference_pb2.LONG_INPUT_CHUNKS),
                                   batches) for y in b]
    # Reference: every sentence classified alone, then a majority vote.
    voted = []
    for _, _, sentences in documents:
        labels = [y for y, _, _ in classify(sentences, truncate_input=True)]
        voted.append(int(sum(labels) * 2 > len(labels)))
    windows = sorted(w for _, w, _ in chunked)
    results = {
        "texts": len(documents),
        "windows_median": windows[len(windows) // 2],
        "windows_max": windows[-1],
        "truncated_texts": sum(t for _, _, t in truncated),
        "majority_class_baseline": round(max(gold.count(0), gold.count(1)) / len(gold), 3),
        "truncate_accuracy": round(scores(gold, [y for y, _, _ in truncated])[0], 3),
        "chunks_accuracy": round(scores(gold, [y for y, _, _ in chunked])[0], 3),
        "per_sentence_vote_accuracy": round(scores(gold, voted)[0], 3),
    }
    print(f"long_sentiment: {results}", flush=True)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=corpora.DEFAULT_DATA)
    parser.add_argument("--models", default=os.path.join(ROOT, "models"))
    parser.add_argument("--compute-type", default="float32")
    parser.add_argument("--only", choices=["translation", "summarization", "sentiment",
                                           "long_sentiment"])
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--description-split", default="legacy",
                        choices=["legacy", "unseen", "clusters", "val"],
                        help="summarization: which held-out descriptions (see corpora.py)")
    # GenerationOptions fields that summarization requests can set.
    request_options = (("beam_size", int), ("length_penalty", float),
                       ("no_repeat_ngram_size", int), ("no_adjacent_repeat_ngram_size", int),
                       ("repetition_penalty", float), ("encoder_repetition_penalty", float))
    for name, kind in request_options:
        parser.add_argument("--" + name.replace("_", "-"), type=kind,
                            help="summarization: the request option (default: the model's)")
    args = parser.parse_args()
    options = {name: getattr(args, name) for name, _ in request_options
               if getattr(args, name) is not None}
    server = Server(args.models, args.compute_type)
    results = {"compute_type": args.compute_type}
    try:
        for task, run in (("translation", evaluate_translation),
                          ("summarization", lambda stub, data: evaluate_summarization(
                              stub, data, args.description_split, options)),
                          ("sentiment", evaluate_sentiment),
                          ("long_sentiment", evaluate_long_sentiment)):
            if args.only in (None, task):
                results[task] = run(server.stub, args.data)
    finally:
        server.close()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
