#!/usr/bin/env python3
"""Trains examples/bert-kjv: a small BERT (masked-LM) on the King James Bible.

    /usr/bin/python3 tools/train-bert/train.py OUT_DIR [--steps N] [--seed S] ...
    /usr/bin/python3 tools/train-bert/train.py OUT_DIR --sweep   # tokens/s of candidate shapes

tfm's trained encoder, beside examples/gpt2-kjv and llama-kjv: the same text
and held-out split, its own WordPiece vocabulary. What it needs comes from
Debian (bash tools/train-gpt2/setup.sh).

Steps, deterministic from --seed with a fixed thread count:
 1. corpus: tools/train-gpt2/train.py's (every chapter as "Book N" and one
    verse per line; index % 20 == 10 held out) -> OUT/heldout.txt;
 2. tokenizer: BERT's basic tokenizer (lower case, accents stripped,
    punctuation split; test/Golden/make_bert_goldens.py's), then a WordPiece
    vocabulary learned as Hugging Face's WordPiece trainer learns one (BPE
    merges over the training words with "##" on continuation pieces; the
    tokens are then matched greedily, longest first) -> OUT/tokenizer.json in
    bert-base-uncased's pipeline, OUT/tokenizer_config.json;
 3. model: BertForMaskedLM with transformers' semantics (post-LN blocks, erf
    GELU, learned absolute positions, token types, a masked-LM head tied to
    the word embeddings); BERT's masking at --mask-rate (30% of the tokens by
    default, BERT's 15% evaluated: 80% [MASK], 10% a random token, 10% kept;
    the loss on those positions only), windows of
    ctx - 2 training ids between [CLS] and [SEP]; f32, tools/train-gpt2's
    training loop (AdamW, warm-up and cosine decay); logs the held-out
    masked-token accuracy to OUT/train_log.tsv;
 4. export: OUT/config.json (model_type bert, BertForMaskedLM) and
    OUT/model.safetensors with save_pretrained's tensor names (bert.embeddings.*,
    bert.encoder.layer.N.*, cls.predictions.*);
 5. OUT/heldout_masked.json: the held-out evaluation set (windows of the
    held-out text with 15% of the positions replaced by [MASK], seeded),
    the ids this PyTorch model predicts at those positions
    (`predicted_pytorch`, a list per window) and its accuracy there, for
    tfm's check (test/Model/check_mlm.py: tfm's accuracy on the same
    windows, or on every N-th of them).

Recipe (the defaults; examples/bert-kjv/MODEL.md): 3 layers x 192 (3
heads), intermediate 768, context 32, WordPiece vocabulary 2048, batches of
128 windows, 6500 steps, lr 1e-3, no dropout, 30% of the tokens masked: 40
minutes on 2 cores, held-out masked-token accuracy 50.5%.

How it was found (sessions 13-14): larger, slower shapes stayed on the
unigram plateau (held-out accuracy 6-9%, loss 5.2-5.4, what predicting the
most frequent tokens gives) for as long as they were run:
  6 layers x 256, ctx 128, batch 32, mask 15%, lr 1e-3, dropout 0.1: step 600;
  4 layers x 256, ctx 128, batch 32, mask 30%, lr 1e-3, dropout 0.1: step 800;
  4 layers x 256, ctx 64, batch 64, mask 30%, lr 5e-4, dropout 0.1: step 1000;
  4 layers x 192, ctx 64, batch 64, vocab 2048, lr 1e-3, no dropout: step 1100.
A context of 32 with batches of 128 and no dropout left it within 500-700
steps (2 layers x 128 at step 700, 3 layers x 192 at step 400): short
windows make the few neighbours that predict a masked word most of what
attention sees, and the steps are 2.5x faster.
"""
import argparse
import collections
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
sys.path.insert(0, os.path.join(ROOT, "test", "Golden"))
sys.path.insert(0, os.path.join(ROOT, "test", "Tokenizer", "hf"))
from make_bert_goldens import basic_tokens, wordpiece  # noqa: E402
from make_bert_tokenizer import write_bert_tokenizer  # noqa: E402

