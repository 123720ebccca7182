#!/usr/bin/env python3
"""Sentence-embedding throughput: tfm against PyTorch on an all-MiniLM-L6-v2 shape.

    /usr/bin/python3 bench/encoders.py prepare WORK     # model directory and texts
    /usr/bin/python3 bench/encoders.py torch WORK THREADS [BATCH]

bench/encoders.sh runs both around the tfm executable; see there. `prepare`
writes WORK/model (config.json of all-MiniLM-L6-v2's shape: BERT, 6 layers,
hidden 384, 12 heads, intermediate 1536, vocabulary 30522; random weights,
seeded; bert-base-uncased's tokenizer.json from .deps/bert-uncased;
sentence-transformers' modules.json with mean pooling and Normalize,
max_seq_length 256, as all-MiniLM-L6-v2 ships) and WORK/texts.txt (10,000
texts of 8 to 64 words cut from examples/gpt2-kjv/heldout.txt, seeded).

`torch` embeds the same texts with Debian's PyTorch in eager mode
(torch.inference_mode, THREADS intra-op threads): BertModel's forward as
transformers writes it (make_bert_goldens.py's semantics, batched: padded
to the longest text of each batch with an additive attention mask), then
sentence-transformers' masked mean pooling and normalization, batches of
BATCH (default 32, sentence-transformers' default) sorted by length as
SentenceTransformer.encode sorts them. Tokenization (BERT's basic
tokenizer and WordPiece in Python) is done before the clock starts: the
time is the model's alone. Prints `torch: N texts, T tokens in S s: X
sentences/s` and writes WORK/torch.npy ([N, 384], in the file's order) so
that the two embeddings can be compared.
"""
import json
import math
import os
import random
import shutil
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "Golden"))

CONFIG = dict(model_type="bert", architectures=["BertModel"], vocab_size=30522, hidden_size=384,
              num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536,
              max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12,
              hidden_act="gelu", pad_token_id=0)
TEXTS, MIN_WORDS, MAX_WORDS, MAX_SEQ = 10000, 8, 64, 256


