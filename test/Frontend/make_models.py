#!/usr/bin/env python3
"""Writes tiny GPT-2 style model directories for the frontend tests.

    make_models.py OUT_DIR

Every variant of the model description format (positional encodings, causal or
not, tied or untied head, F32/F16/BF16 weights, the "transformer." prefix) and
every malformed input the frontend must reject. safetensors files are written
by hand (header JSON + raw little-endian bytes) with numpy alone, so the
writer is independent of tfm's reader. Weights are random from fixed seeds.
"""
import json
import os
import struct
import sys

import numpy as np

BASE = {
    "model_type": "gpt2",
    "vocab_size": 64,
    "n_positions": 16,
    "n_embd": 16,
    "n_layer": 2,
    "n_head": 2,
    "n_inner": None,
    "layer_norm_epsilon": 1e-5,
    "activation_function": "gelu_new",
}


def bf16_bytes(a):
    """Round-to-nearest-even float32 -> bfloat16, as raw little-endian bytes."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype("<u2").tobytes()


def write_safetensors(path, tensors, dtype="F32", header_patch=None, truncate=None):
    """tensors: list of (name, float32 array). Returns nothing."""
    header, blobs, offset = {}, [], 0
    for name, array in tensors:
        if dtype == "F32":
            raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        elif dtype == "F16":
            raw = np.ascontiguousarray(array, dtype="<f2").tobytes()
        elif dtype == "BF16":
            raw = bf16_bytes(array)
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    if header_patch:
        header_patch(header)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    data = struct.pack("<Q", len(text)) + text + b"".join(blobs)
    if truncate is not None:
        data = data[:truncate]
    with open(path, "wb") as f:
        f.write(data)


def weights(config, seed, prefix="", untied=False):
    rng = np.random.default_rng(seed)
    d, v, p = config["n_embd"], config["vocab_size"], config["n_positions"]
    inner = config.get("n_inner") or 4 * d

    def r(*shape, scale=0.2):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    t = [(prefix + "wte.weight", r(v, d))]
    if config.get("position_embedding_type", "learned") == "learned":
        t.append((prefix + "wpe.weight", r(p, d)))
    for layer in range(config["n_layer"]):
        h = f"{prefix}h.{layer}."
        t += [
            (h + "ln_1.weight", 1 + r(d)), (h + "ln_1.bias", r(d)),
            (h + "attn.c_attn.weight", r(d, 3 * d)), (h + "attn.c_attn.bias", r(3 * d)),
            (h + "attn.c_proj.weight", r(d, d)), (h + "attn.c_proj.bias", r(d)),
            (h + "ln_2.weight", 1 + r(d)), (h + "ln_2.bias", r(d)),
            (h + "mlp.c_fc.weight", r(d, inner)), (h + "mlp.c_fc.bias", r(inner)),
            (h + "mlp.c_proj.weight", r(inner, d)), (h + "mlp.c_proj.bias", r(d)),
        ]
    t += [(prefix + "ln_f.weight", 1 + r(d)), (prefix + "ln_f.bias", r(d))]
    if untied:
        t.append(("lm_head.weight", r(v, d)))
    return t


def model(out, name, seed, dtype="F32", prefix="", extra_tensors=(), **overrides):
    config = dict(BASE, **overrides)
    untied = config.get("tie_word_embeddings") is False
    directory = os.path.join(out, name)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    t = weights(config, seed, prefix, untied) + list(extra_tensors)
    write_safetensors(os.path.join(directory, "model.safetensors"), t, dtype)
    return directory, config, t


def bad_config(out, name, text):
    directory = os.path.join(out, name)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        f.write(text)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    # The variants, one seed each.
    model(out, "learned", 1)
    model(out, "sinusoidal", 2, position_embedding_type="sinusoidal")
    model(out, "rope", 3, position_embedding_type="rope", rotary_dim=4, rope_theta=500.0)
    model(out, "rope-full", 4, position_embedding_type="rope")
    model(out, "none", 5, position_embedding_type="none")
    model(out, "bidirectional", 6, is_causal=False)
    model(out, "untied", 7, tie_word_embeddings=False)
    model(out, "f16", 8, dtype="F16")
    model(out, "bf16", 9, dtype="BF16")
    model(out, "prefixed", 10, prefix="transformer.",
          extra_tensors=[("transformer.h.0.attn.bias", np.ones((1, 1, 16, 16), np.float32))])
    model(out, "erf-relu", 11, activation_function="gelu", n_inner=24,
          scale_attn_by_inverse_layer_idx=True)
    model(out, "relu", 12, activation_function="relu")

    # Bad config.json files.
    def cfg(**kw):
        c = dict(BASE)
        for k, v in kw.items():
            if v is ...:
                del c[k]
            else:
                c[k] = v
        return json.dumps(c, indent=2)

    bad_config(out, "bad-json", '{"model_type": "gpt2", "n_embd": 16,, }')
    bad_config(out, "bad-missing-key", cfg(n_head=...))
    bad_config(out, "bad-non-integer", cfg(n_layer=2.5))
    bad_config(out, "bad-string-int", cfg(vocab_size="64"))
    bad_config(out, "bad-divisible", cfg(n_head=3))
    bad_config(out, "bad-position-type", cfg(position_embedding_type="alibi"))
    bad_config(out, "bad-activation", cfg(activation_function="mish"))
    bad_config(out, "bad-activation-unknown", cfg(activation_function="swiglu"))
    bad_config(out, "bad-epsilon-inf", cfg(layer_norm_epsilon=12345.0).replace("12345.0", "1e400"))
    bad_config(out, "bad-rotary-odd", cfg(position_embedding_type="rope", rotary_dim=3))
    bad_config(out, "bad-rotary-wide", cfg(position_embedding_type="rope", rotary_dim=10))
    # An odd head dim (12 / 4 = 3) with rotary_dim absent, or null: both mean
    # rotary_dim = head dim, which must be even.
    bad_config(out, "bad-rotary-odd-head", cfg(position_embedding_type="rope", n_embd=12, n_head=4))
    bad_config(out, "bad-rotary-null-odd-head",
               cfg(position_embedding_type="rope", n_embd=12, n_head=4, rotary_dim=None))
    bad_config(out, "bad-model-type", cfg(model_type="t5"))
    bad_config(out, "bad-not-object", "[1, 2, 3]")

    # Llama-family configs (transformers' LlamaConfig keys).
    llama = dict(model_type="llama", vocab_size=64, hidden_size=16, intermediate_size=24,
                 num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 max_position_embeddings=64)

    def lcfg(**kw):
        return json.dumps({**llama, **kw}, indent=2)

    bad_config(out, "llama-kv-heads", lcfg(num_key_value_heads=3))
    bad_config(out, "llama-head-divisible", lcfg(hidden_size=18))
    bad_config(out, "llama-dynamic", lcfg(rope_scaling=dict(rope_type="dynamic", factor=2.0)))
    bad_config(out, "llama-longrope", lcfg(rope_scaling=dict(type="longrope", factor=2.0)))
    bad_config(out, "llama-rope-unknown", lcfg(rope_scaling=dict(rope_type="ntk-by-parts")))
    bad_config(out, "llama-llama3-missing", lcfg(rope_scaling=dict(
        rope_type="llama3", factor=8.0, high_freq_factor=4.0,
        original_max_position_embeddings=64)))
    bad_config(out, "llama-rope-parameters-list", lcfg(rope_parameters=[1, 2]))
    bad_config(out, "llama-rope-theta", lcfg(rope_theta=-1.0))
    bad_config(out, "llama-layer-types", lcfg(layer_types=["full_attention"]))
    bad_config(out, "llama-window-zero", lcfg(model_type="mistral", sliding_window=0))
    bad_config(out, "llama-activation", lcfg(hidden_act="mish"))
    bad_config(out, "llama-huge-heads", lcfg(num_attention_heads=8192))
    # Qwen2 windows (good configs): absent sliding_window is the class default
    # 4096, null is none; layers from max_window_layers on use it.
    bad_config(out, "qwen2-window-default", lcfg(model_type="qwen2", use_sliding_window=True,
                                                 max_window_layers=1))
    bad_config(out, "qwen2-window-null", lcfg(model_type="qwen2", use_sliding_window=True,
                                              max_window_layers=0, sliding_window=None))
    neox = dict(model_type="gpt_neox", vocab_size=64, hidden_size=16, intermediate_size=32,
                num_hidden_layers=2, num_attention_heads=2)
    bad_config(out, "neox-rotary-pct", json.dumps({**neox, "rotary_pct": 0.1}))
    bad_config(out, "neox-divisible", json.dumps({**neox, "num_attention_heads": 3}))

    # Bad weights files (a valid config, a broken model.safetensors).
    def bad_weights(name, **kw):
        directory = os.path.join(out, name)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "config.json"), "w") as f:
            json.dump(BASE, f)
        tensors = weights(BASE, 1)
        transform = kw.pop("tensors", None)
        if transform:
            tensors = transform(tensors)
        write_safetensors(os.path.join(directory, "model.safetensors"), tensors, **kw)

    bad_weights("bad-truncated", truncate=2000)
    bad_weights("bad-tiny-file", truncate=5)
    bad_weights("bad-truncated-data", truncate=-100)

    def header_len_beyond(path):
        with open(path, "r+b") as f:
            f.write(struct.pack("<Q", 1 << 40))

    bad_weights("bad-header-length")
    header_len_beyond(os.path.join(out, "bad-header-length", "model.safetensors"))

    def overlap(h):
        a, b = h["h.0.ln_1.weight"], h["h.0.ln_1.bias"]
        b["data_offsets"] = [a["data_offsets"][0] + 4, a["data_offsets"][1] + 4]

    def out_of_bounds(h):
        e = h["ln_f.bias"]
        e["data_offsets"] = [e["data_offsets"][0] + 10**6, e["data_offsets"][1] + 10**6]

    def size_lie(h):
        h["h.1.ln_2.bias"]["shape"] = [17]

    def bad_dtype(h):
        e = h["h.0.attn.c_proj.bias"]
        e["dtype"] = "I32"

    def unknown_dtype(h):
        h["wte.weight"]["dtype"] = "F8_E9"

    bad_weights("bad-overlap", header_patch=overlap)
    bad_weights("bad-out-of-bounds", header_patch=out_of_bounds)
    bad_weights("bad-size", header_patch=size_lie)
    bad_weights("bad-dtype", header_patch=bad_dtype)
    bad_weights("bad-unknown-dtype", header_patch=unknown_dtype)
    bad_weights("bad-missing-tensor", tensors=lambda t: [x for x in t if x[0] != "h.1.mlp.c_fc.weight"])
    bad_weights("bad-shape", tensors=lambda t: [(n, a.T.copy() if n == "h.0.attn.c_attn.weight" else a) for n, a in t])
    bad_weights("bad-header-json", header_patch=lambda h: h.update({"x": float("nan")}))


if __name__ == "__main__":
    main()