# tools/train-gpt2/train.py: the corpus, training loop and safetensors writer are shared.
_spec = importlib.util.spec_from_file_location("train_gpt2", os.path.join(ROOT, "tools", "train-gpt2", "train.py"))
train_gpt2 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train_gpt2)

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def learn_wordpiece(words, size):
    """A WordPiece vocabulary of `size` tokens for the word counts `words`:
    the specials, every character (word-initial and "##" continuation),
    then merges of the most frequent adjacent pair (weighted by the words'
    counts; ties by the pair's text), each adding the merged piece, until
    `size`. Pair counts are updated for the words a merge touches only."""
    splits = {w: [w[0]] + ["##" + c for c in w[1:]] for w in words}
    vocab = list(SPECIALS)
    seen = set(vocab)
    for w in sorted(words):
        for piece in splits[w]:
            if piece not in seen:
                seen.add(piece)
                vocab.append(piece)
    pairs = collections.Counter()
    where = collections.defaultdict(set)
    for w, n in words.items():
        s = splits[w]
        for a, b in zip(s, s[1:]):
            pairs[a, b] += n
            where[a, b].add(w)
    while len(vocab) < size and pairs:
        (a, b), count = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        if count <= 1:
            break
        merged = a + b[2:]
        for w in list(where[a, b]):
            s, n = splits[w], words[w]
            for x, y in zip(s, s[1:]):
                pairs[x, y] -= n
                where[x, y].discard(w)
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(merged)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            splits[w] = out
            for x, y in zip(out, out[1:]):
                pairs[x, y] += n
                where[x, y].add(w)
        for key in [k for k, v in pairs.items() if v <= 0]:
            del pairs[key]
        if merged not in seen:
            seen.add(merged)
            vocab.append(merged)
    return {t: i for i, t in enumerate(vocab)}


def encode(text, vocab):
    return [i for w in basic_tokens(text) for i in wordpiece(w, vocab)]


class Layer(nn.Module):
    def __init__(self, d, heads, inter, eps, p):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.attn_out, self.attn_norm = nn.Linear(d, d), nn.LayerNorm(d, eps=eps)
        self.inter, self.out, self.out_norm = nn.Linear(d, inter), nn.Linear(inter, d), nn.LayerNorm(d, eps=eps)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        B, T, d = x.shape
        h, dh = self.heads, d // self.heads
        split = lambda t: t.view(B, T, h, dh).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        probs = self.drop(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1))
        ctx = (probs @ v).transpose(1, 2).reshape(B, T, d)
        a = self.attn_norm(self.drop(self.attn_out(ctx)) + x)
        return self.out_norm(self.drop(self.out(F.gelu(self.inter(a)))) + a)


class BertMLM(nn.Module):
    """BertForMaskedLM (transformers' modeling_bert.py semantics)."""

    def __init__(self, vocab, ctx, d, layers, heads, inter, eps, p):
        super().__init__()
        self.words, self.positions, self.types = nn.Embedding(vocab, d), nn.Embedding(ctx, d), nn.Embedding(2, d)
        self.norm = nn.LayerNorm(d, eps=eps)
        self.drop = nn.Dropout(p)
        self.layers = nn.ModuleList(Layer(d, heads, inter, eps, p) for _ in range(layers))
        self.transform, self.transform_norm = nn.Linear(d, d), nn.LayerNorm(d, eps=eps)
        self.bias = nn.Parameter(torch.zeros(vocab))
        for m in self.modules():  # BERT's initialization: N(0, 0.02), zero biases
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def hidden(self, ids):
        T = ids.shape[1]
        x = self.words(ids) + self.types(torch.zeros_like(ids)) + self.positions(torch.arange(T))
        x = self.drop(self.norm(x))
        for layer in self.layers:
            x = layer(x)
        return x

    def logits(self, h):
        return self.transform_norm(F.gelu(self.transform(h))) @ self.words.weight.T + self.bias


