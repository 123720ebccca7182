#!/usr/bin/env bash
#===- bench/families.sh - A SmolLM2-135M-shaped Llama beside GPT-2 124M ---===#
#
# Usage: bash bench/families.sh [THREADS]      (default 2)
# Compiles a Llama-family model shaped as SmolLM2-135M (30 layers, hidden
# 576, 9 query / 3 key-value heads of 64, gated MLP of 1536, vocabulary
# 49152, tied; bench/models/smollm2-135m-shaped/config.json, random weights)
# in f32, int8 and int4, and measures, each the median of three runs:
#  * prefill: a 512-token prompt in one pass;
#  * decode: 128 tokens after a 1-token prompt, and 64 tokens after a
#    2000-token context (the KV cache then adds 2 x layers x kv_heads x
#    head_dim x 4 bytes per cached position to every token's reads);
# next to the machine's limits measured in the same run (tfm-bench-limits):
# decode by the bytes read per token (weights, or integers + scales, and the
# KV cache) over the read bandwidth, prefill by its FLOPs at the f32 matmul
# peak. bench/run.sh does the same for GPT-2 124M. Not a test.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$root/build}
threads=${1:-2}
export OMP_NUM_THREADS=$threads
model="$root/bench/models/smollm2-135m-shaped"

bash "$root/scripts/build.sh" >/dev/null
work="$build/bench" && mkdir -p "$work"
for dtype in f32 int8 int4; do
  "$build/bin/tfmc" "$model" --random-weights=1 --dtype=$dtype -q -o "$work/smollm2-$dtype" 2>/dev/null
done
read -r _ bw < <("$build/bin/tfm-bench-limits" | grep bandwidth)
read -r _ f32 < <("$build/bin/tfm-bench-limits" | grep matmul_f32)

median() { sort -g | sed -n 2p; }
prompt=$(seq -s, 1 512)
context=$(seq -s, 1 2000)
measure() { # EXE -> "prefill decode decode-after-2000", medians of three
  local p d l
  p=$(for _ in 1 2 3; do "$1" --prompt-ids "$prompt" -n 1 --bench --no-stream --print-ids |
        sed -n 's/^prefill: .*(\(.*\) tokens\/s)/\1/p'; done | median)
  d=$(for _ in 1 2 3; do "$1" --prompt-ids 1 -n 129 --no-stop-at-eos --bench --no-stream --print-ids |
        sed -n 's/^decode: .*(\(.*\) tokens\/s)/\1/p'; done | median)
  l=$(for _ in 1 2 3; do "$1" --prompt-ids "$context" -n 65 --no-stop-at-eos --bench --no-stream --print-ids |
        sed -n 's/^decode: .*(\(.*\) tokens\/s)/\1/p'; done | median)
  echo "$p $d $l"
}
read -r p32 d32 l32 < <(measure "$work/smollm2-f32")
read -r p8 d8 l8 < <(measure "$work/smollm2-int8")
read -r p4 d4 l4 < <(measure "$work/smollm2-int4")

python3 - "$threads" "$bw" "$f32" "$p32" "$d32" "$l32" "$p8" "$d8" "$l8" "$p4" "$d4" "$l4" <<'PY'
import sys
threads = sys.argv[1]
bw, peak, p32, d32, l32, p8, d8, l8, p4, d4, l4 = map(float, sys.argv[2:])
L, d, f, v, h, kv, dh, T = 30, 576, 1536, 49152, 9, 3, 64, 512
mats = [(d, h * dh), (d, kv * dh), (d, kv * dh), (h * dh, d), (d, f), (d, f), (f, d)] * L + [(d, v)]
rest = 4 * (2 * L * d + d + d)  # norms, the final norm, one embedding row
kv_bytes = lambda ctx: 2 * L * kv * dh * 4 * ctx  # read once per token
flops = 2 * sum(k * n for k, n in mats[:-1]) + 4 * h * dh * L * (T + 1) / 2 + 2 * d * v / T
plim = peak * 1e9 / flops
print(f"SmolLM2-135M-shaped (llama, GQA 9/3, tied), {threads} threads; "
      f"machine: {bw:.1f} GB/s read bandwidth, {peak:.0f} GFLOP/s f32 matmul")
for name, p, dd, ll, bits, group in (("f32 ", p32, d32, l32, 32, 0), ("int8", p8, d8, l8, 8, 128),
                                     ("int4", p4, d4, l4, 4, 64)):
    if bits == 32:
        wbytes = 4 * sum(k * n for k, n in mats) + rest
    else:
        wbytes = sum(n * k * bits / 8 + n * (k // group) * 4 for k, n in mats) + rest
    dlim = bw * 1e9 / (wbytes + kv_bytes(1))
    llim = bw * 1e9 / (wbytes + kv_bytes(2000))
    print(f"  {name} prefill-512 {p:7.1f} tokens/s ({p / plim:5.1%} of the f32 GEMM limit {plim:.0f}); "
          f"decode {dd:6.1f} tokens/s ({dd / dlim:5.1%} of {dlim:.0f} for {wbytes / 2**20:.1f} MiB); "
          f"after 2000 tokens {ll:6.1f} ({ll / llim:5.1%} of {llim:.0f}, KV {kv_bytes(2000) / 2**20:.0f} MiB)")
PY
