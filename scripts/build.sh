#!/usr/bin/env bash
#===- scripts/build.sh - Install dependencies, configure and build tfm -----===#
#
# Usage: bash scripts/build.sh        (build directory: build/, or $TFM_BUILD_DIR)
# Runs scripts/setup.sh (idempotent), configures with CMake 4 + Ninja +
# clang++-22 once, then builds everything with two jobs (the machine has two
# cores and MLIR translation units are heavy).
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$root/build}

bash "$root/scripts/setup.sh"
export PATH="$root/.deps/node_modules/.bin:$PATH"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -Wno-dev \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=/usr/lib/llvm-22/bin/clang \
    -DCMAKE_CXX_COMPILER=/usr/lib/llvm-22/bin/clang++ \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir ${TFM_CMAKE_FLAGS:-}
fi
ninja -C "$build" -j "${TFM_JOBS:-2}"
