#!/usr/bin/env python3
"""Independent golden logits for tfm's Llama family (llama, mistral, qwen2) in PyTorch.

    /usr/bin/python3 test/Golden/make_llama_goldens.py test/Golden/models

For each variant below this script makes a small random model (seeded),
writes it as config.json + model.safetensors as `save_pretrained` names the
tensors, runs its own PyTorch implementation on a fixed token sequence and
writes the logits as logits.npy (with tokens.npy). Nothing here uses tfm;
transformers is not installed on these machines, so the semantics are
written out from transformers' modeling_llama.py / modeling_mistral.py /
modeling_qwen2.py and modeling_rope_utils.py (v4.5x):

  * LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * weight, in f32;
  * nn.Linear weights [out, in]; q/k/v biases for qwen2 (always) and llama
    with attention_bias; o_proj bias for llama with attention_bias only;
    MLP biases for llama with mlp_bias;
  * rotary embedding, rotate-half, of q and k with inv_freq from the
    rope_scaling type (default, linear, llama3, yarn and its attention
    factor on cos and sin); rope_theta / rope_scaling, or v5's
    rope_parameters;
  * grouped-query attention by repeat_kv, scores * head_dim^-0.5, causal
    mask (min float), a sliding window keeps keys with q - k < window
    (mistral: sliding_window; qwen2: use_sliding_window from layer
    max_window_layers on), softmax in f32;
  * gated MLP down(act(gate(x)) * up(x)) with ACT2FN[hidden_act];
  * lm_head tied to embed_tokens when tie_word_embeddings.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

TOKENS = [1, 5, 9, 33, 2, 60, 17]
BASE = dict(vocab_size=64, hidden_size=16, intermediate_size=24, num_hidden_layers=2,
            num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
            rms_norm_eps=1e-6, hidden_act="silu", rope_theta=10000.0,
            tie_word_embeddings=False)

VARIANTS = {
    # multi-head attention, untied, llama defaults
    "llama-mha": dict(seed=201, model_type="llama"),
    # grouped-query attention, groups of 3 (6 query heads on 2 kv heads)
    "llama-gqa3": dict(seed=202, model_type="llama", hidden_size=24, num_attention_heads=6,
                       num_key_value_heads=2),
    # multi-query attention, a group of 7
    "llama-mqa7": dict(seed=203, model_type="llama", hidden_size=28, num_attention_heads=7,
                       num_key_value_heads=1),
    # explicit head_dim (heads x head_dim = 24 != hidden 16), tied, biases
    "llama-headdim": dict(seed=204, model_type="llama", head_dim=12, num_key_value_heads=1,
                          tie_word_embeddings=True, attention_bias=True, mlp_bias=True),
    # rope scalings
    "llama-linear": dict(seed=205, model_type="llama",
                         rope_scaling=dict(rope_type="linear", factor=2.0)),
    "llama3-scaling": dict(seed=206, model_type="llama", rope_theta=10000.0,
                           rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                             high_freq_factor=4.0,
                                             original_max_position_embeddings=64)),
    "llama-yarn": dict(seed=207, model_type="llama", max_position_embeddings=64,
                       rope_scaling=dict(rope_type="yarn", factor=4.0,
                                         original_max_position_embeddings=16)),
    # transformers v5: rope_parameters instead of rope_theta / rope_scaling
    "llama-rope-parameters": dict(seed=208, model_type="llama", rope_theta=None,
                                  rope_parameters=dict(rope_type="linear", rope_theta=500.0,
                                                       factor=3.0)),
    # BF16-stored weights
    "llama-bf16": dict(seed=209, model_type="llama", num_key_value_heads=1, dtype="BF16"),
    # mistral: GQA and a sliding window shorter than the prompt
    "mistral-window": dict(seed=210, model_type="mistral", hidden_size=32,
                           num_attention_heads=4, num_key_value_heads=2, sliding_window=3),
    # qwen2: q/k/v biases, tied, and a window on layers >= max_window_layers
    "qwen2": dict(seed=211, model_type="qwen2", tie_word_embeddings=True,
                  num_key_value_heads=1),
    "qwen2-window": dict(seed=212, model_type="qwen2", use_sliding_window=True,
                         sliding_window=4, max_window_layers=1),
}

TORCH_DTYPE = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
SAFETENSORS_DTYPE = {"F32": "F32", "F16": "F16", "BF16": "BF16"}


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def biases(cfg):
    """(q/k/v bias, o_proj bias, mlp bias) as each family's modules create them."""
    t = cfg["model_type"]
    if t == "qwen2":
        return True, False, False
    if t == "mistral":
        return False, False, False
    ab = cfg.get("attention_bias", False)
    return ab, ab, cfg.get("mlp_bias", False)


