"""Byte-level BPE in GPT-2's format: train on a corpus, write vocab.json + merges.txt, encode.

GPT-2's tokenizer (Radford et al. 2019, openai/gpt-2 src/encoder.py) maps every
byte to a printable unicode character (bytes_to_unicode), splits text with a
regex into words (letters, digits, other symbols, whitespace runs, English
contractions), and merges adjacent symbols inside a word by rank. Training is
the classic BPE of Sennrich et al. 2016 over those words: repeatedly merge the
most frequent adjacent pair (ties broken by the pair itself, so the result is
deterministic). Ids: the 256 byte symbols first (in bytes_to_unicode order, as
GPT-2's encoder.json), then one id per merge in rank order, then <|endoftext|>.

Nothing here uses tfm: tfm's C++ tokenizer reads the files this writes, and the
tests check that both tokenize the held-out text to the same ids.
"""
import collections
import heapq
import json

import regex

PATTERN = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
EOT = "<|endoftext|>"


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_TO_CHAR = bytes_to_unicode()


def words(text):
    """The pre-tokenizer: text -> list of words, each a string of byte symbols."""
    return ["".join(BYTE_TO_CHAR[b] for b in w.encode("utf-8")) for w in PATTERN.findall(text)]


def merge_pair(symbols, a, b):
    """symbols with every adjacent (a, b), left to right, replaced by a + b."""
    out, j = [], 0
    while j < len(symbols):
        if j + 1 < len(symbols) and symbols[j] == a and symbols[j + 1] == b:
            out.append(a + b)
            j += 2
        else:
            out.append(symbols[j])
            j += 1
    return out


def train(text, vocab_size):
    """Learns vocab_size - 257 merges from text. Returns the merges [(a, b), ...] in rank order."""
    counts = collections.Counter(words(text))
    vocab = [list(w) for w in counts]
    freq = [counts[w] for w in counts]
    pairs = collections.Counter()
    where = collections.defaultdict(set)  # pair -> indices of words containing it
    for i, symbols in enumerate(vocab):
        for a, b in zip(symbols, symbols[1:]):
            pairs[a, b] += freq[i]
            where[a, b].add(i)
    # A heap of (-count, pair) with stale entries skipped: the most frequent pair
    # first, ties to the smallest pair.
    heap = [(-c, p) for p, c in pairs.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < vocab_size - 257 and heap:
        negcount, best = heapq.heappop(heap)
        if pairs.get(best, 0) != -negcount:
            continue
        if -negcount < 2:
            break
        merges.append(best)
        a, b = best
        touched = set()
        for i in sorted(where[best]):
            symbols = vocab[i]
            f = freq[i]
            for x, y in zip(symbols, symbols[1:]):
                pairs[x, y] -= f
                if pairs[x, y] <= 0:
                    del pairs[x, y]
            out = merge_pair(symbols, a, b)
            vocab[i] = out
            for x, y in zip(out, out[1:]):
                pairs[x, y] += f
                where[x, y].add(i)
            touched.update(zip(symbols, symbols[1:]))
            touched.update(zip(out, out[1:]))
        for p in touched:
            if p in pairs and p != best:
                heapq.heappush(heap, (-pairs[p], p))
        touched.clear()
        pairs.pop(best, None)
        del where[best]
    return merges


class Encoder:
    """Encodes text with a trained merge list (GPT-2's algorithm: lowest-ranked pair first)."""

    def __init__(self, merges):
        self.ranks = {m: r for r, m in enumerate(merges)}
        # GPT-2's encoder.json lists the byte symbols in bytes_to_unicode order.
        symbols = list(BYTE_TO_CHAR.values())
        self.vocab = {s: i for i, s in enumerate(symbols)}
        for a, b in merges:
            self.vocab.setdefault(a + b, len(self.vocab))
        self.vocab[EOT] = len(self.vocab)
        self.cache = {}

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            ranked = [(self.ranks.get((x, y), 1 << 30), k) for k, (x, y) in enumerate(zip(parts, parts[1:]))]
            rank, k = min(ranked)
            if rank == 1 << 30:
                break
            parts = merge_pair(parts, parts[k], parts[k + 1])
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        ids = []
        for w in words(text):
            ids.extend(self.bpe(w))
        return ids


def save(directory, merges, encoder):
    with open(f"{directory}/vocab.json", "w", encoding="utf-8") as f:
        json.dump(encoder.vocab, f, ensure_ascii=False)
    with open(f"{directory}/merges.txt", "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")


def load_merges(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    return [tuple(l.split(" ")) for l in lines[1:] if l]
