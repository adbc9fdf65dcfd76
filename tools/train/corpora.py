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
    """(long description, synopsis) pairs; split by a hash of the description."""
    pairs = _tsv_pairs(os.path.join(data, "debian", "descriptions.tsv.gz"))
    return [p for p in pairs if split_of(p[0]) == split]


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
