#!/usr/bin/env bash
# Tokenizer benchmark: gptoss beside tiktoken@1.0.22 (WASM build of OpenAI's Rust tiktoken) in one run, on the
# same deterministic 12 MiB corpus; prints both results and the ratios, and fails if the ids differ.
#
#   bench/tokenizer_bench.sh [BUILD_DIR] [REPEATS]      (defaults: build/cpu, 3)
#
# Needs a configured build tree (cmake --preset cpu), Node.js 20 and the npm registry (tiktoken is installed
# into bench/node_modules from bench/package-lock.json on first use).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build/cpu}" && pwd)
repeats=${2:-3}
shared=$(cd "${GPTOSS_SHARED_DIR:-$root/../shared}" && pwd)
work="$build/bench/tokenizer"
mkdir -p "$work"

if [ ! -f "$root/bench/node_modules/tiktoken/package.json" ]; then
  (cd "$root/bench" && npm ci --no-audit --no-fund --silent)
fi
cmake --build "$build" --target tokenizer_bench >/dev/null
if [ ! -f "$work/tokenizer.json" ]; then
  xz -dc "$shared/vocab/tokenizer.json.xz" >"$work/tokenizer.json.tmp" && mv "$work/tokenizer.json.tmp" "$work/tokenizer.json"
fi
node "$root/bench/make_tokenizer_corpus.mjs" "$shared" "$work/corpus.txt" >/dev/null

ours=$("$build/bench/tokenizer_bench" --corpus "$work/corpus.txt" --tiktoken "$shared/vocab/o200k_base.tiktoken" \
  --tokenizer-json "$work/tokenizer.json" --repeats "$repeats")
theirs=$(node "$root/bench/tiktoken_bench.mjs" "$work/corpus.txt" "$repeats")
echo "$ours"
echo "$theirs"
OURS="$ours" THEIRS="$theirs" node -e '
const a = JSON.parse(process.env.OURS), b = JSON.parse(process.env.THEIRS);
const row = (name, x, y, unit, higher) => console.log(
  `${name.padEnd(34)} ${String(x).padStart(9)} ${String(y).padStart(9)}  ${unit.padEnd(6)} ${(higher ? x / y : y / x).toFixed(1)}x`);
console.log(`\ncorpus ${(a.corpus_bytes / 1048576).toFixed(1)} MiB, ${a.num_ids} ids; ids identical: ${a.ids_fnv1a === b.ids_fnv1a}`);
console.log(`${"".padEnd(34)} ${"gptoss".padStart(9)} ${"tiktoken".padStart(9)}`);
row("encode, 1 thread (wall)", a.encode_mb_per_s_best, b.encode_mb_per_s_best, "MB/s", true);
row("encode, 1 thread (CPU time)", a.encode_mb_per_cpu_s_best, b.encode_mb_per_cpu_s_best, "MB/s", true);
row(`encode, parallel ${a.parallel_threads} threads (wall)`, a.parallel_mb_per_s_best, b.encode_mb_per_s_best, "MB/s", true);
row("load o200k_base.tiktoken", a.load_ms_tiktoken, b.load_ms, "ms", false);
row("load tokenizer.json", a.load_ms_tokenizer_json, b.load_ms, "ms", false);
if (a.ids_fnv1a !== b.ids_fnv1a || !a.parallel_identical) process.exit(1);
'
