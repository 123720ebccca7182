#!/usr/bin/env bash
#===- bench/encoders.sh - Sentence embeddings: tfm against PyTorch ---------===#
#
# Usage: bash bench/encoders.sh [THREADS] [BATCH_TOKENS]      (default 2, 4096)
# Embeds 10,000 texts of 8-64 words (cut from examples/gpt2-kjv/heldout.txt)
# with an all-MiniLM-L6-v2-shaped BERT (6 layers, hidden 384, 12 heads,
# random weights; bench/encoders.py prepares it with bert-base-uncased's
# tokenizer.json and mean pooling + Normalize) twice, with THREADS threads:
#  * tfm: the f32 executable's --embed-file (tokenization included, texts
#    packed into calls of BATCH_TOKENS tokens);
#  * PyTorch (Debian's, eager, inference mode): BertModel's forward in
#    batches of 32 sorted by length and padded, as sentence-transformers
#    encodes (tokenization excluded);
# and prints sentences/s of each, their ratio (the goal: tfm at least 2x),
# tfm's GEMM FLOP rate against the f32 matmul peak measured in the same run
# (tfm-bench-limits), and how far the two embeddings agree (cosine); then
# tfm's bf16 executable (--dtype=bf16) on the same texts.
# Not a test.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$root/build}
threads=${1:-2}
batch=${2:-4096}
export OMP_NUM_THREADS=$threads

bash "$root/scripts/build.sh" >/dev/null
work="$build/bench/encoders" && mkdir -p "$work"
/usr/bin/python3 "$root/bench/encoders.py" prepare "$work"
"$build/bin/tfmc" "$work/model" -q -o "$work/minilm"
"$build/bin/tfmc" "$work/model" -q --dtype=bf16 -o "$work/minilm-bf16"
read -r _ f32 < <("$build/bin/tfm-bench-limits" | grep matmul_f32)
tfm=$("$work/minilm" --embed-file "$work/texts.txt" -o "$work/tfm.npy" --batch-tokens "$batch" \
        --threads "$threads" 2>&1 | grep '^embedded')
bf16=$("$work/minilm-bf16" --embed-file "$work/texts.txt" -o "$work/tfm-bf16.npy" \
         --batch-tokens "$batch" --threads "$threads" 2>&1 | grep '^embedded')
torch=$(/usr/bin/python3 "$root/bench/encoders.py" torch "$work" "$threads" | grep '^torch:')
echo "tfm $tfm"
echo "tfm bf16 $bf16"
echo "$torch"
/usr/bin/python3 - "$work" "$f32" "$tfm" "$torch" "$bf16" <<'PY'
import re, sys
import numpy as np
work, peak, tfm, torch, bf16 = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
n, tokens, seconds, rate = re.search(r"embedded (\d+) texts \((\d+) tokens\) in ([\d.]+) s: ([\d.]+)", tfm).groups()
trate = float(re.search(r"([\d.]+) sentences/s", torch).group(1))
d, f, layers = 384, 1536, 6
flops = 2 * int(tokens) * layers * (4 * d * d + 2 * d * f)  # the GEMMs (attention is ~3% more)
a, b = np.load(f"{work}/tfm.npy"), np.load(f"{work}/torch.npy")
cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
print(f"tfm / PyTorch: {float(rate) / trate:.2f}x ({float(rate):.1f} against {trate:.1f} sentences/s; goal 2x)")
print(f"tfm GEMM rate: {flops / float(seconds) / 1e9:.1f} GFLOP/s = {flops / float(seconds) / 1e9 / peak:.0%} "
      f"of the f32 matmul peak ({peak:.0f} GFLOP/s)")
print(f"embeddings: cosine min {cos.min():.6f}, mean {cos.mean():.6f} over {len(cos)} texts")
brate = float(re.search(r": ([\d.]+) sentences/s", bf16).group(1))
c = np.load(f"{work}/tfm-bf16.npy")
bcos = (c * b).sum(1) / (np.linalg.norm(c, axis=1) * np.linalg.norm(b, axis=1))
print(f"tfm bf16: {brate:.1f} sentences/s ({brate / trate:.2f}x PyTorch f32); cosine with PyTorch f32 "
      f"min {bcos.min():.6f}, mean {bcos.mean():.6f}")
PY
