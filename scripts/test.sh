#!/usr/bin/env bash
#===- scripts/test.sh - Set up, build and run every test --------------------===#
#
# Usage: bash scripts/test.sh
# Installs what is missing, builds tfm, smoke-runs the fuzz targets
# (scripts/fuzz.sh --smoke), then runs ctest: the lit + FileCheck suite (one
# ctest test, "lit", which prints its own per-file results) and every
# GoogleTest unit test.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$root/build}

bash "$root/scripts/build.sh"
export PATH="$root/.deps/node_modules/.bin:$PATH"
# The libFuzzer targets (ASan + UBSan build in build-fuzz/), a deterministic
# smoke run of each; scripts/fuzz.sh SECONDS runs them longer.
bash "$root/scripts/fuzz.sh" --smoke
ctest --test-dir "$build" --output-on-failure -j 2
