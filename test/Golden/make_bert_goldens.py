#!/usr/bin/env python3
"""Independent golden hidden states and logits for tfm's BERT family in PyTorch.

    /usr/bin/python3 test/Golden/make_bert_goldens.py test/Golden/models

For each variant below this script makes a small random model (seeded),
writes it as config.json + model.safetensors with the tensor names
`save_pretrained` gives BertModel or BertForMaskedLM, runs its own PyTorch
implementation on a fixed token sequence with token types (a sentence pair)
and writes the last hidden state as hidden.npy (and, with a masked-LM head,
the logits of every row as logits.npy), with tokens.npy and
token_types.npy. Nothing here uses tfm; transformers is not installed on
these machines, so the semantics are written out from transformers'
modeling_bert.py (v4.5x):

  * embeddings: word_embeddings[ids] + token_type_embeddings[types]
    + position_embeddings[0..T-1], then LayerNorm(eps = layer_norm_eps);
  * each layer (post-LN): a = LayerNorm(dense(attention(x)) + x);
    x = LayerNorm(output.dense(act(intermediate.dense(a))) + a);
    attention: q, k, v = x W^T + b per head, softmax(q k^T / sqrt(head_dim))
    over every key (bidirectional, no mask for one unpadded sequence), v;
  * act = ACT2FN[hidden_act]: "gelu" is the erf GELU, "gelu_new" the tanh one;
  * BertForMaskedLM's head: LayerNorm(act(transform.dense(h))) @ word_embeddings^T
    + cls.predictions.bias (decoder tied to the word embeddings);
  * TF-era checkpoints name LayerNorm's scale and shift gamma and beta.

The "bert-st-*" variants add what an embedding model's directory has: a
WordPiece tokenizer.json (bert-base-uncased's pipeline on a 64-token
vocabulary) and sentence-transformers' modules.json, 1_Pooling/config.json,
2_Normalize and sentence_bert_config.json. For them the script writes
cases.json: texts (and pairs), the ids and token types its own tokenizer
gives (BERT's basic tokenizer: lower case, accents stripped, punctuation
split; greedy longest-match WordPiece with "##"; [CLS] A [SEP] B [SEP];
tokenizers' longest_first truncation to max_seq_length), the hidden state,
the pooled embedding (sentence-transformers' Pooling: CLS, mean or max over
the tokens; Normalize: x / max(|x|, 1e-12)) and, for the masked-LM one, the
top 5 fill-mask tokens with their softmax probabilities.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "Tokenizer", "hf"))
from make_goldens import save_safetensors  # noqa: E402
from make_bert_tokenizer import write_bert_tokenizer  # noqa: E402

TOKENS = [2, 5, 9, 3, 33, 60, 17, 3]
TYPES = [0, 0, 0, 0, 1, 1, 1, 1]
# A second, shorter input (hidden_b.npy, logits_b.npy): packed after the
# first into one call, each must give its own rows.
TOKENS_B = [2, 40, 7, 3, 11, 3]
TYPES_B = [0, 0, 0, 0, 1, 1]
BASE = dict(model_type="bert", vocab_size=64, hidden_size=16, intermediate_size=24,
            num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=32,
            type_vocab_size=2, layer_norm_eps=1e-12, hidden_act="gelu", pad_token_id=0)

VARIANTS = {
    # BertModel as save_pretrained writes it: no prefix, erf GELU
    "bert-model": dict(seed=301, architectures=["BertModel"]),
    # BertForMaskedLM: "bert." prefix, the cls.predictions head, 4 heads
    "bert-mlm": dict(seed=302, architectures=["BertForMaskedLM"], hidden_size=24,
                     num_attention_heads=4, head=True),
    # TF-era names (gamma/beta), the tanh GELU, 3 token types, eps 1e-5
    "bert-tf-names": dict(seed=303, architectures=["BertModel"], tf_names=True,
                          hidden_act="gelu_new", type_vocab_size=3, layer_norm_eps=1e-5),
}


# The WordPiece vocabulary of the bert-st-* models (64 = vocab_size).
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "and", "god", "said", "let", "there", "be",
         "light", "the", "earth", "was", "without", "form", "void", "dark", "##ness", "upon",
         "face", "of", "deep", "spirit", "move", "##d", "water", "##s", "in", "beginning",
         "create", "##ed", "heaven", "lord", "man", "it", "good", "saw", ",", ".", ";", ":", "!",
         "?", "a", "b", "c", "d", "e", "##e", "##a", "day", "night", "first", "second", "divide",
         "from", "he", "called", "evening", "morning", "were", "##ing"]
assert len(WORDS) == 64

ST_VARIANTS = {
    # BertForMaskedLM weights, mean pooling, Normalize, max_seq_length 10
    "bert-st-mean": dict(seed=311, head=True, pooling="mean", normalize=True, max_seq_length=10),
    # BertModel, max pooling, no Normalize, no sentence_bert_config.json
    "bert-st-max": dict(seed=312, pooling="max", normalize=False, max_seq_length=None),
    # BertModel, CLS pooling, Normalize
    "bert-st-cls": dict(seed=313, pooling="cls", normalize=True, max_seq_length=16),
}
TEXTS = [("And God said, Let there be light.", None),
         ("the earth was without form", "and void"),
         ("Darkness upon the face of the DEEP waters!", None),
         ("Évening and morning were the first day; he called it good", "the spirit moved")]
FILL = "And God said, Let there be [MASK]."


def basic_tokens(text):
    """BERT's BasicTokenizer (do_lower_case): lower case, accents stripped,
    split on white space and around punctuation."""
    text = "".join(c for c in unicodedata.normalize("NFD", text.lower())
                   if unicodedata.category(c) != "Mn")
    out = []
    for word in text.split():
        piece = ""
        for ch in word:
            if unicodedata.category(ch).startswith("P") or (ch.isascii() and not ch.isalnum()):
                if piece:
                    out.append(piece)
                out.append(ch)
                piece = ""
            else:
                piece += ch
        if piece:
            out.append(piece)
    return out


def wordpiece(word, vocab):
    """Greedy longest-match-first WordPiece; [UNK] when a word does not split."""
    ids, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                ids.append(vocab[piece])
                break
            end -= 1
        if end == start:
            return [vocab["[UNK]"]]
        start = end
    return ids


def tokenize(text, pair, vocab, max_len):
    """transformers' tokenizer(text, pair, truncation=True, max_length=max_len)."""
    a = [i for w in basic_tokens(text) for i in wordpiece(w, vocab)]
    b = [i for w in basic_tokens(pair) for i in wordpiece(w, vocab)] if pair is not None else None
    if max_len:
        budget = max_len - (3 if b is not None else 2)
        if b is None:
            a = a[:budget]
        elif len(a) + len(b) > budget:
            # tokenizers' TruncationStrategy::LongestFirst (utils/truncation.rs)
            n1, n2 = len(a), len(b)
            swap = n1 > n2
            if swap:
                n1, n2 = n2, n1
            n2 = n1 if n1 > budget else max(n1, budget - n1)
            if n1 + n2 > budget:
                n1 = budget // 2
                n2 = n1 + budget % 2
            if swap:
                n1, n2 = n2, n1
            a, b = a[:n1], b[:n2]
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    ids = [cls] + a + [sep]
    types = [0] * len(ids)
    if b is not None:
        ids += b + [sep]
        types += [1] * (len(b) + 1)
    return ids, types