def hf_tensors(model):
    """BertForMaskedLM's tensor names as save_pretrained writes them."""
    t = {"bert.embeddings.word_embeddings.weight": model.words.weight,
         "bert.embeddings.position_embeddings.weight": model.positions.weight,
         "bert.embeddings.token_type_embeddings.weight": model.types.weight,
         "bert.embeddings.LayerNorm.weight": model.norm.weight, "bert.embeddings.LayerNorm.bias": model.norm.bias,
         "cls.predictions.transform.dense.weight": model.transform.weight,
         "cls.predictions.transform.dense.bias": model.transform.bias,
         "cls.predictions.transform.LayerNorm.weight": model.transform_norm.weight,
         "cls.predictions.transform.LayerNorm.bias": model.transform_norm.bias,
         "cls.predictions.bias": model.bias}
    for i, l in enumerate(model.layers):
        p = f"bert.encoder.layer.{i}."
        for name, m in [("attention.self.query", l.query), ("attention.self.key", l.key),
                        ("attention.self.value", l.value), ("attention.output.dense", l.attn_out),
                        ("attention.output.LayerNorm", l.attn_norm), ("intermediate.dense", l.inter),
                        ("output.dense", l.out), ("output.LayerNorm", l.out_norm)]:
            t[p + name + ".weight"], t[p + name + ".bias"] = m.weight, m.bias
    return {k: v.detach().float().contiguous() for k, v in t.items()}


def mask_batch(x, vocab, gen, rate):
    """BERT's masking of windows x [B, T] (position 0 [CLS] and T-1 [SEP] never
    chosen): `rate` of the positions are targets; 80% of them become [MASK],
    10% a random ordinary token, 10% stay. Returns (inputs, labels with -100
    where there is no target)."""
    chosen = torch.rand(x.shape, generator=gen) < rate
    chosen[:, 0] = chosen[:, -1] = False
    labels = torch.where(chosen, x, torch.full_like(x, -100))
    r = torch.rand(x.shape, generator=gen)
    inputs = x.clone()
    inputs[chosen & (r < 0.8)] = vocab["[MASK]"]
    random_ids = torch.randint(len(SPECIALS), len(vocab), x.shape, generator=gen)
    swap = chosen & (r >= 0.8) & (r < 0.9)
    inputs[swap] = random_ids[swap]
    return inputs, labels


def heldout_set(held_ids, vocab, ctx, seed):
    """The evaluation set: consecutive windows of ctx - 2 held-out ids between
    [CLS] and [SEP], 15% of each window's positions (at least one) replaced by
    [MASK], chosen with a generator of `seed`."""
    rng = np.random.default_rng(seed)
    n = ctx - 2
    out = []
    for s in range(0, len(held_ids) - n + 1, n):
        ids = [vocab["[CLS]"]] + held_ids[s:s + n] + [vocab["[SEP]"]]
        k = max(1, round(0.15 * n))
        at = sorted(int(i) + 1 for i in rng.choice(n, size=k, replace=False))
        masked = list(ids)
        for i in at:
            masked[i] = vocab["[MASK]"]
        out.append({"ids": masked, "positions": at, "targets": [ids[i] for i in at]})
    return out


def predictions(model, examples, limit=None):
    """The top-1 ids at the masked positions of each of `examples` (in eval
    mode), a list per example."""
    model.eval()
    out = []
    with torch.no_grad():
        for e in examples[:limit]:
            h = model.hidden(torch.tensor(e["ids"])[None])[0]
            out.append(model.logits(h[e["positions"]]).argmax(-1).tolist())
    model.train()
    return out


def accuracy(model, examples, limit=None):
    """Top-1 accuracy at the masked positions of `examples`."""
    pairs = [(p, t) for e, pred in zip(examples, predictions(model, examples, limit))
             for p, t in zip(pred, e["targets"])]
    return sum(p == t for p, t in pairs) / len(pairs)


