#!/usr/bin/env bash
# Sets up, builds and runs every test: what CI runs (.ci/run), and what a developer runs before pushing.
# Phases (each timed): install, format, cpu build (-Werror), unit tests, e2e, fuzz smoke, cuda compile.
set -euo pipefail
cd "$(dirname "$0")/.."
export GPTOSS_SHARED_DIR=${GPTOSS_SHARED_DIR:-$(cd .. && pwd)/shared}
jobs=$(nproc)

phase_start=0
phase() { phase_start=$(date +%s); echo; echo "=== $1"; }
phase_end() { echo "=== $1: $(( $(date +%s) - phase_start ))s"; }
total_start=$(date +%s)

phase install;      scripts/setup.sh;                                    phase_end install
phase format;       scripts/check_format.sh;                             phase_end format
phase "cpu build";  scripts/build.sh cpu -DGPTOSS_WERROR=ON;             phase_end "cpu build"
phase "unit tests"; ctest --preset cpu -j "$jobs" --timeout 900;         phase_end "unit tests"
phase e2e;          scripts/e2e.sh;                                      phase_end e2e
phase "fuzz smoke"; scripts/fuzz_smoke.sh;                               phase_end "fuzz smoke"
if [ -x /usr/local/cuda/bin/nvcc ] || command -v nvcc >/dev/null; then
  phase "cuda compile"; scripts/build.sh cuda -DGPTOSS_WERROR=ON;        phase_end "cuda compile"
else
  echo "=== cuda compile: skipped (no nvcc on this machine)"
fi

echo
echo "=== all tests passed in $(( $(date +%s) - total_start ))s"
