#!/usr/bin/env python3
"""Splits a model directory's model.safetensors into two shards with a
model.safetensors.index.json, as transformers' save_pretrained does past its
shard size.    shard_safetensors.py SRC_DIR DST_DIR [--drop-shard]"""
import json
import os
import shutil
import struct
import sys

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
shutil.copy(os.path.join(src, "config.json"), dst)
raw = open(os.path.join(src, "model.safetensors"), "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
header.pop("__metadata__", None)
data = raw[8 + n:]
names = sorted(header)
weight_map = {}
for k, part in enumerate((names[::2], names[1::2])):
    shard = f"model-{k + 1:05d}-of-00002.safetensors"
    out, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in part:
        a, b = header[name]["data_offsets"]
        out[name] = dict(header[name], data_offsets=[offset, offset + b - a])
        blobs.append(data[a:b])
        offset += b - a
        weight_map[name] = shard
    text = json.dumps(out).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    if not (k == 1 and "--drop-shard" in sys.argv):
        open(os.path.join(dst, shard), "wb").write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
json.dump({"metadata": {"total_size": len(data)}, "weight_map": weight_map},
          open(os.path.join(dst, "model.safetensors.index.json"), "w"), indent=2)
