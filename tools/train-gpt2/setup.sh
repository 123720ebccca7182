#!/usr/bin/env bash
#===- tools/train-gpt2/setup.sh - What training the default model needs -----===#
#
# Installs, from Debian (idempotent): the King James Bible (`bible-kjv-text`,
# the text, and `bible-kjv`, the `bible` program that prints it), PyTorch and
# NumPy, `python3-regex` (GPT-2's pre-tokenizer needs \p{L} and \p{N}), and
# OpenBLAS as the system BLAS (`libopenblas0-openmp`: Debian's PyTorch calls
# libblas.so.3 for f32 matmuls; the reference BLAS it has otherwise measured
# ~3 GFLOP/s here, OpenBLAS ~100). Neither the build nor the tests need these.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
pkgs=(bible-kjv bible-kjv-text python3 python3-torch python3-numpy python3-regex libopenblas0-openmp)
missing=()
for p in "${pkgs[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "train-gpt2 setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
