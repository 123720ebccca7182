#!/usr/bin/env python3
"""Checks an executable's generated text against an independent decode.

    check_text.py EXE NODE_MODULES TOKENIZER_DIR SEEDS PROMPT N

For each seed: the prompt's ids (EXE --tokenize), then a generation of N
tokens (EXE --prompt PROMPT -n N --seed S --print-ids: the streamed text,
then the generated ids); the text printed must be the reference's decode
(test/Tokenizer/hf/decode_ref.js: @lenml/tokenizers) of prompt + generated
ids, special tokens skipped; and --no-stream must print the same.
"""
import json
import os
import subprocess
import sys

exe, modules, tokdir, seeds, prompt, n = sys.argv[1:7]
ref_js = os.path.join(os.path.dirname(__file__), "..", "..", "Tokenizer", "hf", "decode_ref.js")
prompt_ids = json.loads(subprocess.run([exe, "--tokenize", "--prompt", prompt], capture_output=True,
                                       check=True, text=True).stdout)
same = differ = 0
for seed in range(int(seeds)):
    outs = []
    for mode in ([], ["--no-stream"]):
        out = subprocess.run([exe, "--prompt", prompt, "-n", n, "--seed", str(seed), "--print-ids"] + mode,
                             capture_output=True, check=True).stdout.decode("utf-8")
        text, ids_line = out[:-1].rsplit("\n", 1)
        outs.append(text)
    ids = prompt_ids + [int(x) for x in ids_line.split(",") if x]
    ref = json.loads(subprocess.run(["node", ref_js, modules, tokdir, ",".join(map(str, ids))],
                                    capture_output=True, check=True, text=True).stdout)
    ok = outs[0] == ref and outs[1] == ref
    same += ok
    differ += not ok
    if not ok and differ <= 3:
        print("seed %d: printed %r / %r, reference %r" % (seed, outs[0], outs[1], ref))
print("%s seeds: %d texts equal the reference decode, %d differ" % (seeds, same, differ))
sys.exit(1 if differ else 0)
