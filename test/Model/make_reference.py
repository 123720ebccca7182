#!/usr/bin/env python3
"""Independent reference numbers for the shipped trained model (examples/gpt2-kjv).

    /usr/bin/python3 test/Model/make_reference.py examples/gpt2-kjv test/Model

Writes test/Model/reference.json and test/Model/heldout_ids.npy. Nothing here
uses tfm: the weights are read from model.safetensors by hand, the text is
tokenized by tools/train-gpt2/bpe.py (Python, GPT-2's algorithm, written for
training), and the model runs as test/Golden/make_goldens.py's gpt2_logits
(GPT-2 with Hugging Face semantics in PyTorch, f32). The checks in
check_trained.py compare tfm's executables against these numbers:
 * perplexity of heldout.txt with Hugging Face's sliding window
   ("Perplexity of fixed-length models": windows of n_positions tokens every
   stride = n_positions / 2 tokens, each token after the first scored once);
 * greedy continuations (48 tokens) of three prompts, with the smallest top-2
   logit margin met on the way (a near-tie would make the ids fragile);
 * teacher-forced top-1 ids on the first windows of the held-out text.
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


def main():
    model_dir, out_dir = sys.argv[1], sys.argv[2]
    torch.set_grad_enabled(False)
    torch.set_num_threads(2)
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    enc = bpe.Encoder(bpe.load_merges(os.path.join(model_dir, "merges.txt")))
    with open(os.path.join(model_dir, "vocab.json"), encoding="utf-8") as f:
        assert json.load(f) == enc.vocab, "vocab.json does not follow from merges.txt"
    with open(os.path.join(model_dir, "heldout.txt"), encoding="utf-8") as f:
        ids = enc.encode(f.read())
    np.save(os.path.join(out_dir, "heldout_ids.npy"), np.array(ids, dtype=np.uint16))

    ctx = cfg["n_positions"]
    stride = ctx // 2
    nll, scored, prev_end, windows = 0.0, 0, 0, 0
    for begin in range(0, len(ids), stride):
        end = min(begin + ctx, len(ids))
        trg = end - prev_end
        window = ids[begin:end]
        logits = gpt2_logits(cfg, w, window).double()
        first = max(len(window) - trg, 1)
        lp = F.log_softmax(logits[first - 1:len(window) - 1], dim=-1)
        tgt = torch.tensor(window[first:])
        nll -= lp.gather(1, tgt[:, None]).sum().item()
        scored += len(window) - first
        windows += 1
        prev_end = end
        if end == len(ids):
            break
    assert scored == len(ids) - 1
    mean = nll / scored
    print(f"perplexity {math.exp(mean):.6f} over {len(ids)} tokens ({windows} windows)", flush=True)

    greedy = []
    for prompt in PROMPTS:
        seq = enc.encode(prompt)
        n0, margin = len(seq), float("inf")
        for _ in range(GREEDY_TOKENS):
            last = gpt2_logits(cfg, w, seq)[-1]
            top = torch.topk(last, 2)
            margin = min(margin, (top.values[0] - top.values[1]).item())
            seq.append(int(top.indices[0]))
        greedy.append({"prompt": prompt, "prompt_ids": seq[:n0], "ids": seq[n0:], "min_top2_margin": margin})
        print(f"greedy {prompt!r}: min top-2 margin {margin:.4f}", flush=True)

    teacher = []
    for k in range(TEACHER_WINDOWS):
        window = ids[k * ctx:(k + 1) * ctx]
        logits = gpt2_logits(cfg, w, window)
        top = torch.topk(logits, 2, dim=-1)
        teacher.append({"start": k * ctx, "length": len(window),
                        "argmax": top.indices[:, 0].tolist(),
                        "top2_margin": [round(m, 5) for m in (top.values[:, 0] - top.values[:, 1]).tolist()]})

    ref = {"model": os.path.basename(os.path.normpath(model_dir)),
           "perplexity": {"tokens": len(ids), "context": ctx, "stride": stride, "windows": windows,
                          "scored": scored, "mean_nll": mean, "perplexity": math.exp(mean)},
           "greedy": greedy, "teacher_forced": teacher}
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
