"""Readers for the real corpora in ../shared/data (see its README.md) and the
hash-based split that keeps evaluation text out of training."""
import gzip
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data"))
VADER_SOURCES = {"movie": "movieReviewSnippets", "amazon": "amazonReviewSnippets",
                 "nyt": "nytEditorialSnippets", "tweets": "tweets"}


def split_of(text, test_percent=5):
    """'test' for a fixed ~test_percent % of texts, decided by SHA-1 of the text
    alone (so duplicates land on the same side), else 'train'."""
    h = int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16)
    return "test" if h % 1000 < test_percent * 10 else "train"


def read_lines(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def multi30k(data, split):
    """split: train, val, test_2016_flickr, test_2017_flickr → [(en, de)]."""
    en = read_lines(os.path.join(data, "multi30k", f"{split}.en.gz"))
    de = read_lines(os.path.join(data, "multi30k", f"{split}.de.gz"))
    assert len(en) == len(de), split
    return list(zip(en, de))


def _tsv_pairs(path):
    pairs = []
    for line in read_lines(path):
        parts = line.split("\t")
        if len(parts) == 2 and parts[0].strip() and parts[1].strip():
            pairs.append((parts[0], parts[1]))
    return pairs


def gettext(data, split):
    """English→German UI messages; split by a hash of the English text."""
    pairs = _tsv_pairs(os.path.join(data, "debian", "gettext-en-de.tsv.gz"))
    return [p for p in pairs if split_of(p[0]) == split]


def descriptions(data, split):
    """(long description, synopsis) pairs; split by a hash of the description.
    This split leaks (near-duplicates fall on both sides); the bundled
    summarizer was trained on its "train" side. See description_splits."""
    pairs = _tsv_pairs(os.path.join(data, "debian", "descriptions.tsv.gz"))
    return [p for p in pairs if split_of(p[0]) == split]


def _permille(text):
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) % 1000


def description_splits(data):
    """{"train", "val", "test", "unseen"} → (description, synopsis) pairs,
    split by near-duplicate cluster (near_duplicates.py), so that no cluster
    is on two sides: a cluster is held out ("test") when a SHA-1 hash of its
    first description falls in 5 % (split_of), and kept for validation
    ("val", for choosing training and decoding settings) in another 3 %.
    "unseen": the old split's test pairs whose cluster has no pair on the old
    split's train side — what a model trained on the old split has never seen
    anything like."""
    import near_duplicates
    pairs = _tsv_pairs(os.path.join(data, "debian", "descriptions.tsv.gz"))
    ids = near_duplicates.clusters([d for d, _ in pairs])
    side = {}
    for c in set(ids):
        permille = _permille(pairs[c][0])
        side[c] = "test" if permille < 50 else "val" if permille < 80 else "train"
    seen_in_old_train = {c for (d, _), c in zip(pairs, ids) if split_of(d) == "train"}
    splits = {"train": [], "val": [], "test": [], "unseen": []}
    for pair, c in zip(pairs, ids):
        splits[side[c]].append(pair)
        if split_of(pair[0]) == "test" and c not in seen_in_old_train:
            splits["unseen"].append(pair)
    return splits


def training_extras(splits, extra_pairs):
    """The pairs of extra_pairs (debian_archive.descriptions) that may join
    splits["train"]: clustered together with the bookworm pairs, a pair is
    dropped when its cluster holds a "val" or "test" pair, or when its
    description is already in the bookworm data."""
    import near_duplicates
    own = splits["train"] + splits["val"] + splits["test"]
    known = {d for d, _ in own}
    extra = [p for p in extra_pairs if p[0] not in known]
    ids = near_duplicates.clusters([d for d, _ in own] + [d for d, _ in extra])
    n_train = len(splits["train"])
    held = {ids[i] for i in range(n_train, len(own))}
    return [p for p, c in zip(extra, ids[len(own):]) if c not in held]


def near_duplicate_flags(held_out, train, opening_words=12, jaccard=0.5):
    """For each held-out text, whether it has a near-duplicate in `train`:
    the same first `opening_words` words (lower-cased, punctuation dropped),
    or a word 3-gram Jaccard similarity of at least `jaccard` with a training
    text sharing a rare 3-gram (one in at most 50 training texts)."""
    import near_duplicates as nd
    openings = {" ".join(nd.words(d)[:opening_words]) for d in train}
    train_sets = [nd.shingles(d) for d in train]
    index = {}
    for i, s in enumerate(train_sets):
        for x in s:
            index.setdefault(x, []).append(i)
    flags = []
    for d in held_out:
        if " ".join(nd.words(d)[:opening_words]) in openings:
            flags.append(True)
            continue
        s = nd.shingles(d)
        candidates = {i for x in s if len(index.get(x, ())) <= 50 for i in index.get(x, ())}
        flags.append(any(nd.jaccard(s, train_sets[i]) >= jaccard for i in candidates))
    return flags


def near_duplicate_share(held_out, train, opening_words=12, jaccard=0.5):
    """Share of held-out texts with a near-duplicate in `train` (near_duplicate_flags)."""
    flags = near_duplicate_flags(held_out, train, opening_words, jaccard)
    return sum(flags) / max(1, len(flags))


def vader(data, source):
    """[(mean human score, text)] of one source: movie, amazon, nyt, tweets."""
    rows = []
    path = os.path.join(data, "vader", f"{VADER_SOURCES[source]}_GroundTruth.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                rows.append((float(parts[1]), parts[2]))
    return rows
