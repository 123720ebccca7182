#!/usr/bin/env bash
#===- scripts/run.sh - The main job: build tfm, compile a model, run it -----===#
#
# Usage: bash scripts/run.sh [MODEL [PROMPT]]
#   MODEL: a model directory, config.json or .mlir file (default:
#          examples/gpt2-kjv, tfm's small GPT-2 trained on the King James
#          Bible; examples/gpt2-124M is GPT-2 124M with random weights)
#   PROMPT: the text to continue (default: "And God said" for the models
#           trained on the King James Bible, examples/*-kjv, "The quick
#           brown fox" for others)
# Builds tfm, compiles the model with tfmc into a native executable and runs it:
#  * a GPT-2 style model generates 64 tokens from a text prompt (its
#    tokenizer, sampling with a fixed seed), streams the text and prints
#    prefill/decode tokens/s;
#  * a .mlir model runs on random .npy inputs and is checked against the
#    reference evaluator.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$root/build}
model=${1:-$root/examples/gpt2-kjv}
if [ $# -ge 2 ]; then prompt=$2
elif [[ "$(basename "${model%/}")" == *-kjv ]]; then prompt="And God said"
else prompt="The quick brown fox"; fi

bash "$root/scripts/build.sh"
work="$build/run"
rm -rf "$work" && mkdir -p "$work"
name=$(basename "${model%/}" .mlir)
name=${name%.json}

if [ "${model##*.}" = mlir ]; then
  echo "== tfmc $model -o $work/$name"
  "$build/bin/tfmc" "$model" -o "$work/$name" --stats
  "$build/bin/tfm-ref" "$model" --make-inputs="$work/in" --seed=1
  ins=() outs=() refs=()
  for f in "$work"/in*.npy; do ins+=(--in "$f"); done
  n_out=$("$work/$name" --help | sed -n '/^outputs:/,$p' | grep -c '#')
  for i in $(seq 0 $((n_out - 1))); do outs+=(--out "$work/out$i.npy"); refs+=(--compare "$work/out$i.npy"); done
  "$work/$name" "${ins[@]}" "${outs[@]}"
  /usr/bin/python3 -c "import numpy as np; np.set_printoptions(precision=5, suppress=True); print(np.load('$work/out0.npy'))"
  "$build/bin/tfm-ref" "$model" "${ins[@]}" "${refs[@]}" --rtol=1e-5 --atol=1e-7
  exit 0
fi

weights=()
if [ ! -f "${model%/}/model.safetensors" ] && [ ! -f "$(dirname "$model")/model.safetensors" ]; then
  weights=(--random-weights=1)
fi
echo "== tfmc $model ${weights[*]} -o $work/$name"
"$build/bin/tfmc" "$model" "${weights[@]}" -o "$work/$name" --stats
echo "== $work/$name --prompt \"$prompt\" -n 64 --bench"
"$work/$name" --prompt "$prompt" -n 64 --bench
