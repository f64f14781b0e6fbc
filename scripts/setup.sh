#!/usr/bin/env bash
# Installs what gptoss needs to build and test on Debian 12, once: only missing packages, one apt-get update.
# Node.js 20 and npm come with the machine image (Debian's nodejs is older; it is not installed here).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git xz-utils ca-certificates
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libpcre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev libyaml-cpp-dev
  clang libclang-rt-14-dev libomp-dev clang-format
  prometheus
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v node >/dev/null || { echo "setup: Node.js (20) is required for the end-to-end tests" >&2; exit 1; }
echo "setup: all packages present"
