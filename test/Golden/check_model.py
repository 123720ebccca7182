#!/usr/bin/env python3
"""Checks one committed golden model with tfm's tools (tfmc, tfm-ref on PATH).

    check_model.py MODEL_DIR WORK_DIR

1. golden:       tfmc -O0 (decomposed IR) on the reference evaluator reproduces
                 the PyTorch logits (make_goldens.py): max abs error <= 1e-4.
2. fused golden: the same after tfm-optimize (tfmc -O2: every fusion pass).
3. differential: fused and unfused IR agree within rtol 1e-5 (atol 1e-6).
4. KV cache:     prefill of the first 4 tokens, then the remaining tokens with
                 the first call's present keys/values as past: the
                 continuation's logits equal the golden rows.
Prints tfm-ref's comparison lines; exits 1 on the first failure.
"""
import functools
import json
import os
import sys

import numpy as np

import golden_tools

run = functools.partial(golden_tools.run, echo=True)


def main():
    model, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    cfg = json.load(open(os.path.join(model, "config.json")))
    if cfg["model_type"] == "gpt2":
        d, layers = cfg["n_embd"], cfg["n_layer"]
    else:  # the cache holds the key/value heads only
        heads = cfg["num_attention_heads"]
        head_dim = cfg.get("head_dim") or cfg["hidden_size"] // heads
        d = cfg.get("num_key_value_heads", heads) * head_dim
        layers = cfg["num_hidden_layers"]
    tokens = np.load(os.path.join(model, "tokens.npy"))
    golden = os.path.join(model, "logits.npy")
    T = len(tokens)

    def save(name, array):
        path = os.path.join(work, name)
        np.save(path, array)
        return path

    empty = save("empty.npy", np.zeros((0, d), np.float32))

    def inputs(tok, pos, past):
        args = ["--in", save(f"tok{len(tok)}.npy", tok), "--in", save(f"pos{pos[0]}.npy", pos)]
        for p in past:
            args += ["--in", p]
        rows = np.arange(len(tok), dtype=np.int64)  # logits of every row
        return args + ["--in", save(f"rows{len(tok)}.npy", rows)]

    unfused = os.path.join(work, "unfused.mlir")
    fused = os.path.join(work, "fused.mlir")
    run("tfmc", "--emit=tfm", "-O0", model, "-o", unfused)
    run("tfmc", "--emit=tfm", "-O2", model, "-o", fused)
    full = inputs(tokens, np.arange(T, dtype=np.int64), [empty] * (2 * layers))

    print("golden (unfused):")
    run("tfm-ref", unfused, *full, "--compare", golden, "--rtol=0", "--atol=1e-4")
    print("golden (fused):")
    run("tfm-ref", fused, *full, "--compare", golden, "--rtol=0", "--atol=1e-4")
    print("differential (fused vs unfused):")
    ref = os.path.join(work, "unfused_logits.npy")
    run("tfm-ref", unfused, *full, "-o", ref)
    run("tfm-ref", fused, *full, "--compare", ref, "--rtol=1e-5", "--atol=1e-6")

    if not cfg.get("is_causal", True):
        # With bidirectional attention a full pass lets early positions see
        # later tokens; a cached continuation cannot reproduce that.
        print("kv cache: not applicable to bidirectional attention")
        print("OK")
        return
    print("kv cache (prefill 4, then the rest with the cache):")
    split = 4
    presents = [os.path.join(work, f"present{i}.npy") for i in range(2 * layers)]
    outs = ["-o", os.path.join(work, "prefill_logits.npy")]
    for p in presents:
        outs += ["-o", p]
    for ir in (unfused, fused):
        run("tfm-ref", ir, *inputs(tokens[:split], np.arange(split, dtype=np.int64),
                                   [empty] * (2 * layers)), *outs)
        rest = save("golden_rest.npy", np.load(golden)[split:])
        run("tfm-ref", ir, *inputs(tokens[split:], np.arange(split, T, dtype=np.int64), presents),
            "--compare", rest, "--rtol=0", "--atol=1e-4")
    print("OK")


if __name__ == "__main__":
    main()
