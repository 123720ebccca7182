#!/usr/bin/env bash
#===- scripts/test.sh - Set up, build and run every test --------------------===#
#
# Usage: bash scripts/test.sh [--sanitize]
# Installs what is missing, builds tfm, smoke-runs the fuzz targets
# (scripts/fuzz.sh --smoke), then runs ctest: the lit + FileCheck suite (one
# ctest test, "lit", which prints its own per-file results) and every
# GoogleTest unit test.
# --sanitize: instead, the whole ctest suite on an ASan + UBSan build in
# build-asan/ (-DTFM_SANITIZE=ON: tools, unit tests and every executable
# tfmc links run instrumented; docs/fuzzing.md has the last run's numbers).
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$root/build}

if [ "${1:-}" = "--sanitize" ]; then
  export TFM_BUILD_DIR=${TFM_SANITIZE_BUILD_DIR:-$root/build-asan}
  export TFM_CMAKE_FLAGS="-DTFM_SANITIZE=ON"
  bash "$root/scripts/build.sh"
  export PATH="$root/.deps/node_modules/.bin:$PATH"
  ctest --test-dir "$TFM_BUILD_DIR" --output-on-failure -j 2
  exit 0
fi
bash "$root/scripts/build.sh"
export PATH="$root/.deps/node_modules/.bin:$PATH"
# The libFuzzer targets (ASan + UBSan build in build-fuzz/), a deterministic
# smoke run of each; scripts/fuzz.sh SECONDS runs them longer.
bash "$root/scripts/fuzz.sh" --smoke
ctest --test-dir "$build" --output-on-failure -j 2
