#!/usr/bin/env python3
"""Independent golden logits for tfm: GPT-2 with Hugging Face semantics in PyTorch.

    /usr/bin/python3 test/Golden/make_goldens.py test/Golden/models

For each variant below this script makes a small random model (seeded),
writes it as config.json + model.safetensors (the safetensors bytes are
written by hand from the torch tensors), runs its own PyTorch GPT-2 on a
fixed token sequence and writes the logits as logits.npy (with tokens.npy).
The models and goldens are committed; the tests check that tfm's reference
evaluator (and, through it, the frontend and every fusion pass) reproduces
them. Nothing here uses tfm.

The implementation follows transformers' GPT2Model / GPT2Attention: Conv1D
weights [in, out], layer norm with biased variance, scores / sqrt(head_dim)
(and / (layer + 1) with scale_attn_by_inverse_layer_idx), the causal mask
filled with finfo.min, softmax, gelu_new = tanh GELU; plus the variants tfm
supports (sinusoidal and rotary positions, none, bidirectional attention).
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

BASE = dict(model_type="gpt2", vocab_size=64, n_positions=16, n_embd=16, n_layer=2, n_head=2,
            n_inner=None, layer_norm_epsilon=1e-5, activation_function="gelu_new")
TOKENS = [1, 5, 9, 33, 2, 60, 17]

VARIANTS = {
    "learned": dict(seed=101),
    "sinusoidal": dict(seed=102, position_embedding_type="sinusoidal"),
    "rope": dict(seed=103, position_embedding_type="rope", rotary_dim=4, rope_theta=500.0),
    "rope-full": dict(seed=104, position_embedding_type="rope"),
    "none": dict(seed=105, position_embedding_type="none"),
    "bidirectional": dict(seed=106, is_causal=False),
    "untied": dict(seed=107, tie_word_embeddings=False),
    "erf-invidx": dict(seed=108, activation_function="gelu", n_inner=24,
                       scale_attn_by_inverse_layer_idx=True),
    "relu-bf16": dict(seed=109, activation_function="relu", dtype="BF16"),
    "f16": dict(seed=110, dtype="F16"),
    "silu": dict(seed=111, activation_function="silu"),
    "quick-gelu": dict(seed=112, activation_function="quick_gelu"),
    # The rest of ACT2FN. fc_scale widens the MLP's pre-activations (0.25 ->
    # 4: |x| up to ~30) so that the clipping of gelu_10 and relu6 happens.
    "gelu-10": dict(seed=113, activation_function="gelu_10", fc_scale=4.0),
    "laplace": dict(seed=114, activation_function="laplace"),
    "leaky-relu": dict(seed=115, activation_function="leaky_relu"),
    "linear": dict(seed=116, activation_function="linear"),
    "relu2": dict(seed=117, activation_function="relu2"),
    "relu6": dict(seed=118, activation_function="relu6", fc_scale=4.0),
    "sigmoid": dict(seed=119, activation_function="sigmoid"),
    "tanh": dict(seed=120, activation_function="tanh"),
}

TORCH_DTYPE = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def make_weights(cfg, seed, fc_scale=0.25):
    g = torch.Generator().manual_seed(seed)
    d, v, p = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
    inner = cfg.get("n_inner") or 4 * d

    def r(*shape, scale=0.25, shift=0.0):
        return torch.randn(*shape, generator=g) * scale + shift

    w = {"wte.weight": r(v, d)}
    if cfg.get("position_embedding_type", "learned") == "learned":
        w["wpe.weight"] = r(p, d)
    for l in range(cfg["n_layer"]):
        h = f"h.{l}."
        w.update({
            h + "ln_1.weight": r(d, shift=1.0), h + "ln_1.bias": r(d),
            h + "attn.c_attn.weight": r(d, 3 * d), h + "attn.c_attn.bias": r(3 * d),
            h + "attn.c_proj.weight": r(d, d), h + "attn.c_proj.bias": r(d),
            h + "ln_2.weight": r(d, shift=1.0), h + "ln_2.bias": r(d),
            h + "mlp.c_fc.weight": r(d, inner, scale=fc_scale), h + "mlp.c_fc.bias": r(inner),
            h + "mlp.c_proj.weight": r(inner, d), h + "mlp.c_proj.bias": r(d),
        })
    w["ln_f.weight"] = r(d, shift=1.0)
    w["ln_f.bias"] = r(d)
    if cfg.get("tie_word_embeddings") is False:
        w["lm_head.weight"] = r(v, d)
    return w


def save_safetensors(path, tensors, dtype):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.to(TORCH_DTYPE[dtype]).contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if dtype != "F32" else t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, positions, r, theta):
    """x: [H, T, Dh]; rotate the first r dims of each head (GPT-NeoX / Llama convention)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, r, 2, dtype=torch.float32) / r))
    freqs = positions.float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)  # [T, r]
    cos, sin = emb.cos(), emb.sin()
    rot, rest = x[..., :r], x[..., r:]
    rot = rot * cos + rotate_half(rot) * sin
    return torch.cat((rot, rest), dim=-1)


