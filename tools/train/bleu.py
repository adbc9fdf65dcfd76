"""Corpus BLEU computed the way sacreBLEU reports it by default: mteval-v13a
tokenization, case-sensitive, n-grams up to 4, brevity penalty against the
closest reference length, 'exp' smoothing of zero-match orders."""
import collections
import math
import re

_13A = [(re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
        (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
        (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
        (re.compile(r"([0-9])(-)"), r"\1 \2 ")]


def tokenize_13a(line):
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = (line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                .replace("&gt;", ">"))
    line = f" {line} "
    for pattern, replacement in _13A:
        line = pattern.sub(replacement, line)
    return line.split()


def _ngrams(tokens, n):
    return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(hypotheses, references):
    """references: one list of strings per reference set, each aligned with
    hypotheses. Returns (bleu, precisions[4], brevity_penalty, hyp_len, ref_len)."""
    correct, total = [0] * 4, [0] * 4
    hyp_len = ref_len = 0
    for i, hyp in enumerate(hypotheses):
        h = tokenize_13a(hyp)
        refs = [tokenize_13a(r[i]) for r in references]
        hyp_len += len(h)
        ref_len += min((abs(len(r) - len(h)), len(r)) for r in refs)[1]
        for n in range(1, 5):
            counts = _ngrams(h, n)
            best = collections.Counter()
            for r in refs:
                best |= _ngrams(r, n)
            correct[n - 1] += sum(min(c, best[g]) for g, c in counts.items())
            total[n - 1] += max(0, len(h) - n + 1)
    precisions, smooth, log_sum = [], 1.0, 0.0
    for n in range(4):
        if total[n] == 0:
            precisions.append(0.0)
            continue
        if correct[n] == 0:
            smooth *= 2
            p = 100.0 / (smooth * total[n])
        else:
            p = 100.0 * correct[n] / total[n]
        precisions.append(p)
    if hyp_len == 0 or min(precisions) <= 0:
        return 0.0, precisions, 0.0, hyp_len, ref_len
    log_sum = sum(math.log(p) for p in precisions) / 4
    bp = 1.0 if hyp_len >= ref_len else math.exp(1 - ref_len / hyp_len)
    return bp * math.exp(log_sum), precisions, bp, hyp_len, ref_len
