#!/usr/bin/env bash
#===- scripts/fuzz.sh - Build and run tfm's libFuzzer targets ---------------===#
#
# Usage: bash scripts/fuzz.sh [SECONDS]      (default 30 s per target)
#        bash scripts/fuzz.sh --smoke        (CI: 20,000 runs per target, seed 1:
#                                              deterministic, about 5 s each; the
#                                              ctest tests fuzz-NAME-smoke, label fuzz)
#        bash scripts/fuzz.sh --runs N [TARGET...]
#                                            (long runs: N executions per target,
#                                              e.g. 10000000; only the named targets)
# Configures build-fuzz/ (or $TFM_FUZZ_BUILD_DIR) with -DTFM_FUZZ=ON (ASan +
# UBSan + libFuzzer coverage on every translation unit), builds the targets in
# fuzz/, and runs each for SECONDS on a copy of its committed seed corpus
# (fuzz/corpus/NAME; what a run finds stays in the copy). Prints each
# target's executions and exits non-zero on the first crash, leak, timeout or
# sanitizer report (the reproducer is left in build-fuzz/fuzz/).
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_FUZZ_BUILD_DIR:-$root/build-fuzz}
limit=(-max_total_time="${1:-30}") what="in ${1:-30} s"
rss=4096 targets=(npy tokenizer tokenizer-json safetensors weights config mlir)
if [ "${1:-}" = --runs ]; then
  [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --runs needs a positive count" >&2; exit 2; }
  limit=(-runs="$2") what="(long run)" rss=16384 # the tokenizer's BPE cache grows with every new word
  shift 2
  if [ $# -gt 0 ]; then targets=("$@"); fi
fi

bash "$root/scripts/setup.sh"
export PATH="$root/.deps/node_modules/.bin:$PATH"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -Wno-dev -DTFM_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=/usr/lib/llvm-22/bin/clang \
    -DCMAKE_CXX_COMPILER=/usr/lib/llvm-22/bin/clang++ \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir >/dev/null
fi
ninja -C "$build" -j "${TFM_JOBS:-2}" tfm-fuzzers
if [ "${1:-}" = --smoke ]; then # the ctest tests NAME-smoke (fuzz/CMakeLists.txt)
  exec ctest --test-dir "$build" -L fuzz --output-on-failure -j "${TFM_JOBS:-2}"
fi

passed=0 failed=0
for target in "${targets[@]}"; do
  exe="$build/fuzz/fuzz-$target"
  work="$build/fuzz/corpus-$target"
  rm -rf "$work" && mkdir -p "$work"
  seeds=$target
  [ "$target" = weights ] && seeds=safetensors # both read safetensors files
  cp "$root/fuzz/corpus/$seeds/"* "$work/"
  dict=()
  [ -f "$root/fuzz/$target.dict" ] && dict=(-dict="$root/fuzz/$target.dict")
  log="$build/fuzz/$target.log"
  [ -x "$exe" ] || { echo "fuzz.sh: no target fuzz-$target" >&2; exit 2; }
  start=$SECONDS
  if (cd "$build/fuzz" && "$exe" "$work" "${dict[@]}" "${limit[@]}" -max_len=8192 \
        -timeout=20 -rss_limit_mb=$rss -print_final_stats=1 > "$log" 2>&1); then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz-$target: $runs executions $what in $((SECONDS - start)) s, no crash"
    passed=$((passed + 1))
  else
    echo "fuzz-$target: FAILED (see $log)"
    tail -30 "$log"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed targets clean, $failed failed"
[ "$failed" -eq 0 ]
