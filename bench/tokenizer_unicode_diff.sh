#!/usr/bin/env bash
# Differential check of pre-tokenization across all of Unicode: every scalar value in 11 contexts, encoded by
# tiktoken@1.0.22 (WASM, Rust regex tables) and by `gptoss tokenize --jsonl` (PCRE2 tables); prints the number
# of differing batches (0 expected). Takes a few minutes.
#
#   bench/tokenizer_unicode_diff.sh [BUILD_DIR]      (default: build/cpu)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build/cpu}" && pwd)
shared=$(cd "${GPTOSS_SHARED_DIR:-$root/../shared}" && pwd)
work="$build/bench/tokenizer"
mkdir -p "$work"
if [ ! -f "$root/bench/node_modules/tiktoken/package.json" ]; then
  (cd "$root/bench" && npm ci --no-audit --no-fund --silent)
fi
cmake --build "$build" --target gptoss >/dev/null
node "$root/bench/tiktoken_unicode_probes.mjs" "$work/unicode_probes.jsonl" "$work/unicode_ids_tiktoken.jsonl"
"$build/tools/gptoss" tokenize --jsonl --tokenizer "$shared/vocab/o200k_base.tiktoken" \
  <"$work/unicode_probes.jsonl" >"$work/unicode_ids_gptoss.jsonl"
differ=$(paste -d '\n' "$work/unicode_ids_tiktoken.jsonl" "$work/unicode_ids_gptoss.jsonl" | paste - - |
  awk -F '\t' '$1 != $2' | wc -l)
echo "unicode probes: $(wc -l <"$work/unicode_probes.jsonl") batches, $differ differ"
[ "$differ" -eq 0 ]