def pool(hidden, mode, normalize):
    if mode == "cls":
        e = hidden[0]
    elif mode == "mean":
        e = hidden.mean(dim=0)
    else:
        e = hidden.max(dim=0).values
    if normalize:
        e = e / max(e.norm().item(), 1e-12)
    return e


def write_sentence_transformers(path, mode, normalize, max_seq_length, width):
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:  # (its empty 2_Normalize directory is not made: git keeps no empty directory)
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize",
                        "type": "sentence_transformers.models.Normalize"})
    with open(os.path.join(path, "modules.json"), "w") as f:
        json.dump(modules, f, indent=2)
    os.makedirs(os.path.join(path, "1_Pooling"), exist_ok=True)
    with open(os.path.join(path, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": width, "pooling_mode_cls_token": mode == "cls",
                   "pooling_mode_mean_tokens": mode == "mean", "pooling_mode_max_tokens": mode == "max",
                   "pooling_mode_mean_sqrt_len_tokens": False,
                   "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False,
                   "include_prompt": True}, f, indent=2)
    if max_seq_length:
        with open(os.path.join(path, "sentence_bert_config.json"), "w") as f:
            json.dump({"max_seq_length": max_seq_length, "do_lower_case": False}, f)


def write_model(out, name, cfg, w):
    """Writes OUT/NAME/config.json and model.safetensors (f32) for tensors `w`;
    returns the directory."""
    path = os.path.join(out, name)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    save_safetensors(os.path.join(path, "model.safetensors"),
                     {k: t.to(torch.float32) for k, t in w.items()}, "F32")
    return path


