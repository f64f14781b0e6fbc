#!/usr/bin/env bash
# Configures and builds one preset (default: cpu). Usage: scripts/build.sh [cpu|cuda|asan|fuzz] [cmake -D...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-cpu}
shift || true
cmake --preset "$preset" "$@" >/dev/null
cmake --build --preset "$preset"
