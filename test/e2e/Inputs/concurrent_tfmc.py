#!/usr/bin/env python3
"""Races tfmc runs that write one output (concurrent builds to one path).

    concurrent_tfmc.py OUTDIR MODEL_A MODEL_B ROUNDS WRITERS

Each round starts WRITERS tfmc processes at once, alternately compiling
MODEL_A and MODEL_B to OUTDIR/same. Every run must exit 0, the output must
then be a whole executable of one of the two models (its greedy ids equal
those of that model's executable compiled alone), and no temporary file may
be left in OUTDIR. Prints one summary line.
"""
import os
import subprocess
import sys


def ids(exe):
    return subprocess.run([exe, "--prompt-ids", "1,2", "-n", "6", "--greedy", "--print-ids"],
                          capture_output=True, text=True, check=True).stdout


def main():
    outdir, a, b, rounds, writers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    expected = {}
    for name, model in (("A", a), ("B", b)):
        exe = os.path.join(outdir, "alone-" + name)
        subprocess.run(["tfmc", model, "-q", "-o", exe], check=True)
        expected[ids(exe)] = name
    if len(expected) != 2:
        sys.exit("the two models give the same ids: the check could not tell them apart")
    same = os.path.join(outdir, "same")
    failures, whole = 0, 0
    for _ in range(rounds):
        procs = [subprocess.Popen(["tfmc", (a, b)[i % 2], "-q", "-o", same],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for i in range(writers)]
        for p in procs:
            out, _ = p.communicate()
            if p.returncode != 0:
                failures += 1
                print("tfmc failed (%d): %s" % (p.returncode, out.strip()))
        if ids(same) in expected:
            whole += 1
    left = sorted(f for f in os.listdir(outdir) if f not in ("same", "alone-A", "alone-B"))
    print("%d rounds x %d writers: %d failed runs, %d rounds left a whole executable, "
          "temporary files left: %s" % (rounds, writers, failures, whole, left or "none"))


if __name__ == "__main__":
    main()
