#!/usr/bin/env python3
"""Checks that an executable stops at the eos_token_id(s) and starts an
empty prompt from the bos_token_id of its configuration, as transformers'
generate() takes them: generation_config.json's where it has the key, else
config.json's (an int or a list), else the tokenizer's.

    check_special_ids.py MODEL_DIR WORK_DIR

MODEL_DIR is a model without a tokenizer (ids in and out; config.json with
no eos_token_id). The script compiles it with tfmc (on PATH) several times,
editing its config.json and generation_config.json, and prints one line per
check; a failed check exits 1.
"""
import json
import os
import subprocess
import sys

ARGS = ["--prompt-ids", "5", "-n", "12", "--seed", "3", "--print-ids"]


def compile_and_run(model, exe, *extra):
    subprocess.run(["tfmc", model, "-o", exe, "-q"], check=True)
    out = subprocess.run([exe, *ARGS, *extra], check=True, capture_output=True, text=True).stdout
    return [int(x) for x in out.split(",") if x.strip()]


def edit(path, **keys):
    data = json.load(open(path)) if os.path.exists(path) else {}
    data.update(keys)
    json.dump(data, open(path, "w"))


def main():
    model, work = sys.argv[1:3]
    config = os.path.join(model, "config.json")
    generation = os.path.join(model, "generation_config.json")
    full = compile_and_run(model, os.path.join(work, "none.exe"), "--no-stop-at-eos")
    # Stop ids: one the sequence never has, and the first id that appears
    # first at index 3 or later (so that stopping early is visible).
    absent = next(i for i in range(64) if i not in full)
    late = next(x for k, x in enumerate(full) if k >= 3 and x not in full[:k])
    early = next(x for k, x in enumerate(full) if k >= 1 and x not in full[:k] and full.index(late) > k)
    failures = 0

    def expect(what, got, want):
        nonlocal failures
        ok = got == want
        failures += not ok
        print(f"{what}: {'ok' if ok else f'got {got}, expected {want}'}")

    def upto(x):
        return full[: full.index(x) + 1]

    edit(config, eos_token_id=[absent, late])
    expect("config.json eos_token_id [absent, late] stops at late",
           compile_and_run(model, os.path.join(work, "config.exe")), upto(late))
    expect("--no-stop-at-eos runs on",
           compile_and_run(model, os.path.join(work, "config.exe"), "--no-stop-at-eos"), full)
    edit(generation, eos_token_id=early)
    expect("generation_config.json eos_token_id (an int) replaces config.json's",
           compile_and_run(model, os.path.join(work, "generation.exe")), upto(early))
    edit(generation, eos_token_id=None)
    expect("generation_config.json eos_token_id null: no stop id",
           compile_and_run(model, os.path.join(work, "null.exe")), full)
    # bos_token_id: an empty prompt starts from it.
    os.remove(generation)
    edit(config, bos_token_id=7, eos_token_id=None)
    exe = os.path.join(work, "bos.exe")
    subprocess.run(["tfmc", model, "-o", exe, "-q"], check=True)
    empty = subprocess.run([exe, "-n", "6", "--seed", "1", "--print-ids"], check=True,
                           capture_output=True, text=True).stdout
    given = subprocess.run([exe, "--prompt-ids", "7", "-n", "6", "--seed", "1", "--print-ids"],
                           check=True, capture_output=True, text=True).stdout
    expect("config.json bos_token_id starts an empty prompt", empty, given)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