def gpt2_logits(cfg, w, tokens, mm=torch.matmul):
    """Logits [T, vocab] of `tokens`. `mm` computes every product by a weight
    (the four projections of each block and the lm head); the default is f32
    matmul (test/Model/make_reference.py passes a bf16 emulation)."""
    d, H = cfg["n_embd"], cfg["n_head"]
    dh = d // H
    eps = cfg["layer_norm_epsilon"]
    T = len(tokens)
    tok = torch.tensor(tokens)
    pos = torch.arange(T)
    kind = cfg.get("position_embedding_type", "learned")
    x = w["wte.weight"][tok]
    if kind == "learned":
        x = x + w["wpe.weight"][pos]
    elif kind == "sinusoidal":
        div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
        pe = torch.zeros(T, d)
        pe[:, 0::2] = torch.sin(pos.float()[:, None] * div)
        pe[:, 1::2] = torch.cos(pos.float()[:, None] * div)
        x = x + pe
    act = {"gelu_new": lambda t: 0.5 * t * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (t + 0.044715 * torch.pow(t, 3.0)))),
           "gelu": F.gelu, "relu": F.relu, "silu": F.silu,
           "quick_gelu": lambda t: t * torch.sigmoid(1.702 * t),
           # transformers/activations.py: ClippedGELUActivation(-10, 10),
           # LaplaceActivation(mu=0.707107, sigma=0.282095),
           # nn.LeakyReLU() (slope 0.01), LinearActivation,
           # ReLUSquaredActivation, nn.ReLU6, nn.Sigmoid, nn.Tanh.
           "gelu_10": lambda t: torch.clip(F.gelu(t), -10.0, 10.0),
           "laplace": lambda t: 0.5 * (1.0 + torch.erf((t - 0.707107) / (0.282095 * math.sqrt(2.0)))),
           "leaky_relu": lambda t: F.leaky_relu(t, 0.01),
           "linear": lambda t: t,
           "relu2": lambda t: torch.square(F.relu(t)),
           "relu6": F.relu6,
           "sigmoid": torch.sigmoid,
           "tanh": torch.tanh}[cfg["activation_function"]]
    causal = cfg.get("is_causal", True)
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(cfg["n_layer"]):
        p = f"h.{l}."
        h = F.layer_norm(x, (d,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = mm(h, w[p + "attn.c_attn.weight"]) + w[p + "attn.c_attn.bias"]
        q, k, v = qkv.split(d, dim=-1)
        q, k, v = (t.view(T, H, dh).transpose(0, 1) for t in (q, k, v))
        if kind == "rope":
            r = cfg.get("rotary_dim") or dh
            theta = cfg.get("rope_theta", 10000.0)
            q, k = apply_rope(q, pos, r, theta), apply_rope(k, pos, r, theta)
        att = q @ k.transpose(-1, -2)
        if cfg.get("scale_attn_weights", True):
            att = att / torch.full([], v.size(-1) ** 0.5)
        if cfg.get("scale_attn_by_inverse_layer_idx", False):
            att = att / float(l + 1)
        if causal:
            att = torch.where(mask, att, torch.full([], torch.finfo(att.dtype).min))
        att = torch.softmax(att, dim=-1)
        y = (att @ v).transpose(0, 1).reshape(T, d)
        x = x + (mm(y, w[p + "attn.c_proj.weight"]) + w[p + "attn.c_proj.bias"])
        h = F.layer_norm(x, (d,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = act(mm(h, w[p + "mlp.c_fc.weight"]) + w[p + "mlp.c_fc.bias"])
        x = x + (mm(m, w[p + "mlp.c_proj.weight"]) + w[p + "mlp.c_proj.bias"])
    x = F.layer_norm(x, (d,), w["ln_f.weight"], w["ln_f.bias"], eps)
    head = w["lm_head.weight"] if cfg.get("tie_word_embeddings") is False else w["wte.weight"]
    return mm(x, head.T)


def main():
    out = sys.argv[1]
    torch.set_grad_enabled(False)
    for name, spec in VARIANTS.items():
        spec = dict(spec)
        seed, dtype = spec.pop("seed"), spec.pop("dtype", "F32")
        fc_scale = spec.pop("fc_scale", 0.25)
        cfg = dict(BASE, **spec)
        directory = os.path.join(out, name)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        w = make_weights(cfg, seed, fc_scale)
        save_safetensors(os.path.join(directory, "model.safetensors"), w, dtype)
        # The model as stored: weights rounded to their dtype, computed in f32.
        w = {k: t.to(TORCH_DTYPE[dtype]).float() for k, t in w.items()}
        logits = gpt2_logits(cfg, w, TOKENS)
        np.save(os.path.join(directory, "tokens.npy"), np.array(TOKENS, dtype=np.int64))
        np.save(os.path.join(directory, "logits.npy"), logits.numpy().astype(np.float32))
        print(f"{name}: seed {seed}, {dtype}, logits {tuple(logits.shape)}")


if __name__ == "__main__":
    main()
