#!/usr/bin/env python3
"""Trains tfm's default model: a small GPT-2 on the King James Bible.

    /usr/bin/python3 tools/train-gpt2/train.py OUT_DIR [--steps N] [--seed S] ...
    /usr/bin/python3 tools/train-gpt2/train.py OUT_DIR --sweep   # tokens/s of candidate shapes

Everything it needs comes from Debian (bash tools/train-gpt2/setup.sh): the text
from `bible-kjv-text` (the KJV of 1611, public domain; read through the
`bible` program of `bible-kjv`), PyTorch, `python3-regex`, and OpenBLAS as
the system BLAS (Debian's PyTorch calls libblas.so.3: the reference BLAS
gives ~3 GFLOP/s for an f32 matmul here, OpenBLAS ~100).

Steps, all deterministic from --seed with a fixed thread count:
 1. corpus: every chapter as "Book N" and one verse per line (verse numbers
    dropped); chapters with index % 20 == 10 are held out (~5%, never trained
    on, not even by the tokenizer) and written to OUT/heldout.txt;
 2. tokenizer: a byte-level BPE in GPT-2's format trained on the training
    chapters (bpe.py) -> OUT/vocab.json, OUT/merges.txt;
 3. model: GPT-2 with Hugging Face semantics (learned positions, pre-LN
    blocks, tanh GELU, tied head, Conv1D weights [in, out]), f32, AdamW with
    linear warm-up and cosine decay, random windows of the training ids;
    logs training loss and held-out perplexity to OUT/train_log.tsv;
 4. export: OUT/config.json (model_type gpt2) and OUT/model.safetensors with
    Hugging Face's tensor names (the hub's gpt2 layout: wte.weight, h.0...).
"""
import argparse
import json
import math
import os
import re
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

HELDOUT_EVERY, HELDOUT_AT = 20, 10


def corpus():
    """Returns (train_text, heldout_text) from the KJV as the `bible` program prints it."""
    raw = subprocess.run(["bible", "Gen1:1-Rev22:21"], check=True, capture_output=True,
                         text=True, env=dict(os.environ, COLUMNS="100000")).stdout
    chapters, verses = [], None
    for line in raw.split("\n"):
        if not line.strip():
            continue
        m = re.fullmatch(r"\s+(\d+) (.*)", line)
        if m:
            verses.append(m.group(2).strip())
        elif re.fullmatch(r"[1-9A-Z][A-Za-z ]* \d+", line.strip()) and not line.startswith(" "):
            verses = []
            chapters.append((line.strip(), verses))
        else:  # a wrapped verse continues
            verses[-1] += " " + line.strip()
    texts = [title + "\n" + "\n".join(v) + "\n" for title, v in chapters]
    train = [t for i, t in enumerate(texts) if i % HELDOUT_EVERY != HELDOUT_AT]
    held = [t for i, t in enumerate(texts) if i % HELDOUT_EVERY == HELDOUT_AT]
    return "\n".join(train), "\n".join(held), len(texts)


class Block(nn.Module):
    def __init__(self, d, h, p):
        super().__init__()
        self.h = h
        self.ln_1, self.ln_2 = nn.LayerNorm(d, eps=1e-5), nn.LayerNorm(d, eps=1e-5)
        self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.c_fc, self.mlp_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.drop = nn.Dropout(p)

    def forward(self, x, mask):
        B, T, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=-1)
        q, k, v = (t.view(B, T, self.h, d // self.h).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.h)
        att = self.drop(torch.softmax(att.masked_fill(mask[:T, :T], float("-inf")), dim=-1))
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.drop(self.c_proj(y))
        m = F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")
        return x + self.drop(self.mlp_proj(m))


class GPT2(nn.Module):
    def __init__(self, vocab, ctx, d, layers, heads, dropout):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList(Block(d, heads, dropout) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        self.drop = nn.Dropout(dropout)
        self.register_buffer("mask", ~torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)), persistent=False)
        # GPT-2's initialization: N(0, 0.02), residual projections scaled by 1/sqrt(2 * layers).
        for name, p in self.named_parameters():
            if name.endswith("weight") and p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if ("c_proj" in name or "mlp_proj" in name) else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, ids):
        T = ids.shape[1]
        x = self.drop(self.wte(ids) + self.wpe(torch.arange(T)))
        for b in self.blocks:
            x = b(x, self.mask)
        return self.ln_f(x) @ self.wte.weight.T