def make_st(out, name, spec):
    spec = dict(spec)
    head = spec.pop("head", False)
    cfg = dict(BASE, architectures=["BertForMaskedLM" if head else "BertModel"])
    w = {k: t.to(torch.float32).to(torch.float64)
         for k, t in make(cfg, spec["seed"], head, False).items()}
    path = write_model(out, name, cfg, w)
    vocab = {t: i for i, t in enumerate(WORDS)}
    write_bert_tokenizer(vocab, path, model_max_length=cfg["max_position_embeddings"])
    write_sentence_transformers(path, spec["pooling"], spec["normalize"], spec["max_seq_length"],
                                cfg["hidden_size"])
    cases = []
    for text, pair in TEXTS:
        ids, types = tokenize(text, pair, vocab, spec["max_seq_length"])
        hidden, _ = forward(cfg, w, ids, types, head, False)
        emb = pool(hidden, spec["pooling"], spec["normalize"])
        cases.append({"text": text, "pair": pair, "ids": ids, "types": types,
                      "hidden": hidden.to(torch.float32).tolist(),
                      "embedding": emb.to(torch.float32).tolist()})
    result = {"cases": cases}
    if head:
        ids, types = tokenize(FILL.replace("[MASK]", "a"), None, vocab, None)
        at = ids.index(vocab["a"])
        ids[at] = vocab["[MASK]"]
        _, logits = forward(cfg, w, ids, types, head, False)
        probs = torch.softmax(logits[at], dim=-1)
        top = torch.topk(probs, 5)
        result["fill_mask"] = {"text": FILL, "ids": ids,
                               "top": [[int(i), float(p)] for p, i in zip(top.values, top.indices)]}
    with open(os.path.join(path, "cases.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"{name}: {len(cases)} cases" + (", fill-mask" if head else ""))


def act(name, x):
    if name == "gelu":
        return F.gelu(x)
    if name == "gelu_new":
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))
    if name == "relu":
        return F.relu(x)
    raise ValueError(name)


def make(cfg, seed, head, tf_names):
    g = torch.Generator().manual_seed(seed)
    d, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    prefix = "bert." if head else ""
    scale, shift = ("gamma", "beta") if tf_names else ("weight", "bias")
    w = {}

    def rnd(name, *shape, std=0.3):
        w[name] = torch.randn(*shape, generator=g) * std

    def norm(name, n):
        w[f"{name}.{scale}"] = 1.0 + 0.1 * torch.randn(n, generator=g)
        w[f"{name}.{shift}"] = 0.1 * torch.randn(n, generator=g)

    def linear(name, n_out, n_in):
        rnd(f"{name}.weight", n_out, n_in, std=1.0 / math.sqrt(n_in))
        rnd(f"{name}.bias", n_out, std=0.1)

    e = prefix + "embeddings."
    rnd(e + "word_embeddings.weight", v, d, std=1.0)
    rnd(e + "position_embeddings.weight", cfg["max_position_embeddings"], d, std=0.5)
    rnd(e + "token_type_embeddings.weight", cfg["type_vocab_size"], d, std=0.5)
    norm(e + "LayerNorm", d)
    for l in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{l}."
        for n in ("query", "key", "value"):
            linear(p + "attention.self." + n, d, d)
        linear(p + "attention.output.dense", d, d)
        norm(p + "attention.output.LayerNorm", d)
        linear(p + "intermediate.dense", f, d)
        linear(p + "output.dense", d, f)
        norm(p + "output.LayerNorm", d)
    if head:
        linear("cls.predictions.transform.dense", d, d)
        norm("cls.predictions.transform.LayerNorm", d)
        rnd("cls.predictions.bias", v, std=0.1)
    else:  # BertModel's pooler: saved, not used by tfm
        linear(prefix + "pooler.dense", d, d)
    return w