def main():
    train_gpt2.keep_malloc_arenas()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--ctx", type=int, default=32)
    ap.add_argument("--d", type=int, default=192)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--heads", type=int, default=3)
    ap.add_argument("--inter", type=int, default=768)
    ap.add_argument("--eps", type=float, default=1e-12)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=6500)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--mask-rate", type=float, default=0.3,
                    help="training positions masked (BERT: 0.15; 0.3 gives twice the signal per step, "
                         "which a 2-core budget needs; Wettig et al. 2022 find higher rates train well)")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--sweep", action="store_true", help="time a few steps of candidate shapes and exit")
    args = ap.parse_args()

    t0 = time.time()
    train_text, held_text = train_gpt2.start(args)
    t = time.time()
    words = collections.Counter(w for line in train_text.splitlines() for w in basic_tokens(line))
    vocab = learn_wordpiece(words, args.vocab)
    write_bert_tokenizer(vocab, args.out, model_max_length=args.ctx)
    train_ids = encode(train_text, vocab)
    held_ids = encode(held_text, vocab)
    print(f"tokenizer: WordPiece of {len(vocab)} tokens from {len(words)} words, {len(train_ids)} training "
          f"tokens, {len(held_ids)} held-out tokens ({time.time() - t:.0f} s)", flush=True)

    def make():
        return BertMLM(len(vocab), args.ctx, args.d, args.layers, args.heads, args.inter, args.eps, args.dropout)

    gen = torch.Generator().manual_seed(args.seed)
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]

    def loss_of(m, x):  # x: [B, ctx + 1] random windows of training ids
        windows = torch.cat([torch.full((x.shape[0], 1), cls), x[:, :args.ctx - 2],
                             torch.full((x.shape[0], 1), sep)], 1)
        inputs, labels = mask_batch(windows, vocab, gen, args.mask_rate)
        h = m.hidden(inputs)
        chosen = labels != -100
        return F.cross_entropy(m.logits(h[chosen]), labels[chosen])

    if args.sweep:
        for layers, d, inter in [(4, 256, 1024), (6, 256, 1024), (4, 384, 1536)]:
            torch.manual_seed(0)
            m = BertMLM(len(vocab), args.ctx, d, layers, d // 64, inter, args.eps, args.dropout)
            opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
            times = []
            ids = torch.tensor(train_ids[:args.batch * (args.ctx + 1)]).view(args.batch, args.ctx + 1)
            for _ in range(6):
                s = time.time()
                loss = loss_of(m, ids)
                opt.zero_grad()
                loss.backward()
                opt.step()
                times.append(time.time() - s)
            print(f"sweep: layers {layers} d {d} intermediate {inter}: "
                  f"{sum(p.numel() for p in m.parameters()) / 1e6:.2f}M params, "
                  f"{args.batch * args.ctx / np.median(times[2:]):.0f} tokens/s", flush=True)
        return

    held = heldout_set(held_ids, vocab, args.ctx, args.seed)
    model = make()
    print(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters; "
          f"{len(held)} held-out windows", flush=True)
    train_gpt2.train(model, train_ids, held_ids, len(vocab), args, loss_of=loss_of,
                     evaluate=lambda m, final: accuracy(m, held, None if final else 40),
                     metric="heldout_accuracy")
    final = accuracy(model, held)
    for e, pred in zip(held, predictions(model, held)):
        e["predicted_pytorch"] = pred
    cfg = dict(model_type="bert", architectures=["BertForMaskedLM"], vocab_size=len(vocab),
               hidden_size=args.d, num_hidden_layers=args.layers, num_attention_heads=args.heads,
               intermediate_size=args.inter, hidden_act="gelu", max_position_embeddings=args.ctx,
               type_vocab_size=2, layer_norm_eps=args.eps, pad_token_id=vocab["[PAD]"],
               position_embedding_type="absolute", tie_word_embeddings=True, torch_dtype="float32")
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    meta = {"format": "pt", "trained_by": "tools/train-bert/train.py",
            "args": json.dumps({k: v for k, v in vars(args).items() if k != "out"})}
    train_gpt2.save_safetensors(os.path.join(args.out, "model.safetensors"), hf_tensors(model), meta)
    with open(os.path.join(args.out, "heldout_masked.json"), "w") as f:
        json.dump({"accuracy_pytorch": final, "windows": held}, f)
    print(f"held-out masked-token accuracy (PyTorch): {final:.4%}", flush=True)
    print(f"done in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