def make_weights(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    d, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    h, kv, dh = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    qkv_b, o_b, mlp_b = biases(cfg)

    def rnd(*shape, scale=0.2):
        return torch.randn(*shape, generator=g) * scale

    w = {"model.embed_tokens.weight": rnd(v, d, scale=d ** -0.5)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}"
        w[f"{p}.input_layernorm.weight"] = 1 + rnd(d, scale=0.1)
        w[f"{p}.post_attention_layernorm.weight"] = 1 + rnd(d, scale=0.1)
        for name, out, inp, bias in (("q_proj", h * dh, d, qkv_b), ("k_proj", kv * dh, d, qkv_b),
                                     ("v_proj", kv * dh, d, qkv_b), ("o_proj", d, h * dh, o_b)):
            w[f"{p}.self_attn.{name}.weight"] = rnd(out, inp, scale=0.3)
            if bias:
                w[f"{p}.self_attn.{name}.bias"] = rnd(out, scale=0.2)
        for name, out, inp in (("gate_proj", f, d), ("up_proj", f, d), ("down_proj", d, f)):
            w[f"{p}.mlp.{name}.weight"] = rnd(out, inp, scale=0.3)
            if mlp_b:
                w[f"{p}.mlp.{name}.bias"] = rnd(out, scale=0.1)
    w["model.norm.weight"] = 1 + rnd(d, scale=0.1)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = rnd(v, d, scale=d ** -0.5)
    return w


def save_safetensors(path, tensors, dtype):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].to(TORCH_DTYPE[dtype]).contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if dtype in ("BF16", "F16") \
            else t.numpy().tobytes()
        header[name] = dict(dtype=SAFETENSORS_DTYPE[dtype], shape=list(t.shape),
                            data_offsets=[offset, offset + len(raw)])
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def rope_parameters(cfg):
    """modeling_rope_utils.py: (inv_freq f32 [dim/2], attention_factor)."""
    scaling = cfg.get("rope_parameters") or cfg.get("rope_scaling") or {}
    base = scaling.get("rope_theta", cfg.get("rope_theta") or 10000.0) \
        if "rope_parameters" in cfg else cfg.get("rope_theta", 10000.0)
    dim = head_dim(cfg)
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    if kind == "default":
        return inv, 1.0
    if kind == "linear":
        return inv / scaling["factor"], 1.0
    if kind == "llama3":
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        return torch.where(medium, smoothed, inv_l), 1.0
    if kind == "yarn":
        factor = scaling["factor"]
        original = scaling.get("original_max_position_embeddings") or cfg["max_position_embeddings"]
        if "original_max_position_embeddings" in scaling:
            factor = cfg["max_position_embeddings"] / original

        def mscale(s, m=1.0):
            return 1.0 if s <= 1 else 0.1 * m * math.log(s) + 1.0

        att = scaling.get("attention_factor")
        if att is None:
            att = mscale(factor)
        beta_fast, beta_slow = scaling.get("beta_fast") or 32, scaling.get("beta_slow") or 1

        def corr(rot):
            return dim * math.log(original / (rot * 2 * math.pi)) / (2 * math.log(base))

        lo, hi = math.floor(corr(beta_fast)), math.ceil(corr(beta_slow))
        lo, hi = max(lo, 0), min(hi, dim - 1)
        if lo == hi:
            hi += 0.001
        ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - lo) / (hi - lo), 0, 1)
        extra = 1 - ramp
        pos = base ** (torch.arange(0, dim, 2).float() / dim)
        inv = (1.0 / (factor * pos)) * (1 - extra) + (1.0 / pos) * extra
        return inv, att
    raise ValueError(kind)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


