"""Independent Python versions of the Hugging Face tokenizers heed implements in
C++, written from the documented behaviour of BertTokenizer (basic tokenizer +
WordPiece) and of the GPT-2/BART byte-level BPE tokenizer. Used to write golden
ids for tests/core/tokenizers; never imported by C++.
"""
import json
import unicodedata

import regex

# ---------------------------------------------------------------- WordPiece


def _is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPiece:
    def __init__(self, vocab_path, do_lower_case=True, strip_accents=None):
        with open(vocab_path, encoding="utf-8") as f:
            self.vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
        self.lower = do_lower_case
        self.strip_accents = strip_accents

    def basic(self, text):
        cleaned = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            cleaned.append(" " if _is_whitespace(ch) else ch)
        spaced = []
        for ch in cleaned:
            spaced.append(f" {ch} " if _is_cjk(ord(ch)) else ch)
        words = []
        for word in "".join(spaced).split():
            if self.lower:
                word = word.lower()
            if self.strip_accents or (self.strip_accents is None and self.lower):
                word = "".join(c for c in unicodedata.normalize("NFD", word)
                               if unicodedata.category(c) != "Mn")
            current = ""
            for ch in word:
                if _is_punctuation(ch):
                    if current:
                        words.append(current)
                    words.append(ch)
                    current = ""
                else:
                    current += ch
            if current:
                words.append(current)
        return words

    def wordpiece(self, word):
        if len(word) > 100:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = piece
                    break
                end -= 1
            if found is None:
                return ["[UNK]"]
            pieces.append(found)
            start = end
        return pieces

    def encode(self, text):
        pieces = ["[CLS]"]
        for word in self.basic(text):
            pieces += self.wordpiece(word)
        pieces.append("[SEP]")
        return [self.vocab[p] for p in pieces]


# ---------------------------------------------------------- byte-level BPE

GPT2_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(printable, map(chr, chars)))


class ByteLevelBpe:
    def __init__(self, vocab_path, merges_path):
        with open(vocab_path, encoding="utf-8") as f:
            self.vocab = json.load(f)
        with open(merges_path, encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#version")]
        self.merges = [tuple(l.split(" ")) for l in lines]
        self.ranks = {pair: i for i, pair in enumerate(self.merges)}
        self.byte_map = bytes_to_unicode()

    def bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), float("inf")), i)
                     for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, _ = min(pairs)
            if rank == float("inf"):
                break
            first, second = self.merges[rank]
            merged, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and parts[i] == first and parts[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        return parts

    def encode(self, text, bos="<s>", eos="</s>"):
        ids = [self.vocab[bos]]
        for chunk in GPT2_PATTERN.findall(text):
            mapped = "".join(self.byte_map[b] for b in chunk.encode("utf-8"))
            ids += [self.vocab[p] for p in self.bpe(mapped)]
        ids.append(self.vocab[eos])
        return ids

    def decode(self, ids):
        inverse = {v: k for k, v in self.vocab.items()}
        unbyte = {c: b for b, c in self.byte_map.items()}
        specials = {"<s>", "</s>", "<pad>", "<unk>", "<mask>"}
        text = "".join(inverse[i] for i in ids if inverse[i] not in specials)
        return bytes(unbyte[c] for c in text).decode("utf-8", errors="replace")
