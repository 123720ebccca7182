#!/usr/bin/env python3
"""Checks a committed BERT golden model with tfm's tools (tfmc, tfm-ref on PATH).

    check_encoder.py MODEL_DIR WORK_DIR [DTYPE BOUND ...]

Models with hidden.npy (make_bert_goldens.py's plain variants):
1. golden:       tfmc -O0 (decomposed IR) on the reference evaluator reproduces
                 PyTorch's last hidden state (and masked-LM logits): max abs
                 error <= 1e-4; the same after -O2 (every fusion).
2. differential: fused and unfused IR agree within rtol 1e-5 (atol 1e-6);
                 the text and a second one packed into one call (sequence ids
                 0, 1) give their own golden rows, unfused and fused.
3. executable:   the f32 executable's --dump-hidden for the same ids and token
                 types (--prompt-ids, --token-type-ids) within 1e-4.
Models with cases.json (the bert-st-* variants, with tokenizer.json and
sentence-transformers files), on the f32 executable:
4. --tokenize gives the reference's ids and token types (pairs, truncation);
   --dump-hidden within 1e-4; --dump-embedding within 1e-4 with cosine >=
   0.99999; --embed prints the same vector; --embed-file of the single texts
   writes the same rows, packed into one call and one call per text; --fill-mask's top 5 ids equal, scores within 1e-4.
Then, for each DTYPE BOUND pair (bf16, int8, int4), that executable's hidden
states within BOUND of the reference (max abs error).
Prints one line per check; exits 1 on the first failure.
"""
import functools
import json
import os
import sys

import numpy as np

import golden_tools

run = functools.partial(golden_tools.run, echo=True)


def fail(msg):
    print("FAILED: " + msg)
    sys.exit(1)


def within(name, got, want, atol):
    err = float(np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64)).max())
    if not err <= atol:
        fail(f"{name}: max abs error {err:.3e} > {atol}")
    return err


