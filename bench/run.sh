#!/usr/bin/env bash
#===- bench/run.sh - GPT-2 124M speed against the machine's limits ----------===#
#
# Usage: bash bench/run.sh [THREADS]      (default 2)
# Builds tfm, compiles GPT-2 124M with random weights (f32), and measures
#  * prefill: a 512-token prompt in one pass;
#  * decode: 128 tokens, one step each with the KV cache;
# then prints tokens/s next to the machine's limits measured in the same run:
# decode is bounded by reading every weight once per token (bandwidth /
# weight bytes), prefill by 2 FLOP per parameter per token (matmul peak).
# Not a test: these machines are shared and noisy.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$root/build}
threads=${1:-2}
export OMP_NUM_THREADS=$threads

bash "$root/scripts/build.sh" >/dev/null
work="$build/bench" && mkdir -p "$work"
"$build/bin/tfmc" "$root/examples/gpt2-124M" --random-weights=1 -o "$work/gpt2-124M" --stats 2>&1 |
  grep stats || true

read -r _ bw < <("$build/bin/tfm-bench-limits" | grep bandwidth)
read -r _ f32 < <("$build/bin/tfm-bench-limits" | grep matmul_f32)
weights_mib=474.7   # 124M f32 parameters (tfmc --stats above)
params=124.4e6

prompt=$(seq -s, 1 512)
prefill=$("$work/gpt2-124M" --prompt-ids "$prompt" -n 1 --bench | sed -n 's/^prefill: .*(\(.*\) tokens\/s)/\1/p')
decode=$("$work/gpt2-124M" --prompt-ids 50256 -n 129 --bench | sed -n 's/^decode: .*(\(.*\) tokens\/s)/\1/p')

python3 - "$threads" "$bw" "$f32" "$prefill" "$decode" "$weights_mib" "$params" <<'PY'
import sys
threads, bw, f32, prefill, decode, wmib, params = sys.argv[1:]
bw, f32, prefill, decode, wmib, params = map(float, (bw, f32, prefill, decode, wmib, params))
decode_limit = bw * 1e9 / (wmib * 1048576)
prefill_limit = f32 * 1e9 / (2 * params)
print(f"GPT-2 124M, f32, {threads} threads")
print(f"  machine: {bw:.1f} GB/s read bandwidth, {f32:.0f} GFLOP/s f32 matmul")
print(f"  prefill 512: {prefill:8.1f} tokens/s  ({prefill / prefill_limit:5.1%} of the {prefill_limit:.0f} tokens/s compute limit)")
print(f"  decode 128:  {decode:8.1f} tokens/s  ({decode / decode_limit:5.1%} of the {decode_limit:.0f} tokens/s bandwidth limit)")
print("  peers (llama.cpp, 2-core AVX-512): f32 prefill 1132, decode 92; targets 1500 / 110")
print("  bf16: not implemented yet (tfmc has no --dtype=bf16)")
PY
