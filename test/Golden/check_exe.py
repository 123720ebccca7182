#!/usr/bin/env python3
"""Checks the executable tfmc builds for one committed golden model.

    check_exe.py MODEL_DIR WORK_DIR

1. golden:   --dump-logits of the prompt (prefill) equals the PyTorch logits
             (make_goldens.py): max abs error <= 1e-3, identical argmax ids.
2. kv cache: prefill of 4 tokens then 3 decode steps (greedy) produces the
             same logits rows as one prefill of the 7-token sequence
             (max abs error <= 1e-4). Skipped for bidirectional attention.
3. last row: without --dump-logits the executable computes the logits of
             the last row only; greedy ids equal those of a run that dumps
             every row.
4. no slow path: with ONEDNN_VERBOSE=1 no matmul, layer norm or softmax
             primitive reports a `ref:` implementation.
"""
import json
import os
import sys

import numpy as np

from golden_tools import run


def main():
    model, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    cfg = json.load(open(os.path.join(model, "config.json")))
    exe = os.path.join(work, "model")
    run("tfmc", model, "-o", exe)
    tokens = np.load(os.path.join(model, "tokens.npy")).tolist()
    golden = np.load(os.path.join(model, "logits.npy"))
    ids = ",".join(map(str, tokens))

    dump = os.path.join(work, "prefill.npy")
    run(exe, "--prompt-ids", ids, "-n", "1", "--dump-logits", dump)
    got = np.load(dump)
    err = np.abs(got - golden).max()
    same_ids = bool((got.argmax(-1) == golden.argmax(-1)).all())
    print(f"golden: {got.shape[0]} rows, max abs error {err:.2e}, greedy ids identical: {same_ids}")
    if err > 1e-3 or not same_ids:
        print("FAILED: golden")
        sys.exit(1)

    if cfg.get("is_causal", True):
        first = tokens[:4]
        a = os.path.join(work, "decode.npy")
        out = run(exe, "--prompt-ids", ",".join(map(str, first)), "-n", "4", "--print-ids",
                  "--dump-logits", a)
        generated = [int(x) for x in out.strip().split(",")]
        full = first + generated[:3]
        b = os.path.join(work, "full.npy")
        run(exe, "--prompt-ids", ",".join(map(str, full)), "-n", "1", "--dump-logits", b)
        da, db = np.load(a), np.load(b)
        kv = np.abs(da - db).max()
        print(f"kv cache: {da.shape[0]} rows (4 prefill + 3 decode) vs one prefill, max abs error {kv:.2e}")
        if da.shape != db.shape or kv > 1e-4:
            print("FAILED: kv cache")
            sys.exit(1)
    else:
        print("kv cache: not applicable to bidirectional attention")

    greedy = ["--prompt-ids", ids, "-n", "4", "--greedy", "--no-stop-at-eos", "--print-ids"]
    all_rows = run(exe, *greedy, "--dump-logits", os.path.join(work, "greedy.npy")).strip()
    last_row = run(exe, *greedy).strip()
    print(f"last row: greedy ids {last_row} (every row: {all_rows})")
    if last_row != all_rows:
        print("FAILED: last row")
        sys.exit(1)

    env = dict(os.environ, ONEDNN_VERBOSE="1")
    verbose = run(exe, "--prompt-ids", ids, "-n", "2", env=env)
    slow = [l for l in verbose.splitlines()
            if l.startswith("onednn_verbose,exec") and
            any(k in l for k in (",matmul,", ",layer_normalization,", ",softmax")) and ",ref:" in l]
    print(f"no slow path: {len(slow)} ref: primitives")
    if slow:
        print("\n".join(slow[:5]))
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
