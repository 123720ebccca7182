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

"$build/bin/tfmc" "$root/examples/gpt2-124M" --random-weights=1 --dtype=bf16 -o "$work/gpt2-124M-bf16" 2>/dev/null
read -r _ bf16 < <("$build/bin/tfm-bench-limits" | grep matmul_bf16)

prompt=$(seq -s, 1 512)
measure() { # EXE -> "prefill decode"
  local p d
  p=$("$1" --prompt-ids "$prompt" -n 1 --bench | sed -n 's/^prefill: .*(\(.*\) tokens\/s)/\1/p')
  d=$("$1" --prompt-ids 50256 -n 129 --bench | sed -n 's/^decode: .*(\(.*\) tokens\/s)/\1/p')
  echo "$p $d"
}
read -r p32 d32 < <(measure "$work/gpt2-124M")
read -r p16 d16 < <(measure "$work/gpt2-124M-bf16")

python3 - "$threads" "$bw" "$f32" "$bf16" "$p32" "$d32" "$p16" "$d16" "$weights_mib" "$params" <<'PY'
import sys
threads = sys.argv[1]
bw, f32, bf16, p32, d32, p16, d16, wmib, params = map(float, sys.argv[2:])
print(f"GPT-2 124M, {threads} threads (prefill: a 512-token prompt; decode: 128 tokens)")
print(f"  machine: {bw:.1f} GB/s read bandwidth, {f32:.0f} GFLOP/s f32 and {bf16:.0f} GFLOP/s bf16 matmul")
for name, p, d, peak, wbytes, peer, target in (
        ("f32 ", p32, d32, f32, wmib * 1048576, (1132, 92), (1500, 110)),
        ("bf16", p16, d16, bf16, wmib * 1048576 / 2, (1625, 163), (2500, 200))):
    plim = peak * 1e9 / (2 * params)
    dlim = bw * 1e9 / wbytes
    print(f"  {name} prefill {p:7.1f} tokens/s ({p / plim:5.1%} of {plim:.0f}); "
          f"decode {d:6.1f} tokens/s ({d / dlim:5.1%} of {dlim:.0f}); "
          f"llama.cpp {peer[0]}/{peer[1]}, targets {target[0]}/{target[1]}")
PY
