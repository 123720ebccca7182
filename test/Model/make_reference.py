#!/usr/bin/env python3
"""Independent reference numbers for the shipped trained models (examples/gpt2-kjv, examples/llama-kjv).

    /usr/bin/python3 test/Model/make_reference.py examples/gpt2-kjv test/Model
    /usr/bin/python3 test/Model/make_reference.py examples/llama-kjv test/Model/llama-kjv

Writes OUT/reference.json and OUT/heldout_ids.npy. Nothing here uses tfm: the
weights are read from model.safetensors by hand, the text is tokenized by
tools/train-gpt2/bpe.py (Python, GPT-2's algorithm, written for training)
with the merges of merges.txt or of tokenizer.json's BPE model, and the
model runs in PyTorch, f32, with Hugging Face semantics: GPT-2 as
test/Golden/make_goldens.py's gpt2_logits, Llama as
test/Golden/make_llama_goldens.py's logits_of. The checks in
check_trained.py compare tfm's executables against these numbers:
 * perplexity of heldout.txt with Hugging Face's sliding window
   ("Perplexity of fixed-length models": windows of n_positions tokens every
   stride = n_positions / 2 tokens, each token after the first scored once),
   and with windows of a quarter of that every eighth (--ppl-context);
 * greedy continuations (48 tokens) of three prompts, with the smallest top-2
   logit margin met on the way (a near-tie would make the ids fragile);
 * teacher-forced top-1 ids on the first windows of the held-out text;
 * for information (MODEL.md), the same perplexity and top-1 with tfm's bf16
   arithmetic emulated (bf16 weights and activations into every matmul by a
   weight, f32 accumulation): what --dtype=bf16 costs, measured even on CPUs
   where oneDNN has no bf16 matmul and bf16 executables run f32.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "Golden"))
sys.path.insert(0, os.path.join(ROOT, "tools", "train-gpt2"))
from make_goldens import gpt2_logits  # noqa: E402
import make_llama_goldens  # noqa: E402
import bpe  # noqa: E402

PROMPTS = ["In the beginning", "And the LORD said unto Moses,", "Blessed are the"]
GREEDY_TOKENS = 48
TEACHER_WINDOWS = 4


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").copy()
                                     .reshape(info["shape"]))
    return out


def bf16(t):
    return t.to(torch.bfloat16).float()


def bf16_matmul(a, b):
    """What tfm's --dtype=bf16 does in every matmul by a weight: bf16-rounded
    weights and activations, f32 accumulation (embeddings, layer norms and
    attention stay f32, as in tfm's runtime)."""
    return bf16(a) @ bf16(b)


def perplexity(forward, ids, ctx, stride):
    """Hugging Face's sliding-window perplexity; returns (mean nll, scored, windows)."""
    nll, scored, prev_end, windows = 0.0, 0, 0, 0
    for begin in range(0, len(ids), stride):
        end = min(begin + ctx, len(ids))
        trg = end - prev_end
        window = ids[begin:end]
        logits = forward(window).double()
        first = max(len(window) - trg, 1)
        lp = F.log_softmax(logits[first - 1:len(window) - 1], dim=-1)
        tgt = torch.tensor(window[first:])
        nll -= lp.gather(1, tgt[:, None]).sum().item()
        scored += len(window) - first
        windows += 1
        prev_end = end
        if end == len(ids):
            break
    return nll / scored, scored, windows


def encoder(model_dir):
    """The Python BPE with the model's merges: merges.txt (+ vocab.json), or tokenizer.json's BPE model."""
    path = os.path.join(model_dir, "tokenizer.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            tok = json.load(f)
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in tok["model"]["merges"]]
        enc = bpe.Encoder(merges)
        vocab = dict(tok["model"]["vocab"], **{t["content"]: t["id"] for t in tok["added_tokens"]})
        assert vocab == enc.vocab, "tokenizer.json's vocabulary does not follow from its merges"
        return enc
    enc = bpe.Encoder(bpe.load_merges(os.path.join(model_dir, "merges.txt")))
    with open(os.path.join(model_dir, "vocab.json"), encoding="utf-8") as f:
        assert json.load(f) == enc.vocab, "vocab.json does not follow from merges.txt"
    return enc


def main():
    model_dir, out_dir = sys.argv[1], sys.argv[2]
    torch.set_grad_enabled(False)
    torch.set_num_threads(2)
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    enc = encoder(model_dir)
    if cfg["model_type"] == "gpt2":
        ctx, logits_fn = cfg["n_positions"], gpt2_logits
    elif cfg["model_type"] == "llama":
        ctx, logits_fn = cfg["max_position_embeddings"], make_llama_goldens.logits_of
    else:
        raise SystemExit(f"make_reference.py: no reference for model_type {cfg['model_type']!r}")
    with open(os.path.join(model_dir, "heldout.txt"), encoding="utf-8") as f:
        ids = enc.encode(f.read())
    np.save(os.path.join(out_dir, "heldout_ids.npy"), np.array(ids, dtype=np.uint16))

    stride = ctx // 2
    mean, scored, windows = perplexity(lambda t: logits_fn(cfg, w, t), ids, ctx, stride)
    assert scored == len(ids) - 1
    print(f"perplexity {math.exp(mean):.6f} over {len(ids)} tokens ({windows} windows)", flush=True)
    # A shorter window (the executables' --ppl-context / --ppl-stride).
    short = {}
    for c, st in ((ctx // 4, ctx // 8),):
        m, sc, wi = perplexity(lambda t: logits_fn(cfg, w, t), ids, c, st)
        short[f"{c}/{st}"] = {"context": c, "stride": st, "windows": wi, "scored": sc, "mean_nll": m,
                              "perplexity": math.exp(m)}
        print(f"perplexity with windows of {c}, stride {st}: {math.exp(m):.6f} ({wi} windows)", flush=True)
    mean16, _, _ = perplexity(lambda t: logits_fn(cfg, w, t, mm=bf16_matmul), ids, ctx, stride)
    print(f"bf16 (emulated) perplexity {math.exp(mean16):.6f}", flush=True)

    greedy = []
    for prompt in PROMPTS:
        seq = enc.encode(prompt)
        n0, margin = len(seq), float("inf")
        for _ in range(GREEDY_TOKENS):
            last = logits_fn(cfg, w, seq)[-1]
            top = torch.topk(last, 2)
            margin = min(margin, (top.values[0] - top.values[1]).item())
            seq.append(int(top.indices[0]))
        greedy.append({"prompt": prompt, "prompt_ids": seq[:n0], "ids": seq[n0:], "min_top2_margin": margin})
        print(f"greedy {prompt!r}: min top-2 margin {margin:.4f}", flush=True)

    teacher, agree16, total16 = [], 0, 0
    for k in range(TEACHER_WINDOWS):
        window = ids[k * ctx:(k + 1) * ctx]
        logits = logits_fn(cfg, w, window)
        agree16 += int((logits_fn(cfg, w, window, mm=bf16_matmul).argmax(-1) == logits.argmax(-1)).sum())
        total16 += len(window)
        top = torch.topk(logits, 2, dim=-1)
        teacher.append({"start": k * ctx, "length": len(window),
                        "argmax": top.indices[:, 0].tolist(),
                        "top2_margin": [round(m, 5) for m in (top.values[:, 0] - top.values[:, 1]).tolist()]})

    print(f"bf16 (emulated) teacher-forced top-1 agreement with f32: {agree16}/{total16}", flush=True)
    ref = {"model": os.path.basename(os.path.normpath(model_dir)),
           "perplexity": {"tokens": len(ids), "context": ctx, "stride": stride, "windows": windows,
                          "scored": scored, "mean_nll": mean, "perplexity": math.exp(mean)},
           "perplexity_windows": short,
           "bf16_emulated": {"perplexity": math.exp(mean16), "mean_nll": mean16,
                             "top1_agreement": [agree16, total16]},
           "greedy": greedy, "teacher_forced": teacher}
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
