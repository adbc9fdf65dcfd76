"""Near-duplicate clusters of Debian package descriptions, so that a split
can hold out whole clusters: package families, -dev/-doc siblings and
per-architecture variants describe themselves almost alike, and a hash of the
exact text put them on both sides of the old split.

Two descriptions are near-duplicates when
- their first OPENING_WORDS words agree (lower-cased), or
- their word 3-gram sets have a Jaccard similarity of at least JACCARD,
  found by MinHash with locality-sensitive bands and then checked exactly.
Clusters are the connected components of that relation (union-find).
"""
import hashlib
import re

import numpy as np

OPENING_WORDS = 8
JACCARD = 0.5
HASHES = 24  # MinHash functions in 12 bands of 2 rows: a pair at 0.5 similarity
# shares a band with probability 0.97
ROWS = 2
_PRIME = (1 << 61) - 1


def words(text):
    return re.findall(r"\w+", text.lower())


def shingles(text):
    w = words(text)
    return {" ".join(w[i:i + 3]) for i in range(max(1, len(w) - 2))}


def _stable_hash(s):
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little")


def jaccard(a, b):
    return len(a & b) / max(1, len(a | b))


class _Components:
    def __init__(self, n):
        self.parent = list(range(n))

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def clusters(texts):
    """A cluster id per text (the smallest index of its cluster)."""
    n = len(texts)
    components = _Components(n)
    by_opening = {}
    for i, text in enumerate(texts):
        key = " ".join(words(text)[:OPENING_WORDS])
        if key in by_opening:
            components.union(i, by_opening[key])
        else:
            by_opening[key] = i
    rng = np.random.default_rng(11)
    a = rng.integers(1, _PRIME, HASHES, dtype=np.uint64).astype(object)
    b = rng.integers(0, _PRIME, HASHES, dtype=np.uint64).astype(object)
    sets = [shingles(t) for t in texts]
    buckets = {}
    for i, s in enumerate(sets):
        h = np.array([_stable_hash(x) % _PRIME for x in s], dtype=object)
        signature = [int(((a[k] * h + b[k]) % _PRIME).min()) for k in range(HASHES)]
        for band in range(HASHES // ROWS):
            key = (band, tuple(signature[band * ROWS:(band + 1) * ROWS]))
            buckets.setdefault(key, []).append(i)
    for members in buckets.values():
        first = members[0]
        for other in members[1:]:
            if components.find(first) != components.find(other) and \
                    jaccard(sets[first], sets[other]) >= JACCARD:
                components.union(first, other)
    return [components.find(i) for i in range(n)]
