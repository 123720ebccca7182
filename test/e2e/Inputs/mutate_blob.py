#!/usr/bin/env python3
"""Writes a copy of an .mlir file with one dense_resource blob broken.

    mutate_blob.py IN OUT KEY missing|short|align0|align2g

missing: the blob KEY is renamed (its dense_resource names no data);
short: KEY keeps its alignment and only its first 4 data bytes;
align0 / align2g: KEY's alignment (first 4 bytes, little endian) becomes
0 / 2^31.
"""
import re
import sys


def main():
    src, out, key, how = sys.argv[1:5]
    text = open(src).read()
    pattern = re.compile(r'(\b%s: ")0x([0-9A-Fa-f]{8})([0-9A-Fa-f]*)"' % re.escape(key))
    m = pattern.search(text)
    if not m:
        sys.exit("no blob %s in %s" % (key, src))
    if how == "missing":
        new = "unused_" + m.group(0)
    elif how == "short":
        new = '%s0x%s%s"' % (m.group(1), m.group(2), m.group(3)[:8])
    elif how == "align0":
        new = '%s0x00000000%s"' % (m.group(1), m.group(3))
    elif how == "align2g":
        new = '%s0x00000080%s"' % (m.group(1), m.group(3))
    else:
        sys.exit("unknown mutation " + how)
    open(out, "w").write(text[: m.start()] + new + text[m.end():])


if __name__ == "__main__":
    main()
