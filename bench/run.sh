#!/usr/bin/env bash
#===- bench/run.sh - GPT-2 124M speed against the machine's limits ----------===#
#
# Usage: bash bench/run.sh [THREADS]      (default 2)
# Builds tfm, compiles GPT-2 124M with random weights (f32, bf16, and the
# weight-only int8 and int4 of tfmc --dtype, default groups), and measures
#  * prefill: a 512-token prompt in one pass;
#  * decode: 128 tokens, one step each with the KV cache;
# each three times (the median is printed: these machines are shared and
# noisy), then prints tokens/s next to the machine's limits measured in the
# same run: decode is bounded by reading every weight once per token
# (bandwidth / weight bytes), prefill by its FLOPs at the matmul peak: 2 per
# weight of the 12 blocks per token, the causal attention (4 * n_embd *
# layers * (T + 1) / 2 per token) and the lm head of the last row only.
# int8/int4 decode is bounded by the bytes it reads per token (integers,
# scales and the f32 rest); their prefill is compared with the faster of f32
# and bf16 (the targets of the weight-only issue: decode >= 0.8 / 0.7 of the
# bandwidth limit, prefill >= 0.9 of f32/bf16).
# Not a test.
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
weights_mib=474.7   # 124M f32 parameters (tfmc --stats above), all read per token
# Prefill FLOPs per token of a 512-token prompt: blocks, attention, head/T.
flops=$(python3 -c "l, d, v, t = 12, 768, 50257, 512
print(2 * l * (d * 3 * d + d * d + 2 * d * 4 * d) + 4 * d * l * (t + 1) / 2 + 2 * d * v / t)")

"$build/bin/tfmc" "$root/examples/gpt2-124M" --random-weights=1 --dtype=bf16 -o "$work/gpt2-124M-bf16" 2>/dev/null
read -r _ bf16 < <("$build/bin/tfm-bench-limits" | grep matmul_bf16)

prompt=$(seq -s, 1 512)
median() { sort -g | sed -n 2p; }
measure() { # EXE -> "prefill decode", each the median of three runs
  local p d
  p=$(for _ in 1 2 3; do "$1" --prompt-ids "$prompt" -n 1 --bench --no-stream --print-ids |
        sed -n 's/^prefill: .*(\(.*\) tokens\/s)/\1/p'; done | median)
  d=$(for _ in 1 2 3; do "$1" --prompt-ids 50256 -n 129 --no-stop-at-eos --bench --no-stream --print-ids |
        sed -n 's/^decode: .*(\(.*\) tokens\/s)/\1/p'; done | median)
  echo "$p $d"
}
for q in int8 int4; do
  "$build/bin/tfmc" "$root/examples/gpt2-124M" --random-weights=1 --dtype=$q -q \
    -o "$work/gpt2-124M-$q" 2>/dev/null
done
read -r p32 d32 < <(measure "$work/gpt2-124M")
read -r p16 d16 < <(measure "$work/gpt2-124M-bf16")
read -r p8 d8 < <(measure "$work/gpt2-124M-int8")
read -r p4 d4 < <(measure "$work/gpt2-124M-int4")
# Where the quantized GEMV runs its AVX-512 VNNI copy, the AVX2 copy's
# decode too (TFM_KERNELS=avx2), interleaved with the default: the measurement
# behind the per-ISA choice (docs/backend.md).
vnni8=0 avx28=0 vnni4=0 avx24=0
if "$work/gpt2-124M-int4" --prompt-ids 1 -n 1 --verbose 2>&1 >/dev/null | grep avx512-vnni >/dev/null; then
  decode() { "$@" --prompt-ids 50256 -n 129 --no-stop-at-eos --bench --no-stream --print-ids |
             sed -n 's/^decode: .*(\(.*\) tokens\/s)/\1/p'; }
  for q in 8 4; do
    vs=() as=()
    for _ in 1 2 3; do
      vs+=("$(decode "$work/gpt2-124M-int$q")")
      as+=("$(TFM_KERNELS=avx2 decode "$work/gpt2-124M-int$q")")
    done
    eval "vnni$q=$(printf '%s\n' "${vs[@]}" | median) avx2$q=$(printf '%s\n' "${as[@]}" | median)"
  done
fi

python3 - "$threads" "$bw" "$f32" "$bf16" "$p32" "$d32" "$p16" "$d16" "$weights_mib" "$flops" \
  "$p8" "$d8" "$p4" "$d4" "$vnni8" "$avx28" "$vnni4" "$avx24" <<'PY'
import sys
threads = sys.argv[1]
(bw, f32, bf16, p32, d32, p16, d16, wmib, flops, p8, d8, p4, d4,
 vnni8, avx28, vnni4, avx24) = map(float, sys.argv[2:])
print(f"GPT-2 124M, {threads} threads (prefill: a 512-token prompt; decode: 128 tokens)")
print(f"  machine: {bw:.1f} GB/s read bandwidth, {f32:.0f} GFLOP/s f32 and {bf16:.0f} GFLOP/s bf16 matmul")
for name, p, d, peak, wbytes, peer, target in (
        ("f32 ", p32, d32, f32, wmib * 1048576, (1132, 92), (1500, 110)),
        ("bf16", p16, d16, bf16, wmib * 1048576 / 2, (1625, 163), (2500, 200))):
    plim = peak * 1e9 / flops
    dlim = bw * 1e9 / wbytes
    print(f"  {name} prefill {p:7.1f} tokens/s ({p / plim:5.1%} of {plim:.0f}); "
          f"decode {d:6.1f} tokens/s ({d / dlim:5.1%} of {dlim:.0f}); "
          f"llama.cpp {peer[0]}/{peer[1]}, targets {target[0]}/{target[1]}")
# Bytes read per decoded token by the quantized executables: every matrix
# (12 blocks and the tied lm head) as integers plus one f32 scale per group,
# everything else (biases, layer norms, one wpe row) f32.
l, d, v = 12, 768, 50257
mats = [(d, 3 * d), (d, d), (d, 4 * d), (4 * d, d)] * l + [(d, v)]  # (K, N)
f32_rest = 4 * (l * (3 * d + d + 4 * d + d + 4 * d) + 2 * d + d)
best = max(p32, p16)
for name, p, dd, bits, group, target in (("int8", p8, d8, 8, 128, 0.8), ("int4", p4, d4, 4, 64, 0.7)):
    qbytes = sum(n * k * bits / 8 + n * (k // group) * 4 for k, n in mats) + f32_rest
    dlim = bw * 1e9 / qbytes
    print(f"  {name} prefill {p:7.1f} tokens/s ({p / best:5.2f}x the faster of f32/bf16, target 0.9); "
          f"decode {dd:6.1f} tokens/s ({dd / dlim:5.1%} of {dlim:.0f} for {qbytes / 2**20:.1f} MiB "
          f"a token, target {target:.0%}; {dd / d32:.2f}x f32)")
    vnni, avx2 = (vnni8, avx28) if bits == 8 else (vnni4, avx24)
    if vnni > 0:
        print(f"       decode, GEMV copy: avx512-vnni {vnni:6.1f} ({vnni / dlim:5.1%}), "
              f"avx2 {avx2:6.1f} tokens/s ({avx2 / dlim:5.1%}) (TFM_KERNELS=avx2; "
              f"medians of 3, interleaved)")
PY