def tensors(seed):
    """The model's tensors as BertModel names them, random (N(0, 0.02)
    matrices as BERT initializes them, unit LayerNorm scales)."""
    rng = np.random.default_rng(seed)
    d, f, v = CONFIG["hidden_size"], CONFIG["intermediate_size"], CONFIG["vocab_size"]
    w = {}

    def normal(name, *shape):
        w[name] = (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)

    def norm(name):
        w[name + ".weight"] = np.ones(d, np.float32)
        w[name + ".bias"] = np.zeros(d, np.float32)

    def linear(name, n_out, n_in):
        normal(name + ".weight", n_out, n_in)
        normal(name + ".bias", n_out)

    normal("embeddings.word_embeddings.weight", v, d)
    normal("embeddings.position_embeddings.weight", CONFIG["max_position_embeddings"], d)
    normal("embeddings.token_type_embeddings.weight", CONFIG["type_vocab_size"], d)
    norm("embeddings.LayerNorm")
    for l in range(CONFIG["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        for n in ("query", "key", "value"):
            linear(p + "attention.self." + n, d, d)
        linear(p + "attention.output.dense", d, d)
        norm(p + "attention.output.LayerNorm")
        linear(p + "intermediate.dense", f, d)
        linear(p + "output.dense", d, f)
        norm(p + "output.LayerNorm")
    return w


def prepare(work):
    model = os.path.join(work, "model")
    os.makedirs(os.path.join(model, "1_Pooling"), exist_ok=True)
    os.makedirs(os.path.join(model, "2_Normalize"), exist_ok=True)
    with open(os.path.join(model, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    import torch
    from make_goldens import save_safetensors
    save_safetensors(os.path.join(model, "model.safetensors"),
                     {k: torch.from_numpy(v) for k, v in tensors(7).items()}, "F32")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(ROOT, ".deps", "bert-uncased", name), model)
    with open(os.path.join(model, "modules.json"), "w") as f:
        json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                   {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                   {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}], f)
    with open(os.path.join(model, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": CONFIG["hidden_size"], "pooling_mode_cls_token": False,
                   "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False}, f)
    with open(os.path.join(model, "sentence_bert_config.json"), "w") as f:
        json.dump({"max_seq_length": MAX_SEQ, "do_lower_case": False}, f)
    words = open(os.path.join(ROOT, "examples", "gpt2-kjv", "heldout.txt"), encoding="utf-8").read().split()
    rng = random.Random(11)
    with open(os.path.join(work, "texts.txt"), "w", encoding="utf-8") as f:
        for _ in range(TEXTS):
            n = rng.randint(MIN_WORDS, MAX_WORDS)
            at = rng.randrange(len(words) - n)
            f.write(" ".join(words[at:at + n]) + "\n")


def run_torch(work, threads, batch):
    import torch
    import torch.nn.functional as F
    from make_bert_goldens import basic_tokens, wordpiece

    torch.set_num_threads(threads)
    vocab = json.load(open(os.path.join(work, "model", "tokenizer.json"), encoding="utf-8"))["model"]["vocab"]
    texts = open(os.path.join(work, "texts.txt"), encoding="utf-8").read().splitlines()
    ids = []
    for t in texts:
        pieces = [i for w in basic_tokens(t) for i in wordpiece(w, vocab)][:MAX_SEQ - 2]
        ids.append([vocab["[CLS]"]] + pieces + [vocab["[SEP]"]])
    w = {k: torch.from_numpy(v) for k, v in tensors(7).items()}
    d, heads = CONFIG["hidden_size"], CONFIG["num_attention_heads"]
    dh, eps = d // heads, CONFIG["layer_norm_eps"]

    def lin(x, name):
        return F.linear(x, w[name + ".weight"], w[name + ".bias"])

    def ln(x, name):
        return F.layer_norm(x, (d,), w[name + ".weight"], w[name + ".bias"], eps)

    def forward(batch_ids):
        B, L = len(batch_ids), max(map(len, batch_ids))
        tok = torch.zeros(B, L, dtype=torch.long)
        mask = torch.zeros(B, L)
        for b, s in enumerate(batch_ids):
            tok[b, :len(s)] = torch.tensor(s)
            mask[b, :len(s)] = 1
        x = (w["embeddings.word_embeddings.weight"][tok] + w["embeddings.token_type_embeddings.weight"][0]
             + w["embeddings.position_embeddings.weight"][:L])
        x = ln(x, "embeddings.LayerNorm")
        bias = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
        for l in range(CONFIG["num_hidden_layers"]):
            p = f"encoder.layer.{l}."
            split = lambda t: t.view(B, L, heads, dh).transpose(1, 2)
            q, k, v = (split(lin(x, p + "attention.self." + n)) for n in ("query", "key", "value"))
            probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + bias, dim=-1)
            ctx = (probs @ v).transpose(1, 2).reshape(B, L, d)
            a = ln(lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            x = ln(lin(F.gelu(lin(a, p + "intermediate.dense")), p + "output.dense") + a,
                   p + "output.LayerNorm")
        e = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return F.normalize(e, dim=-1)

    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))  # as SentenceTransformer.encode
    out = np.zeros((len(ids), d), np.float32)
    with torch.inference_mode():
        forward(ids[:batch])  # warm-up
        start = time.perf_counter()
        for b0 in range(0, len(order), batch):
            chunk = order[b0:b0 + batch]
            out[chunk] = forward([ids[i] for i in chunk]).numpy()
        seconds = time.perf_counter() - start
    np.save(os.path.join(work, "torch.npy"), out)
    tokens = sum(map(len, ids))
    print(f"torch: {len(ids)} texts, {tokens} tokens in {seconds:.3f} s: "
          f"{len(ids) / seconds:.1f} sentences/s")


def main():
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2])
    else:
        run_torch(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 32)


if __name__ == "__main__":
    main()
