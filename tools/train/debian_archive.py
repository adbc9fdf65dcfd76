"""More (description, synopsis) pairs for the summarizer from Debian's archive:
the English package descriptions (`i18n/Translation-en`) of other suites and
sections than ../shared/data's bookworm main. Downloads are cached and never
committed; the pairs are formatted as descriptions.tsv.gz formats its own
(paragraphs joined by one space, at least 20 words), so that the two mix.

Which of them may be trained on is decided with the near-duplicate clusters
(corpora.training_extras): a pair whose cluster reaches a held-out pair is
dropped, so the extra data cannot leak evaluation text into training.
"""
import bz2
import lzma
import os
import urllib.request

MIRROR = "http://deb.debian.org/debian"
# (suite, section, compression): the suites Debian's mirror still carries
# besides bookworm main.
SOURCES = [("bookworm", "contrib", "xz"), ("bookworm", "non-free", "xz"),
           ("trixie", "main", "xz"), ("trixie", "contrib", "xz"),
           ("trixie", "non-free", "xz"), ("bullseye", "main", "bz2")]
DEFAULT_CACHE = os.path.expanduser("~/.cache/heed-train")
MIN_WORDS = 20


def _fetch(suite, section, compression, cache):
    path = os.path.join(cache, f"{suite}-{section}-Translation-en.{compression}")
    if not os.path.exists(path):
        os.makedirs(cache, exist_ok=True)
        url = f"{MIRROR}/dists/{suite}/{section}/i18n/Translation-en.{compression}"
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
        with open(path + ".part", "wb") as f:
            f.write(data)
        os.replace(path + ".part", path)
    opener = lzma.open if compression == "xz" else bz2.open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read()


def parse_translation(text):
    """[(long description, synopsis)] of a Translation-en file."""
    pairs = []
    for record in text.split("\n\n"):
        lines = record.split("\n")
        for i, line in enumerate(lines):
            if line.startswith("Description-en:"):
                synopsis = line[len("Description-en:"):].strip()
                body = [l.strip() for l in lines[i + 1:] if l.startswith(" ")]
                words = " ".join(l for l in body if l != ".").split()
                if synopsis and len(words) >= MIN_WORDS:
                    pairs.append((" ".join(words), synopsis))
                break
    return pairs


def descriptions(cache=DEFAULT_CACHE, sources=SOURCES):
    """Pairs of the other suites and sections, each description once."""
    seen, pairs = set(), []
    for suite, section, compression in sources:
        for pair in parse_translation(_fetch(suite, section, compression, cache)):
            if pair[0] not in seen:
                seen.add(pair[0])
                pairs.append(pair)
    return pairs
