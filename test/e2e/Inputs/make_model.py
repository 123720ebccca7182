#!/usr/bin/env python3
"""Writes a tiny random GPT-2 model directory for the hostile-input tests.

    make_model.py DIR VOCAB [--nan TENSOR] [--tokenizer ENCODER_JSON VOCAB_BPE]
                            [--deep-metadata N] [--deep-config N]
                            [--extra DTYPE BITS ...] [--retype TENSOR DTYPE BITS]

config.json (learned positions, context 64, width 16, one layer) and
model.safetensors (seeded random f32 weights; --nan puts one NaN into TENSOR);
--tokenizer copies GPT-2's tokenizer files in as vocab.json + merges.txt;
--deep-metadata / --deep-config nest a value N levels deep in the safetensors
header's __metadata__ / in config.json.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np


def main():
    out, vocab = sys.argv[1], int(sys.argv[2])
    args = sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    d, ctx = 16, 64
    cfg = dict(model_type="gpt2", vocab_size=vocab, n_positions=ctx, n_embd=d, n_layer=1, n_head=2)
    text = json.dumps(cfg)
    if "--deep-config" in args:
        n = int(args[args.index("--deep-config") + 1])
        text = text[:-1] + ', "x": ' + "[" * n + "]" * n + "}"
    with open(os.path.join(out, "config.json"), "w") as f:
        f.write(text)
    rng = np.random.default_rng(1)
    shapes = {"wte.weight": (vocab, d), "wpe.weight": (ctx, d), "ln_f.weight": (d,), "ln_f.bias": (d,),
              "h.0.ln_1.weight": (d,), "h.0.ln_1.bias": (d,), "h.0.ln_2.weight": (d,), "h.0.ln_2.bias": (d,),
              "h.0.attn.c_attn.weight": (d, 3 * d), "h.0.attn.c_attn.bias": (3 * d,),
              "h.0.attn.c_proj.weight": (d, d), "h.0.attn.c_proj.bias": (d,),
              "h.0.mlp.c_fc.weight": (d, 4 * d), "h.0.mlp.c_fc.bias": (4 * d,),
              "h.0.mlp.c_proj.weight": (4 * d, d), "h.0.mlp.c_proj.bias": (d,)}
    tensors = {k: (rng.standard_normal(s) * 0.5).astype("<f4") for k, s in shapes.items()}
    if "--nan" in args:
        tensors[args[args.index("--nan") + 1]].flat[3] = np.nan
    if "--tokenizer" in args:
        i = args.index("--tokenizer")
        shutil.copy(args[i + 1], os.path.join(out, "vocab.json"))
        shutil.copy(args[i + 2], os.path.join(out, "merges.txt"))
    dtypes = {k: "F32" for k in tensors}
    raws = {k: t.tobytes() for k, t in tensors.items()}
    if "--retype" in args:
        i = args.index("--retype")
        name, dtype, bits = args[i + 1], args[i + 2], int(args[i + 3])
        dtypes[name] = dtype
        raws[name] = bytes(tensors[name].size * bits // 8)
    i = 0
    while "--extra" in args[i:]:
        i = args.index("--extra", i)
        dtype, bits = args[i + 1], int(args[i + 2])
        tensors["extra." + dtype] = np.zeros((2, 2))
        dtypes["extra." + dtype] = dtype
        raws["extra." + dtype] = bytes(4 * bits // 8)
        i += 3
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for k, t in tensors.items():
        raw = raws[k]
        header[k] = {"dtype": dtypes[k], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    if "--deep-metadata" in args:
        n = int(args[args.index("--deep-metadata") + 1])
        text = text.replace(b'{"format": "pt"}', b"[" * n + b"]" * n)
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    main()
