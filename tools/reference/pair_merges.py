"""Greedy pair merging, the core of both BPE and WordPiece vocabulary learning:
words are symbol lists with counts, and the most frequent adjacent pair (ties
to the larger pair) merges next. Counts are updated only for the words that
hold the merged pair, which keeps learning thousands of merges fast."""
import collections


def pair_merges(words, join):
    """words: [[symbols, count]], rewritten in place. Yields (pair, joined)
    for each merge, best first, until no pair is left; join(a, b) names the
    merged symbol."""
    pairs = collections.Counter()
    where = collections.defaultdict(set)
    for i, (symbols, n) in enumerate(words):
        for a, b in zip(symbols, symbols[1:]):
            pairs[(a, b)] += n
            where[(a, b)].add(i)
    while pairs:
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        joined = join(*best)
        for i in where.pop(best):
            symbols, n = words[i]
            for a, b in zip(symbols, symbols[1:]):
                pairs[(a, b)] -= n
                if pairs[(a, b)] <= 0:
                    del pairs[(a, b)]
            merged, j = [], 0
            while j < len(symbols):
                if j + 1 < len(symbols) and (symbols[j], symbols[j + 1]) == best:
                    merged.append(joined)
                    j += 2
                else:
                    merged.append(symbols[j])
                    j += 1
            words[i][0] = merged
            for a, b in zip(merged, merged[1:]):
                pairs[(a, b)] += n
                where[(a, b)].add(i)
        pairs.pop(best, None)
        yield best, joined
