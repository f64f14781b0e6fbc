#!/usr/bin/env bash
# End-to-end tests: the real `gptoss serve` (and the scripted test server) driven by the official openai
# and @openai/agents npm packages. Needs a cpu build (scripts/build.sh cpu). Installs the pinned packages
# from tests/e2e/package-lock.json on first use (npm ci), then runs every tests/e2e/*.test.mjs.
#   scripts/e2e.sh                      # all
#   scripts/e2e.sh tests/e2e/chat.test.mjs
#   scripts/e2e.sh --install-only       # just the npm packages (bench/device_bundle.sh carries them)
set -euo pipefail
cd "$(dirname "$0")/.."
export GPTOSS_SHARED_DIR=${GPTOSS_SHARED_DIR:-$(cd .. && pwd)/shared}
export GPTOSS_BUILD_DIR=${GPTOSS_BUILD_DIR:-$PWD/build/cpu}
cd tests/e2e
# npm ci wipes node_modules; skip it while the installed tree matches the lock file.
if ! cmp -s package-lock.json node_modules/.gptoss-installed-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.gptoss-installed-lock
fi
[ "${1:-}" = "--install-only" ] && exit 0
for f in "$GPTOSS_BUILD_DIR/tools/gptoss" "$GPTOSS_BUILD_DIR/tests/server/gptoss_scripted_server"; do
  [ -x "$f" ] || { echo "e2e: $f is missing; build first (scripts/build.sh cpu)" >&2; exit 1; }
done
if [ "$#" -gt 0 ]; then
  files=()
  for f in "$@"; do files+=("${f#tests/e2e/}"); done
else
  files=(*.test.mjs)
fi
exec node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
