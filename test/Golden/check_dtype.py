#!/usr/bin/env python3
"""Executables of another --dtype against the f32 PyTorch goldens.

    check_dtype.py DTYPE TOLERANCE MIN_TOP1 WORK_DIR MODEL_DIR...

Compiles each model with --dtype=DTYPE (bf16: bf16 weights and matmuls with
f32 accumulation; int8/int4: weight-only quantization) and compares its
prefill logits with the goldens: the max abs error must be within
TOLERANCE (the documented bound for DTYPE on these models, whose logits have
magnitude ~1-3). Top-1 agreement over all positions of all models must be at
least MIN_TOP1 where the golden's top-2 margin exceeds twice the tolerance
(a margin below it is a tie within the tolerance: either id is a correct
answer); the raw agreement, near-ties included, is printed too. Extra
environment (e.g. TFM_QUANTIZED_GEMV_ROWS) passes through to the runs.
"""
import os
import subprocess
import sys

import numpy as np

dtype, tol, min_top1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
work = sys.argv[4]
os.makedirs(work, exist_ok=True)
ok = True
decisive = agree = total = raw = 0
for model in sys.argv[5:]:
    name = os.path.basename(model.rstrip("/"))
    exe = os.path.join(work, name)
    subprocess.run(["tfmc", model, f"--dtype={dtype}", "-o", exe, "-q"], check=True)
    tokens = np.load(os.path.join(model, "tokens.npy")).tolist()
    dump = os.path.join(work, name + ".npy")
    subprocess.run([exe, "--prompt-ids", ",".join(map(str, tokens)), "-n", "1", "--dump-logits", dump],
                   check=True)
    got, golden = np.load(dump), np.load(os.path.join(model, "logits.npy"))
    err = np.abs(got - golden).max()
    same = got.argmax(-1) == golden.argmax(-1)
    top2 = np.sort(golden, axis=-1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 2 * tol
    decisive += int(clear.sum())
    agree += int((same & clear).sum())
    total += len(same)
    raw += int(same.sum())
    top1 = same.mean()
    within = err <= tol
    ok &= within
    print(f"{name}: {dtype} max abs error {err:.2e} ({'within' if within else 'OUTSIDE'} {sys.argv[2]}), "
          f"top-1 agreement {top1:.0%}")
share = agree / max(decisive, 1)
print(f"top-1 agreement: {agree}/{decisive} positions with a golden top-2 margin > {2 * tol:g} "
      f"({share:.1%}, needs >= {min_top1:.0%}); all positions: {raw}/{total}")
ok &= share >= min_top1
print("OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
