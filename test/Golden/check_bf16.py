#!/usr/bin/env python3
"""bf16 executables against the f32 PyTorch goldens.

    check_bf16.py WORK_DIR MODEL_DIR...

Compiles each model with --dtype=bf16 (bf16 weights and matmuls, f32
accumulation) and compares its prefill logits with the goldens. The
documented tolerance is a max abs error of 5e-2 on these models (logits of
magnitude ~1-3). Top-1 agreement over all positions of all models must be
>= 99% where the golden's top-2 margin exceeds twice that tolerance (a
margin below it is a tie within the tolerance: either id is a correct
answer); the raw agreement, near-ties included, is printed too.
"""
import os
import subprocess
import sys

import numpy as np

work = sys.argv[1]
os.makedirs(work, exist_ok=True)
ok = True
decisive = agree = total = raw = 0
for model in sys.argv[2:]:
    name = os.path.basename(model.rstrip("/"))
    exe = os.path.join(work, name)
    subprocess.run(["tfmc", model, "--dtype=bf16", "-o", exe], check=True)
    tokens = np.load(os.path.join(model, "tokens.npy")).tolist()
    dump = os.path.join(work, name + ".npy")
    subprocess.run([exe, "--prompt-ids", ",".join(map(str, tokens)), "-n", "1", "--dump-logits", dump],
                   check=True)
    got, golden = np.load(dump), np.load(os.path.join(model, "logits.npy"))
    err = np.abs(got - golden).max()
    same = got.argmax(-1) == golden.argmax(-1)
    top2 = np.sort(golden, axis=-1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 2 * 5e-2
    decisive += int(clear.sum())
    agree += int((same & clear).sum())
    total += len(same)
    raw += int(same.sum())
    top1 = same.mean()
    within = err <= 5e-2
    ok &= within
    print(f"{name}: bf16 max abs error {err:.2e} ({'within' if within else 'OUTSIDE'} 5e-2), top-1 agreement {top1:.0%}")
share = agree / max(decisive, 1)
print(f"top-1 agreement: {agree}/{decisive} positions with a golden top-2 margin > 0.1 "
      f"({share:.1%}, needs >= 99%); all positions: {raw}/{total}")
ok &= share >= 0.99
print("OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
