#!/usr/bin/env python3
"""Checks a tfm executable of the shipped trained model against reference.json.

    check_trained.py EXE MODEL_DIR REFERENCE_DIR CHECK [ARGS]

CHECK is one of
  tokenize            tfm's --tokenize of heldout.txt equals the independent
                      Python BPE's ids (heldout_ids.npy)
  perplexity TOL [C S]  tfm's --perplexity of heldout.txt is within TOL (relative)
                      of the PyTorch reference, with the same token count; with
                      C and S, windows of C tokens every S (--ppl-context,
                      --ppl-stride)
  greedy              greedy ids from each prompt equal PyTorch's
  teacher MIN         teacher-forced top-1 ids on the reference windows agree
                      with PyTorch's on at least MIN of the positions
The references come from make_reference.py (PyTorch, Hugging Face semantics);
nothing here computes a number that it then checks tfm against.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np


def run(*args):
    p = subprocess.run(args, capture_output=True)
    if p.returncode != 0:
        sys.stdout.write(p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace"))
        print(f"FAILED: {' '.join(args)}")
        sys.exit(1)
    return p.stdout.decode("utf-8")


def main():
    exe, model, refdir, check = sys.argv[1:5]
    args = sys.argv[5:]
    with open(os.path.join(refdir, "reference.json")) as f:
        ref = json.load(f)
    heldout = os.path.join(model, "heldout.txt")
    ok = True
    if check == "tokenize":
        ids = json.loads(run(exe, "--tokenize", "--prompt-file", heldout))
        want = np.load(os.path.join(refdir, "heldout_ids.npy")).astype(np.int64).tolist()
        same = ids == want
        first = next((i for i, (a, b) in enumerate(zip(ids, want)) if a != b), min(len(ids), len(want)))
        print(f"tokenize: {len(ids)} ids, reference {len(want)}: "
              + ("identical" if same else f"first difference at {first}"))
        ok = same
    elif check == "perplexity":
        tol = float(args[0])
        window = args[1:3]
        out = run(exe, "--perplexity", heldout,
                  *(["--ppl-context", window[0], "--ppl-stride", window[1]] if window else []))
        ppl = float(re.search(r"^perplexity: (\S+)$", out, re.M).group(1))
        tokens = int(re.search(r"^tokens: (\d+) ", out, re.M).group(1))
        want = ref["perplexity_windows"]["/".join(window)] if window else ref["perplexity"]
        if window:
            print(re.search(r"^tokens: .*$", out, re.M).group(0))
            want = dict(want, tokens=ref["perplexity"]["tokens"])
        rel = abs(ppl - want["perplexity"]) / want["perplexity"]
        print(f"perplexity: {ppl:.4f}, reference {want['perplexity']:.4f}, relative difference "
              f"{rel:.2e} (needs <= {tol:g}); tokens {tokens}, reference {want['tokens']}")
        ok = rel <= tol and tokens == want["tokens"]
    elif check == "greedy":
        for g in ref["greedy"]:
            out = run(exe, "--prompt", g["prompt"], "-n", str(len(g["ids"])), "--greedy",
                      "--no-stop-at-eos", "--no-stream", "--print-ids")
            prompt_ids = json.loads(run(exe, "--tokenize", "--prompt", g["prompt"]))
            ids = [int(x) for x in out.strip().split("\n")[-1].split(",")]
            same = ids == g["ids"] and prompt_ids == g["prompt_ids"]
            text = out.strip().split("\n")[0]
            print(f"greedy {g['prompt']!r}: {len(ids)} ids, "
                  + ("equal to PyTorch's" if same else f"DIFFERENT: {ids} vs {g['ids']}")
                  + f" | {text[:100]}")
            ok = ok and same
    elif check == "teacher":
        need = float(args[0])
        agree = total = 0
        with tempfile.TemporaryDirectory() as tmp:
            for w in ref["teacher_forced"]:
                ids = np.load(os.path.join(refdir, "heldout_ids.npy")).astype(np.int64)
                window = ids[w["start"]:w["start"] + w["length"]]
                dump = os.path.join(tmp, "logits.npy")
                run(exe, "--prompt-ids", ",".join(map(str, window)), "-n", "0", "--dump-logits", dump)
                top = np.load(dump).argmax(axis=-1)
                agree += int((top == np.array(w["argmax"])).sum())
                total += len(top)
        frac = agree / total
        print(f"teacher-forced top-1 agreement with PyTorch f32: {agree}/{total} = {100 * frac:.2f}% "
              f"(needs >= {100 * need:g}%)")
        ok = frac >= need
    else:
        print(f"unknown check {check}")
        sys.exit(2)
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
