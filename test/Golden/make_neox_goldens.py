#!/usr/bin/env python3
"""Independent golden logits for tfm's GPT-NeoX family (Pythia) in PyTorch.

    /usr/bin/python3 test/Golden/make_neox_goldens.py test/Golden/models

Tiny random gpt_neox models written as `save_pretrained` names the tensors,
with the logits of this script's own PyTorch implementation for a fixed
prompt (logits.npy, tokens.npy). Nothing here uses tfm; the semantics are
written out from transformers' modeling_gpt_neox.py (v4.5x):

  * layer norms with bias (layer_norm_eps);
  * query_key_value: one nn.Linear [3d, d] whose output viewed as
    [T, H, 3 * head_dim] holds q, k, v per head (q_h = [..., :Dh],
    k_h = [..., Dh:2Dh], v_h = [..., 2Dh:]);
  * rotary embedding (rotate-half) of the first int(head_dim * rotary_pct)
    dims of q and k, base rotary_emb_base; scores * head_dim^-0.5, causal
    mask, softmax;
  * use_parallel_residual: x + attn(ln1(x)) + mlp(ln2(x)), else
    h = x + attn(ln1(x)); h + mlp(ln2(h)); MLP dense_4h_to_h(act(dense_h_to_4h));
  * final_layer_norm and the embed_out head (untied unless tie_word_embeddings).
"""
import sys

import torch
import torch.nn.functional as F

from make_llama_goldens import write_models

BASE = dict(model_type="gpt_neox", vocab_size=64, hidden_size=16, intermediate_size=32,
            num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=64,
            layer_norm_eps=1e-5, hidden_act="gelu", rotary_pct=0.25, rotary_emb_base=10000,
            use_parallel_residual=True, tie_word_embeddings=False)

VARIANTS = {
    # Pythia's form: partial rotary (a quarter of each head), parallel residual
    "neox-parallel": dict(seed=301),
    # sequential residual, half the dims rotated, another base
    "neox-sequential": dict(seed=302, use_parallel_residual=False, rotary_pct=0.5,
                            rotary_emb_base=500, num_attention_heads=4, hidden_size=32),
    # every dim rotated, BF16 weights, tied head
    "neox-full-rotary-bf16": dict(seed=303, rotary_pct=1.0, tie_word_embeddings=True,
                                  dtype="BF16"),
}

ACT = {"gelu": F.gelu, "gelu_new": lambda x: F.gelu(x, approximate="tanh"), "relu": F.relu}


def make_weights(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    d, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]

    def rnd(*shape, scale=0.2):
        return torch.randn(*shape, generator=g) * scale

    w = {"gpt_neox.embed_in.weight": rnd(v, d, scale=d ** -0.5)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}"
        for norm in ("input_layernorm", "post_attention_layernorm"):
            w[f"{p}.{norm}.weight"] = 1 + rnd(d, scale=0.1)
            w[f"{p}.{norm}.bias"] = rnd(d, scale=0.1)
        for name, out, inp in (("attention.query_key_value", 3 * d, d), ("attention.dense", d, d),
                               ("mlp.dense_h_to_4h", f, d), ("mlp.dense_4h_to_h", d, f)):
            w[f"{p}.{name}.weight"] = rnd(out, inp, scale=0.3)
            w[f"{p}.{name}.bias"] = rnd(out, scale=0.1)
    w["gpt_neox.final_layer_norm.weight"] = 1 + rnd(d, scale=0.1)
    w["gpt_neox.final_layer_norm.bias"] = rnd(d, scale=0.1)
    if not cfg["tie_word_embeddings"]:
        w["embed_out.weight"] = rnd(v, d, scale=d ** -0.5)
    return w


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def logits_of(cfg, w, tokens):
    T = len(tokens)
    d, h = cfg["hidden_size"], cfg["num_attention_heads"]
    dh = d // h
    r = int(dh * cfg["rotary_pct"])
    eps = cfg["layer_norm_eps"]
    act = ACT[cfg["hidden_act"]]
    inv = 1.0 / (cfg["rotary_emb_base"] ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))
    freqs = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos(), emb.sin()

    def ln(x, name):
        return F.layer_norm(x, (d,), w[f"{name}.weight"], w[f"{name}.bias"], eps)

    x = w["gpt_neox.embed_in.weight"][torch.tensor(tokens)]
    for l in range(cfg["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}"

        def lin(name, t):
            return t @ w[f"{p}.{name}.weight"].T + w[f"{p}.{name}.bias"]

        qkv = lin("attention.query_key_value", ln(x, f"{p}.input_layernorm")).view(T, h, 3 * dh)
        q, k, v = (qkv[..., i * dh:(i + 1) * dh].transpose(0, 1) for i in range(3))

        def rope(t):
            rot, rest = t[..., :r], t[..., r:]
            return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

        q, k = rope(q), rope(k)
        scores = (q @ k.transpose(-1, -2)) * dh ** -0.5
        keep = torch.arange(T)[None, :] <= torch.arange(T)[:, None]
        scores = scores.masked_fill(~keep, torch.finfo(torch.float32).min)
        o = (torch.softmax(scores, -1) @ v).transpose(0, 1).reshape(T, d)
        attn = lin("attention.dense", o)
        if cfg["use_parallel_residual"]:
            mlp = lin("mlp.dense_4h_to_h", act(lin("mlp.dense_h_to_4h",
                                                   ln(x, f"{p}.post_attention_layernorm"))))
            x = mlp + attn + x
        else:
            hs = attn + x
            x = lin("mlp.dense_4h_to_h", act(lin("mlp.dense_h_to_4h",
                                                 ln(hs, f"{p}.post_attention_layernorm")))) + hs
    x = ln(x, "gpt_neox.final_layer_norm")
    head = w["gpt_neox.embed_in.weight"] if cfg["tie_word_embeddings"] else w["embed_out.weight"]
    return x @ head.T


def main():
    write_models(sys.argv[1], BASE, VARIANTS, make_weights, logits_of)


if __name__ == "__main__":
    main()
