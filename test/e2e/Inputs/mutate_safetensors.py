#!/usr/bin/env python3
"""Writes a hostile variant of a safetensors file.

    mutate_safetensors.py SRC DST KIND

KIND: lying (wte.weight's data_offsets shorter than its shape), overlap
(wpe.weight shares bytes with wte.weight), duplicate (a tensor listed twice),
unaligned (a valid file whose header length is not a multiple of 8)."""
import json
import struct
import sys

src, dst, kind = sys.argv[1:4]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
text = None
if kind == "lying":
    a, b = header["wte.weight"]["data_offsets"]
    header["wte.weight"]["data_offsets"] = [a, a + 16]
elif kind == "overlap":
    a, b = header["wte.weight"]["data_offsets"]
    size = header["wpe.weight"]["data_offsets"][1] - header["wpe.weight"]["data_offsets"][0]
    header["wpe.weight"]["data_offsets"] = [a, a + size]
elif kind == "duplicate":
    body = json.dumps(header)
    entry = '"ln_f.bias": ' + json.dumps(header["ln_f.bias"])
    text = body[:-1] + ", " + entry + "}"
elif kind != "unaligned":
    sys.exit(f"unknown kind {kind}")
text = (text or json.dumps(header)).encode()
if kind == "unaligned":
    text += b" " * ((8 - len(text) % 8) % 8 + 3)  # 3 past a multiple of 8
else:
    text += b" " * ((8 - len(text) % 8) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + data)