def main():
    model, work = sys.argv[1], sys.argv[2]
    dtypes = list(zip(sys.argv[3::2], map(float, sys.argv[4::2])))
    os.makedirs(work, exist_ok=True)
    name = os.path.basename(os.path.normpath(model))

    def save(fname, array):
        path = os.path.join(work, fname)
        np.save(path, array)
        return path

    exe = os.path.join(work, "f32")
    run("tfmc", model, "-o", exe, "-q")
    goldens = []  # (ids, types, hidden) for the dtype checks
    if os.path.exists(os.path.join(model, "hidden.npy")):
        tokens = np.load(os.path.join(model, "tokens.npy"))
        types = np.load(os.path.join(model, "token_types.npy"))
        hidden = np.load(os.path.join(model, "hidden.npy"))
        T = len(tokens)
        args = ["--in", save("tok.npy", tokens), "--in", save("pos.npy", np.arange(T, dtype=np.int64)),
                "--in", save("types.npy", types), "--in", save("seq.npy", np.zeros(T, np.int64))]
        compare = ["--compare", os.path.join(model, "hidden.npy")]
        # The text and a second, shorter one packed into one call (sequence
        # ids 0 and 1, positions restarting): each gives its own golden rows.
        tokens_b = np.load(os.path.join(model, "tokens_b.npy"))
        types_b = np.load(os.path.join(model, "token_types_b.npy"))
        hidden_b = np.load(os.path.join(model, "hidden_b.npy"))
        Tb = len(tokens_b)
        packed = ["--in", save("tok2.npy", np.concatenate([tokens, tokens_b])),
                  "--in", save("pos2.npy", np.concatenate([np.arange(T), np.arange(Tb)]).astype(np.int64)),
                  "--in", save("types2.npy", np.concatenate([types, types_b])),
                  "--in", save("seq2.npy", np.repeat(np.arange(2), [T, Tb]).astype(np.int64))]
        packed_compare = ["--compare", save("hidden2.npy", np.concatenate([hidden, hidden_b]))]
        if os.path.exists(os.path.join(model, "logits.npy")):
            args += ["--in", save("rows.npy", np.arange(T, dtype=np.int64))]
            compare += ["--compare", os.path.join(model, "logits.npy")]
            packed += ["--in", save("rows2.npy", np.arange(T + Tb, dtype=np.int64))]
            logits = np.load(os.path.join(model, "logits.npy"))
            logits_b = np.load(os.path.join(model, "logits_b.npy"))
            packed_compare += ["--compare", save("logits2.npy", np.concatenate([logits, logits_b]))]
        unfused, fused = os.path.join(work, "unfused.mlir"), os.path.join(work, "fused.mlir")
        run("tfmc", "--emit=tfm", "-O0", model, "-o", unfused)
        run("tfmc", "--emit=tfm", "-O2", model, "-o", fused)
        print("golden (unfused):")
        run("tfm-ref", unfused, *args, *compare, "--rtol=0", "--atol=1e-4")
        print("golden (fused):")
        run("tfm-ref", fused, *args, *compare, "--rtol=0", "--atol=1e-4")
        print("differential (fused vs unfused):")
        outs = []
        for i in range(len(compare) // 2):
            outs += ["-o", os.path.join(work, f"unfused{i}.npy")]
        run("tfm-ref", unfused, *args, *outs)
        diff = []
        for i in range(len(compare) // 2):
            diff += ["--compare", os.path.join(work, f"unfused{i}.npy")]
        run("tfm-ref", fused, *args, *diff, "--rtol=1e-5", "--atol=1e-6")
        print("packed batch (two texts in one call; unfused, fused):")
        run("tfm-ref", unfused, *packed, *packed_compare, "--rtol=0", "--atol=1e-4")
        run("tfm-ref", fused, *packed, *packed_compare, "--rtol=0", "--atol=1e-4")
        ids = ",".join(map(str, tokens.tolist()))
        tys = ",".join(map(str, types.tolist()))
        got = os.path.join(work, "hidden.npy")
        run(exe, "--prompt-ids", ids, "--token-type-ids", tys, "--dump-hidden", got)
        err = within("executable hidden", np.load(got), hidden, 1e-4)
        print(f"executable (f32): hidden max abs error {err:.3e} (within 1e-4)")
        goldens.append((ids, tys, hidden))

    cases_path = os.path.join(model, "cases.json")
    if os.path.exists(cases_path):
        spec = json.load(open(cases_path))
        for k, case in enumerate(spec["cases"]):
            text = ["--prompt", case["text"]] + (["--prompt-pair", case["pair"]] if case["pair"] else [])
            tok = json.loads(run(exe, *text, "--tokenize"))
            if tok != {"input_ids": case["ids"], "token_type_ids": case["types"]}:
                fail(f"case {k}: --tokenize gives {tok}, the reference {case['ids']} / {case['types']}")
            hidden_path, emb_path = os.path.join(work, f"h{k}.npy"), os.path.join(work, f"e{k}.npy")
            printed = json.loads(run(exe, *text, "--embed", "--dump-hidden", hidden_path,
                                     "--dump-embedding", emb_path))
            h = within(f"case {k} hidden", np.load(hidden_path), case["hidden"], 1e-4)
            emb, want = np.load(emb_path).astype(np.float64), np.asarray(case["embedding"], np.float64)
            e = within(f"case {k} embedding", emb, want, 1e-4)
            cos = float(emb @ want / (np.linalg.norm(emb) * np.linalg.norm(want)))
            if not cos >= 0.99999:
                fail(f"case {k}: embedding cosine {cos:.7f} < 0.99999")
            if np.asarray(printed, np.float32).tolist() != np.load(emb_path).tolist():
                fail(f"case {k}: --embed prints another vector than --dump-embedding writes")
            print(f"case {k}: ids and types equal; hidden {h:.2e}, embedding {e:.2e}, "
                  f"cosine {cos:.7f}")
            goldens.append((",".join(map(str, case["ids"])), ",".join(map(str, case["types"])),
                            np.asarray(case["hidden"], np.float32)))
        singles = [c for c in spec["cases"] if not c["pair"]]
        texts = os.path.join(work, "texts.txt")
        with open(texts, "w", encoding="utf-8") as f:
            f.write("".join(c["text"] + "\n" for c in singles))
        rows_path = os.path.join(work, "rows.npy")
        want = np.asarray([c["embedding"] for c in singles])
        # One packed call for all texts, then one call per text.
        for batch_tokens, label in (("4096", "one packed call"), ("1", "one call per text")):
            run(exe, "--embed-file", texts, "-o", rows_path, "--batch-tokens", batch_tokens)
            rows = np.load(rows_path)
            if rows.shape != want.shape:
                fail(f"--embed-file wrote {rows.shape}, expected {want.shape}")
            err = within("--embed-file", rows, want, 1e-4)
            print(f"--embed-file ({label}): {len(singles)} texts, max abs error {err:.2e}")
        # Unfused (-O0: the masks as onednn.sequence_fill) packs the same way.
        exe0 = os.path.join(work, "f32-O0")
        run("tfmc", "-O0", model, "-o", exe0, "-q")
        run(exe0, "--embed-file", texts, "-o", rows_path)
        err = within("-O0 --embed-file", np.load(rows_path), want, 1e-4)
        print(f"-O0 executable, --embed-file: max abs error {err:.2e}")
        if "fill_mask" in spec:
            fm = spec["fill_mask"]
            lines = [json.loads(l) for l in run(exe, "--fill-mask", fm["text"]).splitlines()]
            got_ids = [l["token"] for l in lines]
            want_ids = [t[0] for t in fm["top"]]
            if got_ids != want_ids:
                fail(f"--fill-mask: top ids {got_ids}, the reference {want_ids}")
            err = within("--fill-mask scores", [l["score"] for l in lines], [t[1] for t in fm["top"]],
                         1e-4)
            print(f"--fill-mask: top 5 ids equal, scores within {err:.1e}")

    for dtype, bound in dtypes:
        path = os.path.join(work, dtype)
        run("tfmc", model, "--dtype", dtype, "-o", path, "-q")
        worst = 0.0
        for k, (ids, tys, hidden) in enumerate(goldens):
            got = os.path.join(work, f"{dtype}{k}.npy")
            run(path, "--prompt-ids", ids, "--token-type-ids", tys, "--dump-hidden", got)
            worst = max(worst, within(f"{dtype} hidden", np.load(got), hidden, bound))
        print(f"{name}: {dtype} hidden max abs error {worst:.3e} (within {bound})")
    print("OK")


if __name__ == "__main__":
    main()
