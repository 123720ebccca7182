#!/usr/bin/env python3
"""Runs a language-model executable with SEEDS seeds, streamed and not, and
checks that every output is well-formed UTF-8 and that both modes print the
same text.    check_utf8.py EXE SEEDS [ARGS...]"""
import subprocess
import sys

exe, seeds, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
bad = differ = replaced = 0
for seed in range(seeds):
    outs = []
    for mode in ([], ["--no-stream"]):
        p = subprocess.run([exe, "--seed", str(seed)] + extra + mode, capture_output=True, check=True)
        try:
            text = p.stdout.decode("utf-8", "strict")
            replaced += "\ufffd" in text
        except UnicodeDecodeError as e:
            bad += 1
            print(f"seed {seed} {mode}: {e}")
        outs.append(p.stdout)
    differ += outs[0] != outs[1]
print(f"{seeds} seeds x 2 modes: {bad} outputs with invalid UTF-8, {differ} seeds where streamed "
      f"and --no-stream differ, {replaced} outputs with U+FFFD")
sys.exit(1 if bad or differ else 0)
