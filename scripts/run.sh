#!/usr/bin/env bash
# Sets up, builds and starts the server on port 8000. With no --model it serves the bundled demo model
# (toy-harmony, a small trained gpt-oss). Every argument is passed to `gptoss serve`.
#   scripts/run.sh                      # demo model, CPU
#   scripts/run.sh --model /models/gpt-oss-20b --backend cuda
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
preset=cpu
if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then preset=cuda; fi
fi
# Only the gptoss executable: serving needs no test or benchmark target (scripts/test.sh builds those; the
# presets turn them back on for every other configure of this build folder).
cmake --preset "$preset" -DGPTOSS_TESTS=OFF -DGPTOSS_BENCH=OFF >/dev/null
cmake --build --preset "$preset" --target gptoss
exec "build/$preset/tools/gptoss" serve "$@"
