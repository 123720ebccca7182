#!/usr/bin/env python3
"""Trains examples/llama-kjv: a small Llama on the King James Bible.

    /usr/bin/python3 tools/train-llama/train.py OUT_DIR [--steps N] [--seed S] ...
    /usr/bin/python3 tools/train-llama/train.py OUT_DIR --sweep   # tokens/s of candidate shapes

The second trained model of tfm, beside examples/gpt2-kjv: the same text,
the same held-out split and the same tokenizer, so the two held-out
perplexities compare directly. What it needs comes from Debian
(bash tools/train-gpt2/setup.sh).

Steps, deterministic from --seed with a fixed thread count:
 1. corpus: tools/train-gpt2/train.py's (every chapter as "Book N" and one
    verse per line; index % 20 == 10 held out) -> OUT/heldout.txt;
 2. tokenizer: gpt2-kjv's byte-level BPE (examples/gpt2-kjv/merges.txt, the
    ids of tools/train-gpt2/bpe.py), written as a Hugging Face tokenizer.json
    in the layout Llama 3 ships (a Split pre-tokenizer with the regex, then
    ByteLevel without its own regex; merges as pairs) -> OUT/tokenizer.json;
 3. model: Llama with Hugging Face semantics (LlamaForCausalLM): RMSNorm
    pre-norm blocks, rotary embeddings (rotate-half, theta 10000) on q and k,
    grouped-query attention (8 query heads on 2 key/value heads), a SwiGLU
    MLP down(silu(gate(x)) * up(x)), no biases, tied head; f32, AdamW with
    linear warm-up and cosine decay, random windows of the training ids, the
    recipe of gpt2-kjv (dropout on attention and residuals in training only);
 4. export: OUT/config.json (model_type llama) and OUT/model.safetensors with
    save_pretrained's tensor names (model.embed_tokens.weight,
    model.layers.N.self_attn.q_proj.weight [out, in], ...).
"""
import argparse
import importlib.util
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "train-gpt2"))
import bpe  # noqa: E402

# tools/train-gpt2/train.py: the corpus, safetensors writer and held-out estimate are shared.
_spec = importlib.util.spec_from_file_location("train_gpt2", os.path.join(ROOT, "tools", "train-gpt2", "train.py"))
train_gpt2 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train_gpt2)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(d)), eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Block(nn.Module):
    def __init__(self, d, heads, kv_heads, inter, eps, p):
        super().__init__()
        self.h, self.kv, self.dh = heads, kv_heads, d // heads
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(d, eps), RMSNorm(d, eps)
        self.q_proj = nn.Linear(d, heads * self.dh, bias=False)
        self.k_proj = nn.Linear(d, kv_heads * self.dh, bias=False)
        self.v_proj = nn.Linear(d, kv_heads * self.dh, bias=False)
        self.o_proj = nn.Linear(heads * self.dh, d, bias=False)
        self.gate_proj = nn.Linear(d, inter, bias=False)
        self.up_proj = nn.Linear(d, inter, bias=False)
        self.down_proj = nn.Linear(inter, d, bias=False)
        self.drop = nn.Dropout(p)

    def forward(self, x, mask, cos, sin):
        B, T, d = x.shape
        hs = self.input_layernorm(x)
        q = self.q_proj(hs).view(B, T, self.h, self.dh).transpose(1, 2)
        k = self.k_proj(hs).view(B, T, self.kv, self.dh).transpose(1, 2)
        v = self.v_proj(hs).view(B, T, self.kv, self.dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(self.h // self.kv, dim=1)
        v = v.repeat_interleave(self.h // self.kv, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.dh)
        att = self.drop(torch.softmax(att.masked_fill(mask[:T, :T], float("-inf")), dim=-1))
        y = (att @ v).transpose(1, 2).reshape(B, T, self.h * self.dh)
        x = x + self.drop(self.o_proj(y))
        hs = self.post_attention_layernorm(x)
        return x + self.drop(self.down_proj(F.silu(self.gate_proj(hs)) * self.up_proj(hs)))


class Llama(nn.Module):
    def __init__(self, vocab, ctx, d, layers, heads, kv_heads, inter, theta, eps, dropout):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(Block(d, heads, kv_heads, inter, eps, dropout) for _ in range(layers))
        self.norm = RMSNorm(d, eps)
        self.drop = nn.Dropout(dropout)
        self.register_buffer("mask", ~torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)), persistent=False)
        dh = d // heads
        inv = 1.0 / (theta ** (torch.arange(0, dh, 2, dtype=torch.int64).float() / dh))
        freqs = torch.arange(ctx, dtype=torch.float32)[:, None] * inv[None, :]
        emb = torch.cat((freqs, freqs), -1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)
        # N(0, 0.02) (LlamaConfig's initializer_range), the residual projections scaled by
        # 1/sqrt(2 * layers) as in gpt2-kjv's recipe.
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if ("o_proj" in name or "down_proj" in name) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, ids):
        T = ids.shape[1]
        x = self.drop(self.embed_tokens(ids))
        for b in self.layers:
            x = b(x, self.mask, self.cos[:T], self.sin[:T])
        return self.norm(x) @ self.embed_tokens.weight.T