def hf_tensors(model):
    """The model's parameters under Hugging Face GPT-2 names, Conv1D layout [in, out]."""
    out = {"wte.weight": model.wte.weight, "wpe.weight": model.wpe.weight,
           "ln_f.weight": model.ln_f.weight, "ln_f.bias": model.ln_f.bias}
    for i, b in enumerate(model.blocks):
        h = f"h.{i}."
        out.update({
            h + "ln_1.weight": b.ln_1.weight, h + "ln_1.bias": b.ln_1.bias,
            h + "attn.c_attn.weight": b.c_attn.weight.T, h + "attn.c_attn.bias": b.c_attn.bias,
            h + "attn.c_proj.weight": b.c_proj.weight.T, h + "attn.c_proj.bias": b.c_proj.bias,
            h + "ln_2.weight": b.ln_2.weight, h + "ln_2.bias": b.ln_2.bias,
            h + "mlp.c_fc.weight": b.c_fc.weight.T, h + "mlp.c_fc.bias": b.c_fc.bias,
            h + "mlp.c_proj.weight": b.mlp_proj.weight.T, h + "mlp.c_proj.bias": b.mlp_proj.bias,
        })
    return out


def save_safetensors(path, tensors, metadata):
    """safetensors by hand: u64 header length, JSON header, little-endian f32 data."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        raw = tensors[name].detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = "%s.tmp-%d" % (path, os.getpid())  # two trainings writing one path: the last wins whole
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(tmp, path)


@torch.no_grad()
def heldout_ppl(model, ids, ctx, max_windows=None):
    """Perplexity with non-overlapping windows of ctx tokens (a quick training-time estimate;
    the shipped number uses the sliding window of tfm's --perplexity, see MODEL.md)."""
    model.eval()
    nll, n = 0.0, 0
    starts = list(range(0, len(ids) - 1, ctx))[:max_windows]
    for s in starts:
        chunk = torch.tensor(ids[s:s + ctx + 1])[None]
        logits = model(chunk[:, :-1])
        nll += F.cross_entropy(logits[0], chunk[0, 1:], reduction="sum").item()
        n += chunk.shape[1] - 1
    model.train()
    return math.exp(nll / n)


# glibc returns the large activation buffers of every step to the kernel and faults them back in the
# next step: on 2 cores that halves the training speed (898 against 1940 tokens/s for the 6 x 256
# Llama, measured with --sweep). The thresholds make malloc keep them; they must be set before the
# process starts.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "4000000000", "MALLOC_TRIM_THRESHOLD_": "4000000000",
              "MALLOC_TOP_PAD_": "1000000000"}


def keep_malloc_arenas():
    """Re-executes the running script once with MALLOC_ENV (see above)."""
    if any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, **MALLOC_ENV))


