#!/usr/bin/env bash
# Short libFuzzer runs of every fuzz target (preset `fuzz`, clang): the CI phase. A fixed seed keeps a CI run
# reproducible; for the long local runs use the targets directly (tests/fuzz/CMakeLists.txt shows how).
#   scripts/fuzz_smoke.sh              # 20 s per target
#   GPTOSS_FUZZ_SECONDS=600 scripts/fuzz_smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export GPTOSS_SHARED_DIR=${GPTOSS_SHARED_DIR:-$(cd .. && pwd)/shared}
seconds=${GPTOSS_FUZZ_SECONDS:-20}
targets=(tokenizer_fuzz tokenizer_file_fuzz harmony_parser_fuzz request_fuzz responses_fuzz safetensors_fuzz http_framing_fuzz json_grammar_fuzz batch_line_fuzz)
cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target "${targets[@]}"
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
for target in "${targets[@]}"; do
  mkdir -p "$corpus/$target"
  log="$corpus/$target.log"
  if ! "build/fuzz/tests/fuzz/$target" -seed=1 -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
      -malloc_limit_mb=512 "$corpus/$target" >"$log" 2>&1; then
    tail -60 "$log"
    echo "fuzz smoke: $target found a failure (log above; the crashing input is in the working directory)" >&2
    exit 1
  fi
  echo "fuzz smoke: $target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log")"
done
