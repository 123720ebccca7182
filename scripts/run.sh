#!/usr/bin/env bash
#===- scripts/run.sh - The main job: build tfm, compile a model, run it -----===#
#
# Usage: bash scripts/run.sh [MODEL [PROMPT]]
#   MODEL: a model directory, config.json or .mlir file (default:
#          examples/gpt2-kjv, tfm's small GPT-2 trained on the King James
#          Bible; examples/gpt2-124M is GPT-2 124M with random weights)
#   PROMPT: the text to continue (default: "And God said" for the models
#           trained on the King James Bible, examples/*-kjv, "The quick
#           brown fox" for others); for a masked-LM encoder, the text whose
#           [MASK] to fill (default "And God said, Let there be [MASK]."
#           for examples/bert-kjv, "The quick brown [MASK] jumps." for others)
# Builds tfm, compiles the model with tfmc into a native executable and runs it:
#  * a decoder (GPT-2, Llama, ...) generates 64 tokens from a text prompt (its
#    tokenizer, sampling with a fixed seed), streams the text and prints
#    prefill/decode tokens/s;
#  * an encoder (model_type bert) fills the prompt's [MASK] (BertForMaskedLM
#    weights) or prints its sentence embedding (BertModel);
#  * a .mlir model runs on random .npy inputs and is checked against the
#    reference evaluator.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$root/build}
model=${1:-$root/examples/gpt2-kjv}
config=$model
[ -d "$model" ] && config="${model%/}/config.json"
# An encoder: config.json's model_type is bert; a masked-LM head if its
# architectures say so.
encoder=
if [ "${model##*.}" != mlir ] && [ -f "$config" ]; then
  encoder=$(/usr/bin/python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
if c.get("model_type") == "bert":
    print("fill-mask" if any("MaskedLM" in a or "PreTraining" in a for a in c.get("architectures") or []) else "embed")' "$config" 2>/dev/null || true)
fi
if [ $# -ge 2 ]; then prompt=$2
elif [ "$encoder" = fill-mask ] && [[ "$(basename "${model%/}")" == *-kjv ]]; then prompt="And God said, Let there be [MASK]."
elif [ "$encoder" = fill-mask ]; then prompt="The quick brown [MASK] jumps."
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
if [ "$encoder" = fill-mask ]; then
  echo "== $work/$name --fill-mask \"$prompt\" --bench"
  "$work/$name" --fill-mask "$prompt" --bench
elif [ "$encoder" = embed ]; then
  echo "== $work/$name --prompt \"$prompt\" --embed --bench"
  "$work/$name" --prompt "$prompt" --embed --bench
else
  echo "== $work/$name --prompt \"$prompt\" -n 64 --bench"
  "$work/$name" --prompt "$prompt" -n 64 --bench
fi