def start(args):
    """What both training scripts do first: threads and seed, OUT/heldout.txt.
    Returns (train_text, held_text)."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    train_text, held_text, n_chapters = corpus()
    with open(os.path.join(args.out, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(held_text)
    print(f"corpus: {n_chapters} chapters, {len(train_text)} training chars, {len(held_text)} held out", flush=True)
    return train_text, held_text


def sweep_speed(model, vocab, args, rng):
    """(parameters, training tokens/s) of `model`: the median of steps 3-6 on random ids."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    n_params = sum(p.numel() for p in model.parameters())
    times = []
    for step in range(6):
        x = torch.tensor(rng.integers(0, vocab, (args.batch, args.ctx + 1)))
        t = time.time()
        loss = F.cross_entropy(model(x[:, :-1]).reshape(-1, vocab), x[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.time() - t)
    return n_params, args.batch * args.ctx / np.median(times[2:])


def train(model, train_ids, held_ids, vocab, args, loss_of=None, evaluate=None, metric="heldout_ppl"):
    """The training loop the trained models share: AdamW (weight decay 0.1 on
    matrices), linear warm-up over steps/30 then cosine to lr/10, gradient
    clipping 1.0, batches of random windows of ctx + 1 training ids; logs to
    OUT/train_log.tsv. `loss_of(model, windows)` is the loss of a batch
    (default: next-token cross-entropy), `evaluate(model, final)` the
    held-out `metric` (default: perplexity, on 40 windows until the end)."""
    if loss_of is None:
        def loss_of(m, x):
            return F.cross_entropy(m(x[:, :-1]).reshape(-1, vocab), x[:, 1:].reshape(-1))
    if evaluate is None:
        def evaluate(m, final):
            return heldout_ppl(m, held_ids, args.ctx, None if final else 40)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    warmup = max(1, args.steps // 30)

    def lr_at(step):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        frac = (step - warmup) / max(1, args.steps - warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))

    data = torch.tensor(train_ids, dtype=torch.long)
    rng = np.random.default_rng(args.seed)
    log = open(os.path.join(args.out, "train_log.tsv"), "w")
    log.write(f"step\ttokens\tseconds\tlr\ttrain_loss\t{metric}\n")
    running, t_start = None, time.time()
    for step in range(args.steps + 1):
        if step % args.eval_every == 0 or step == args.steps:
            ppl = evaluate(model, step == args.steps)
            line = (f"{step}\t{step * args.batch * args.ctx}\t{time.time() - t_start:.0f}\t{lr_at(step):.2e}\t"
                    f"{running if running is not None else float('nan'):.4f}\t{ppl:.3f}")
            log.write(line + "\n")
            log.flush()
            print("train: " + line.replace("\t", " "), flush=True)
        if step == args.steps:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        starts = rng.integers(0, len(data) - args.ctx - 1, args.batch)
        x = torch.stack([data[s:s + args.ctx + 1] for s in starts])
        loss = loss_of(model, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--sweep", action="store_true", help="time a few steps of candidate shapes and exit")
    args = ap.parse_args()

    t0 = time.time()
    train_text, held_text = start(args)

    if args.sweep:
        shapes = [(4, 256, 4096), (6, 256, 4096), (6, 384, 4096), (8, 384, 4096), (6, 256, 8192)]
        rng = np.random.default_rng(0)
        for layers, d, vocab in shapes:
            torch.manual_seed(0)
            m = GPT2(vocab, args.ctx, d, layers, max(4, d // 64), args.dropout)
            n_params, tps = sweep_speed(m, vocab, args, rng)
            print(f"sweep: layers {layers} d {d} vocab {vocab}: {n_params / 1e6:.1f}M params "
                  f"({n_params * 4 / 2**20:.0f} MiB f32), {tps:.0f} tokens/s", flush=True)
        return

    t = time.time()
    merges = bpe.train(train_text, args.vocab)
    enc = bpe.Encoder(merges)
    bpe.save(args.out, merges, enc)
    train_ids = enc.encode(train_text)
    held_ids = enc.encode(held_text)
    vocab = len(enc.vocab)
    print(f"tokenizer: {len(merges)} merges, vocabulary {vocab}, {len(train_ids)} training tokens, "
          f"{len(held_ids)} held-out tokens ({time.time() - t:.0f} s)", flush=True)

    model = GPT2(vocab, args.ctx, args.d, args.layers, args.heads, args.dropout)
    train(model, train_ids, held_ids, vocab, args)

    cfg = dict(model_type="gpt2", architectures=["GPT2LMHeadModel"], vocab_size=vocab, n_positions=args.ctx,
               n_ctx=args.ctx, n_embd=args.d, n_layer=args.layers, n_head=args.heads, n_inner=None,
               activation_function="gelu_new", layer_norm_epsilon=1e-5, tie_word_embeddings=True,
               bos_token_id=vocab - 1, eos_token_id=vocab - 1)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    meta = {"format": "pt", "trained_by": "tools/train-gpt2/train.py",
            "args": json.dumps({k: v for k, v in vars(args).items() if k != "out"})}
    save_safetensors(os.path.join(args.out, "model.safetensors"), hf_tensors(model), meta)
    print(f"done in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
