"""KV-cache decoding against one long prefill on GPT-2 124M (random weights).

    check_long_kv.py EXE WORK_DIR [TOLERANCE]

The golden models' prompts are short, so their prefills take the runtime's
direct attention kernel. Here the prompt has 150 tokens: its prefill runs
attention as oneDNN matmuls in two causal blocks (128 + 22 queries); 10
greedy decode steps follow (direct kernel, reading the cache). One prefill
of the same 160 tokens (two blocks, 128 + 32) must give the same logits rows
within TOLERANCE (default 1e-4; bf16 executables use the documented bf16
tolerance 5e-2, since a one-ulp difference in a bf16 activation is 0.4%).
"""
import os
import subprocess
import sys

import numpy as np

exe, work = sys.argv[1], sys.argv[2]
tolerance = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
os.makedirs(work, exist_ok=True)
prompt = [(i * 7919) % 50000 + 17 for i in range(150)]


def run(*args):
    out = subprocess.run([exe, *args], check=True, capture_output=True).stdout
    return out.decode("utf-8", errors="replace")


a = os.path.join(work, "decode.npy")
out = run("--prompt-ids", ",".join(map(str, prompt)), "-n", "11", "--greedy", "--no-stop-at-eos",
          "--no-stream", "--print-ids", "--dump-logits", a)
generated = [int(x) for x in out.strip().splitlines()[-1].split(",")]
full = prompt + generated[:10]
b = os.path.join(work, "full.npy")
run("--prompt-ids", ",".join(map(str, full)), "-n", "1", "--no-stream", "--dump-logits", b)
da, db = np.load(a), np.load(b)
err = np.abs(da - db).max() if da.shape == db.shape else float("inf")
print(f"long kv cache: {da.shape[0]} rows (150 prefill + 10 decode) vs one prefill of "
      f"{db.shape[0]}, max abs error {err:.2e} (tolerance {tolerance:g})")
sys.exit(0 if err <= tolerance else 1)
