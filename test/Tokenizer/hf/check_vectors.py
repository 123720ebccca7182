#!/usr/bin/env python3
"""Compares tfm-tokenize's output with reference vectors.

    check_vectors.py NAME TEXTS REFERENCE ACTUAL [--round-trip NFC|none]

REFERENCE: the lines make_hf_vectors.js wrote ({"ids", "decoded"} a text);
ACTUAL: tfm-tokenize --texts TEXTS --with-decoded, the same form. Prints
"NAME: N texts, I mismatched ids, D mismatched decodes" (and the first
mismatches) and exits 1 on any. --round-trip: instead, checks that each
decoded text equals its text (ACTUAL made with --no-special-tokens
--skip-special), for the texts the normalizer leaves alone (NFC: texts
already in NFC) and that transformers' clean-up would not change.
"""
import json
import sys
import unicodedata

CLEANUP = [" .", " ?", " !", " ,", " ' ", " n't", " 'm", " 's", " 've", " 're"]


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    name, texts, ref, actual = sys.argv[1], load(sys.argv[2]), sys.argv[3], load(sys.argv[4])
    if "--round-trip" in sys.argv:
        form = sys.argv[sys.argv.index("--round-trip") + 1]
        checked = bad = 0
        for text, got in zip(texts, actual):
            if form == "NFC" and unicodedata.normalize("NFC", text) != text:
                continue
            if any(c in text for c in CLEANUP):
                continue
            checked += 1
            if got["decoded"] != text:
                bad += 1
                if bad <= 5:
                    print("  round trip of %r gave %r" % (text, got["decoded"]))
        print("%s: %d texts round-trip checked, %d differ" % (name, checked, bad))
        sys.exit(1 if bad or len(actual) != len(texts) else 0)
    ref = load(ref)
    if len(ref) != len(texts) or len(actual) != len(texts):
        print("%s: %d texts, %d reference lines, %d lines from tfm" % (name, len(texts), len(ref), len(actual)))
        sys.exit(1)
    ids = [i for i in range(len(texts)) if ref[i]["ids"] != actual[i]["ids"]]
    dec = [i for i in range(len(texts)) if ref[i]["decoded"] != actual[i]["decoded"]]
    print("%s: %d texts, %d mismatched ids, %d mismatched decodes" % (name, len(texts), len(ids), len(dec)))
    for i in ids[:5]:
        print("  ids of %r: reference %s, tfm %s" % (texts[i], ref[i]["ids"], actual[i]["ids"]))
    for i in dec[:5]:
        print("  decode of %r: reference %r, tfm %r" % (texts[i], ref[i]["decoded"], actual[i]["decoded"]))
    sys.exit(1 if ids or dec else 0)


if __name__ == "__main__":
    main()