def forward(cfg, w, tokens, types, head, tf_names):
    d, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    dh = d // heads
    eps = cfg["layer_norm_eps"]
    prefix = "bert." if head else ""
    scale, shift = ("gamma", "beta") if tf_names else ("weight", "bias")
    T = len(tokens)

    def ln(x, name):
        return F.layer_norm(x, (d,), w[f"{name}.{scale}"], w[f"{name}.{shift}"], eps)

    def lin(x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    e = prefix + "embeddings."
    ids = torch.tensor(tokens)
    x = (w[e + "word_embeddings.weight"][ids] + w[e + "token_type_embeddings.weight"][torch.tensor(types)]
         + w[e + "position_embeddings.weight"][torch.arange(T)])
    x = ln(x, e + "LayerNorm")
    for l in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{l}."

        def split(t):
            return t.view(T, heads, dh).transpose(0, 1)  # [H, T, Dh]

        q = split(lin(x, p + "attention.self.query"))
        k = split(lin(x, p + "attention.self.key"))
        v = split(lin(x, p + "attention.self.value"))
        scores = q @ k.transpose(1, 2) / math.sqrt(dh)
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(0, 1).reshape(T, d)
        a = ln(lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = act(cfg["hidden_act"], lin(a, p + "intermediate.dense"))
        x = ln(lin(h, p + "output.dense") + a, p + "output.LayerNorm")
    logits = None
    if head:
        h = act(cfg["hidden_act"], lin(x, "cls.predictions.transform.dense"))
        h = ln(h, "cls.predictions.transform.LayerNorm")
        logits = h @ w[e + "word_embeddings.weight"].T + w["cls.predictions.bias"]
    return x, logits


def main():
    out = sys.argv[1]
    torch.set_default_dtype(torch.float64)  # the reference in double
    for name, spec in VARIANTS.items():
        spec = dict(spec)
        seed = spec.pop("seed")
        head = spec.pop("head", False)
        tf_names = spec.pop("tf_names", False)
        cfg = dict(BASE, **spec)
        # The weights as stored (f32), computed with in double.
        w = {k: t.to(torch.float32).to(torch.float64)
             for k, t in make(cfg, seed, head, tf_names).items()}
        hidden, logits = forward(cfg, w, TOKENS, TYPES, head, tf_names)
        path = write_model(out, name, cfg, w)
        np.save(os.path.join(path, "tokens.npy"), np.array(TOKENS, np.int64))
        np.save(os.path.join(path, "token_types.npy"), np.array(TYPES, np.int64))
        np.save(os.path.join(path, "hidden.npy"), hidden.to(torch.float32).numpy())
        if logits is not None:
            np.save(os.path.join(path, "logits.npy"), logits.to(torch.float32).numpy())
        hidden_b, logits_b = forward(cfg, w, TOKENS_B, TYPES_B, head, tf_names)
        np.save(os.path.join(path, "tokens_b.npy"), np.array(TOKENS_B, np.int64))
        np.save(os.path.join(path, "token_types_b.npy"), np.array(TYPES_B, np.int64))
        np.save(os.path.join(path, "hidden_b.npy"), hidden_b.to(torch.float32).numpy())
        if logits_b is not None:
            np.save(os.path.join(path, "logits_b.npy"), logits_b.to(torch.float32).numpy())
        print(f"{name}: hidden {tuple(hidden.shape)}" +
              (f", logits {tuple(logits.shape)}" if logits is not None else ""))
    for name, spec in ST_VARIANTS.items():
        make_st(out, name, spec)


if __name__ == "__main__":
    main()
