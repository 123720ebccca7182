#!/usr/bin/env python3
"""-O0 executables (the decomposed graph, no fusion) against -O2 ones and the goldens.

    check_o0.py WORK_DIR MODEL_DIR...

For each model: tfmc -O0 and tfmc -O2 build executables; both run the golden
prompt (prefill) and, for causal models, 4 greedy decode steps through the KV
cache with every row's logits dumped. Prints per model the max abs error of
-O0 against the PyTorch goldens (must be <= 1e-3) and against -O2 over the
prefill and decode rows (must be <= 1e-4, with identical greedy ids).
"""
import json
import os
import sys

import numpy as np

from golden_tools import run


def main():
    work, models = sys.argv[1], sys.argv[2:]
    os.makedirs(work, exist_ok=True)
    failed = False
    for model in models:
        name = os.path.basename(os.path.normpath(model))
        cfg = json.load(open(os.path.join(model, "config.json")))
        tokens = np.load(os.path.join(model, "tokens.npy")).tolist()
        golden = np.load(os.path.join(model, "logits.npy"))
        ids = ",".join(map(str, tokens))
        logits, greedy = {}, {}
        for level in ("-O0", "-O2"):
            exe = os.path.join(work, f"{name}{level}")
            run("tfmc", level, model, "-o", exe)
            dump = exe + ".npy"
            run(exe, "--prompt-ids", ids, "-n", "1", "--dump-logits", dump)
            logits[level] = [np.load(dump)]
            if cfg.get("is_causal", True):
                out = run(exe, "--prompt-ids", ",".join(map(str, tokens[:4])), "-n", "4", "--greedy",
                          "--no-stop-at-eos", "--print-ids", "--dump-logits", exe + "-decode.npy")
                greedy[level] = out.strip()
                logits[level].append(np.load(exe + "-decode.npy"))
        err_golden = np.abs(logits["-O0"][0] - golden).max()
        err_o2 = max(np.abs(a - b).max() for a, b in zip(logits["-O0"], logits["-O2"]))
        same = greedy.get("-O0") == greedy.get("-O2")
        ok = err_golden <= 1e-3 and err_o2 <= 1e-4 and same
        failed |= not ok
        print(f"{name}: -O0 vs golden {err_golden:.2e}, -O0 vs -O2 {err_o2:.2e} "
              f"(prefill and decode), greedy ids {'identical' if same else 'DIFFER'}: "
              f"{'ok' if ok else 'FAILED'}")
    print("FAILED" if failed else "OK")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