ACT = {"silu": F.silu, "gelu": F.gelu, "relu": F.relu,
       "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh")}


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def windows(cfg):
    n = cfg["num_hidden_layers"]
    if cfg["model_type"] == "mistral":
        return [cfg.get("sliding_window")] * n
    if cfg["model_type"] == "qwen2" and cfg.get("use_sliding_window"):
        return [cfg["sliding_window"] if l >= cfg.get("max_window_layers", 28) else None
                for l in range(n)]
    return [None] * n


def logits_of(cfg, w, tokens, mm=torch.matmul):
    """Logits [T, vocab] of `tokens`. `mm` computes every product by a weight
    (make_reference.py passes one that emulates bf16 arithmetic)."""
    T = len(tokens)
    d, h, kv, dh = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], \
        head_dim(cfg)
    eps = cfg["rms_norm_eps"]
    act = ACT[cfg["hidden_act"]]
    inv, att = rope_parameters(cfg)
    pos = torch.arange(T, dtype=torch.float32)
    freqs = pos[:, None] * inv[None, :]
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos() * att, emb.sin() * att
    x = w["model.embed_tokens.weight"][torch.tensor(tokens)]
    for l, window in enumerate(windows(cfg)):
        p = f"model.layers.{l}"

        def lin(name, t):
            y = mm(t, w[f"{p}.{name}.weight"].T)
            b = w.get(f"{p}.{name}.bias")
            return y + b if b is not None else y

        hs = rms_norm(x, w[f"{p}.input_layernorm.weight"], eps)
        q = lin("self_attn.q_proj", hs).view(T, h, dh).transpose(0, 1)
        k = lin("self_attn.k_proj", hs).view(T, kv, dh).transpose(0, 1)
        v = lin("self_attn.v_proj", hs).view(T, kv, dh).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(h // kv, dim=0)  # repeat_kv
        v = v.repeat_interleave(h // kv, dim=0)
        scores = (q @ k.transpose(-1, -2)) * dh ** -0.5
        qi, ki = torch.arange(T)[:, None], torch.arange(T)[None, :]
        keep = ki <= qi
        if window:
            keep = keep & (ki > qi - window)
        scores = scores.masked_fill(~keep, torch.finfo(torch.float32).min)
        probs = torch.softmax(scores, dim=-1)
        o = (probs @ v).transpose(0, 1).reshape(T, h * dh)
        x = x + lin("self_attn.o_proj", o)
        hs = rms_norm(x, w[f"{p}.post_attention_layernorm.weight"], eps)
        x = x + lin("mlp.down_proj", act(lin("mlp.gate_proj", hs)) * lin("mlp.up_proj", hs))
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return mm(x, head.T)


def write_models(out, base, variants, make_weights, logits_of):
    """Writes each variant (seed, optional dtype, config keys over `base`) as
    config.json + model.safetensors, with tokens.npy and the logits.npy of
    `logits_of(cfg, weights as stored, TOKENS)`; null keys are left out."""
    torch.set_grad_enabled(False)
    for name, spec in variants.items():
        spec = dict(spec)
        seed, dtype = spec.pop("seed"), spec.pop("dtype", "F32")
        cfg = {k: v for k, v in dict(base, **spec).items() if v is not None}
        directory = os.path.join(out, name)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        w = make_weights(cfg, seed)
        save_safetensors(os.path.join(directory, "model.safetensors"), w, dtype)
        # The model as stored: weights rounded to their dtype, computed in f32.
        w = {k: t.to(TORCH_DTYPE[dtype]).float() for k, t in w.items()}
        logits = logits_of(cfg, w, TOKENS)
        np.save(os.path.join(directory, "tokens.npy"), np.array(TOKENS, dtype=np.int64))
        np.save(os.path.join(directory, "logits.npy"), logits.numpy().astype(np.float32))
        print(f"{name}: seed {seed}, {dtype}, logits {tuple(logits.shape)}")


def main():
    write_models(sys.argv[1], BASE, VARIANTS, make_weights, logits_of)


if __name__ == "__main__":
    main()
