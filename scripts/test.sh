#!/usr/bin/env bash
#===- scripts/test.sh - Set up, build and run every test --------------------===#
#
# Usage: bash scripts/test.sh
# Installs what is missing, builds tfm, then runs ctest: the lit + FileCheck
# suite (one ctest test, "lit", which prints its own per-file results) and
# every GoogleTest unit test.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$root/build}

bash "$root/scripts/build.sh"
export PATH="$root/.deps/node_modules/.bin:$PATH"
ctest --test-dir "$build" --output-on-failure -j 2
