#!/usr/bin/env python3
"""bf16 executables against the f32 PyTorch goldens.

    check_bf16.py WORK_DIR MODEL_DIR...

Compiles each model with --dtype=bf16 (bf16 weights and matmuls, f32
accumulation) and compares its prefill logits with the goldens. The
documented tolerance is a max abs error of 5e-2 on these models (logits of
magnitude ~1-3); top-1 agreement is printed, not asserted, because random
tiny models have near-ties.
"""
import os
import subprocess
import sys

import numpy as np

work = sys.argv[1]
os.makedirs(work, exist_ok=True)
ok = True
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
    top1 = (got.argmax(-1) == golden.argmax(-1)).mean()
    within = err <= 5e-2
    ok &= within
    print(f"{name}: bf16 max abs error {err:.2e} ({'within' if within else 'OUTSIDE'} 5e-2), top-1 agreement {top1:.0%}")
print("OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
