#!/usr/bin/env bash
#===- scripts/run.sh - The main job: build tfm, compile a model, run it -----===#
#
# Usage: bash scripts/run.sh [MODEL.mlir]     (default: examples/skeleton.mlir)
# Builds tfm, compiles the model with tfmc into a native executable, makes
# random inputs, runs the executable, and checks its output against the
# reference evaluator.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$root/build}
model=${1:-$root/examples/skeleton.mlir}

bash "$root/scripts/build.sh"
work="$build/run"
rm -rf "$work" && mkdir -p "$work"
name=$(basename "$model" .mlir)

echo "== tfmc $model -o $work/$name"
time "$build/bin/tfmc" "$model" -o "$work/$name"

echo "== random inputs (tfm-ref --make-inputs)"
"$build/bin/tfm-ref" "$model" --make-inputs="$work/in" --seed=1
ins=() outs=() refs=()
for f in "$work"/in*.npy; do ins+=(--in "$f"); done
n_out=$("$work/$name" --help | sed -n '/^outputs:/,$p' | grep -c '#')
for i in $(seq 0 $((n_out - 1))); do outs+=(--out "$work/out$i.npy"); refs+=(--compare "$work/out$i.npy"); done

echo "== $work/$name ${ins[*]} ${outs[*]}"
"$work/$name" "${ins[@]}" "${outs[@]}" --verbose

echo "== output #0"
/usr/bin/python3 -c "import numpy as np; np.set_printoptions(precision=5, suppress=True); print(np.load('$work/out0.npy'))"
echo "== against the reference evaluator"
"$build/bin/tfm-ref" "$model" "${ins[@]}" "${refs[@]}" --rtol=1e-5 --atol=1e-7
