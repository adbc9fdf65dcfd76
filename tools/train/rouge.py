"""ROUGE-1, ROUGE-2 and ROUGE-L F-measures as Google's rouge-score computes
them without stemming: lowercase, every non-alphanumeric character a
separator, n-gram overlap clipped by counts, L from the longest common
subsequence; corpus figures are means of per-pair scores."""
import collections
import re


def tokenize(text):
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def _f(overlap, hyp_total, ref_total):
    if overlap == 0:
        return 0.0, 0.0, 0.0
    p, r = overlap / hyp_total, overlap / ref_total
    return p, r, 2 * p * r / (p + r)


def rouge_n(reference, hypothesis, n):
    ref, hyp = tokenize(reference), tokenize(hypothesis)
    rc = collections.Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
    hc = collections.Counter(tuple(hyp[i:i + n]) for i in range(len(hyp) - n + 1))
    overlap = sum(min(c, rc[g]) for g, c in hc.items())
    return _f(overlap, sum(hc.values()), sum(rc.values()))


def _lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(reference, hypothesis):
    ref, hyp = tokenize(reference), tokenize(hypothesis)
    return _f(_lcs(ref, hyp), len(hyp), len(ref))


def corpus_rouge(references, hypotheses):
    """Mean F-measures {'rouge1','rouge2','rougeL'} over aligned pairs, ×100."""
    sums = collections.Counter()
    for ref, hyp in zip(references, hypotheses):
        sums["rouge1"] += rouge_n(ref, hyp, 1)[2]
        sums["rouge2"] += rouge_n(ref, hyp, 2)[2]
        sums["rougeL"] += rouge_l(ref, hyp)[2]
    return {k: 100.0 * v / max(1, len(references)) for k, v in sums.items()}
