#!/usr/bin/env python3
"""Compares regenerated golden models (DIR_A) with the committed ones (DIR_B).

    compare_goldens.py DIR_A DIR_B

logits.npy and hidden.npy within 1e-5 absolute; cases.json (make_bert_goldens.py)
with every id and string equal and every float within 1e-5. Prints one line.
"""
import json
import os
import sys

import numpy as np


def close(a, b):
    """JSON values equal, floats within 1e-5."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= 1e-5
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    return a == b


def main():
    new, old = sys.argv[1], sys.argv[2]
    names = sorted(os.listdir(old))
    bad = []
    for n in names:
        for f in ("logits.npy", "hidden.npy", "logits_b.npy", "hidden_b.npy"):
            p, q = os.path.join(new, n, f), os.path.join(old, n, f)
            if os.path.exists(p) != os.path.exists(q) or (
                    os.path.exists(q) and not np.allclose(np.load(p), np.load(q), rtol=0, atol=1e-5)):
                bad.append(f"{n}/{f}")
        p, q = os.path.join(new, n, "cases.json"), os.path.join(old, n, "cases.json")
        if os.path.exists(p) != os.path.exists(q) or (
                os.path.exists(q) and not close(json.load(open(p)), json.load(open(q)))):
            bad.append(f"{n}/cases.json")
    print(f"{len(names)} models: " + (
        "logits and hidden states within 1e-5, cases equal (numbers within 1e-5)" if not bad
        else "differ: " + ", ".join(bad)))


if __name__ == "__main__":
    main()