def hf_tensors(model):
    """The parameters under LlamaForCausalLM's names (nn.Linear [out, in]); tied, so no lm_head."""
    out = {"model.embed_tokens.weight": model.embed_tokens.weight, "model.norm.weight": model.norm.weight}
    for i, b in enumerate(model.layers):
        p = f"model.layers.{i}."
        out.update({
            p + "input_layernorm.weight": b.input_layernorm.weight,
            p + "post_attention_layernorm.weight": b.post_attention_layernorm.weight,
            **{p + f"self_attn.{n}.weight": getattr(b, n).weight for n in ("q_proj", "k_proj", "v_proj", "o_proj")},
            **{p + f"mlp.{n}.weight": getattr(b, n).weight for n in ("gate_proj", "up_proj", "down_proj")},
        })
    return out


def tokenizer_json(merges, enc):
    """gpt2-kjv's BPE as tokenizers serializes a byte-level BPE in Llama 3's layout."""
    eot = bpe.EOT
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": enc.vocab[eot], "content": eot, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": bpe.PATTERN.pattern}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {k: v for k, v in enc.vocab.items() if k != eot},
                  "merges": [[a, b] for a, b in merges]},
    }


def main():
    train_gpt2.keep_malloc_arenas()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--merges", default=os.path.join(ROOT, "examples", "gpt2-kjv", "merges.txt"),
                    help="the BPE merges to share (default: gpt2-kjv's)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--inter", type=int, default=704, help="intermediate_size (SwiGLU: ~2/3 of 4d, x64)")
    ap.add_argument("--theta", type=float, default=10000.0)
    ap.add_argument("--eps", type=float, default=1e-5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--sweep", action="store_true", help="time a few steps of candidate shapes and exit")
    args = ap.parse_args()

    t0 = time.time()
    train_text, held_text = train_gpt2.start(args)

    merges = bpe.load_merges(args.merges)
    enc = bpe.Encoder(merges)
    vocab = len(enc.vocab)

    if args.sweep:
        rng = np.random.default_rng(0)
        for layers, d, inter in [(6, 256, 704), (8, 256, 704), (6, 320, 896)]:
            torch.manual_seed(0)
            m = Llama(vocab, args.ctx, d, layers, d // 32, max(1, d // 128), inter, args.theta, args.eps,
                      args.dropout)
            n_params, tps = train_gpt2.sweep_speed(m, vocab, args, rng)
            print(f"sweep: layers {layers} d {d} intermediate {inter}: {n_params / 1e6:.2f}M params, "
                  f"{tps:.0f} tokens/s", flush=True)
        return

    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(merges, enc), f, ensure_ascii=False)
    t = time.time()
    train_ids = enc.encode(train_text)
    held_ids = enc.encode(held_text)
    print(f"tokenizer: {len(merges)} merges, vocabulary {vocab}, {len(train_ids)} training tokens, "
          f"{len(held_ids)} held-out tokens ({time.time() - t:.0f} s)", flush=True)

    model = Llama(vocab, args.ctx, args.d, args.layers, args.heads, args.kv_heads, args.inter, args.theta,
                  args.eps, args.dropout)
    print(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters", flush=True)
    train_gpt2.train(model, train_ids, held_ids, vocab, args)

    eot = enc.vocab[bpe.EOT]
    cfg = dict(model_type="llama", architectures=["LlamaForCausalLM"], vocab_size=vocab,
               hidden_size=args.d, intermediate_size=args.inter, num_hidden_layers=args.layers,
               num_attention_heads=args.heads, num_key_value_heads=args.kv_heads, head_dim=args.d // args.heads,
               hidden_act="silu", max_position_embeddings=args.ctx, rms_norm_eps=args.eps,
               rope_theta=args.theta, rope_scaling=None, attention_bias=False, mlp_bias=False,
               tie_word_embeddings=True, bos_token_id=eot, eos_token_id=eot, torch_dtype="float32")
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    meta = {"format": "pt", "trained_by": "tools/train-llama/train.py",
            "args": json.dumps({k: v for k, v in vars(args).items() if k not in ("out", "merges")})}
    train_gpt2.save_safetensors(os.path.join(args.out, "model.safetensors"), hf_tensors(model), meta)
    print(f"done in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
