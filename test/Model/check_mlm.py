#!/usr/bin/env python3
"""Checks the trained encoder (examples/bert-kjv) compiled by tfmc against PyTorch.

    check_mlm.py EXE MODEL_DIR tokenize
    check_mlm.py EXE MODEL_DIR accuracy POINTS [EVERY]

tokenize: the executable's ids for the whole held-out text (--prompt-file
--tokenize) equal those of the Python tokenizer the model was trained with
(BERT's basic tokenizer and greedy WordPiece, test/Golden/make_bert_goldens.py)
with tokenizer.json's vocabulary, [CLS] and [SEP] around them.

accuracy: the held-out masked-token accuracy of the executable (its
--dump-logits at the [MASK] positions of MODEL_DIR/heldout_masked.json, the
windows tools/train-bert/train.py wrote; every EVERY-th window, default all)
within POINTS percentage points of PyTorch's on the same windows (the ids the
trained PyTorch model predicted there, `predicted_pytorch`), and the share of
masked positions where the two predict the same id. Prints the numbers; exits
1 on a failure.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Golden"))
from make_bert_goldens import basic_tokens, wordpiece  # noqa: E402


def run(*args):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stdout.write(p.stdout + p.stderr)
        print("FAILED: " + " ".join(args))
        sys.exit(1)
    return p.stdout


def main():
    exe, model, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "tokenize":
        vocab = json.load(open(os.path.join(model, "tokenizer.json"), encoding="utf-8"))["model"]["vocab"]
        text_path = os.path.join(model, "heldout.txt")
        text = open(text_path, encoding="utf-8").read()
        want = [vocab["[CLS]"]] + [i for w in basic_tokens(text) for i in wordpiece(w, vocab)] + [vocab["[SEP]"]]
        got = json.loads(run(exe, "--prompt-file", text_path, "--tokenize"))["input_ids"]
        same = got == want
        print(f"tokenize: {len(got)} ids, reference {len(want)}: {'identical' if same else 'DIFFERENT'}")
        if not same:
            first = next(i for i, (a, b) in enumerate(zip(got + [-1], want + [-1])) if a != b)
            print(f"FAILED: first difference at {first}: {got[first:first + 5]} vs {want[first:first + 5]}")
            sys.exit(1)
        print("OK")
        return
    points = float(sys.argv[4])
    every = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    spec = json.load(open(os.path.join(model, "heldout_masked.json")))
    windows = spec["windows"][::every]
    right = right_torch = same = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        logits_path = os.path.join(tmp, "logits.npy")
        for w in windows:
            run(exe, "--prompt-ids", ",".join(map(str, w["ids"])), "--dump-logits", logits_path)
            pred = np.load(logits_path)[w["positions"]].argmax(-1)
            targets, torch_pred = np.asarray(w["targets"]), np.asarray(w["predicted_pytorch"])
            right += int((pred == targets).sum())
            right_torch += int((torch_pred == targets).sum())
            same += int((pred == torch_pred).sum())
            total += len(targets)
    tfm, torch = 100.0 * right / total, 100.0 * right_torch / total
    diff = abs(tfm - torch)
    print(f"masked-token accuracy: tfm {tfm:.3f}%, PyTorch {torch:.3f}% over {total} masked tokens in "
          f"{len(windows)} windows (difference {diff:.3f} points, needs <= {points}); "
          f"same prediction {100.0 * same / total:.2f}%")
    if every == 1 and abs(torch - 100.0 * spec["accuracy_pytorch"]) > 1e-9:
        print(f"FAILED: predicted_pytorch gives {torch:.4f}%, accuracy_pytorch says "
              f"{100.0 * spec['accuracy_pytorch']:.4f}%")
        sys.exit(1)
    if not diff <= points:
        print("FAILED")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
