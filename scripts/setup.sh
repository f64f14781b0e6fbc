#!/usr/bin/env bash
# Installs what gptoss needs, once: only missing packages, one apt-get update.
#   scripts/setup.sh          everything to build and test (Debian 12)
#   scripts/setup.sh build    only what building the server needs (also used by docker/Dockerfile*)
# The package names are the same on Debian 12 and Ubuntu 24.04 (the CUDA images' base, packages from universe).
# Node.js 20 and npm come with the machine image (Debian's nodejs is older; it is not installed here).
set -euo pipefail

profile=${1:-test}
build_packages=(
  build-essential cmake ninja-build pkg-config git xz-utils ca-certificates
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libpcre2-dev
)
test_packages=(
  libgtest-dev libgmock-dev libbenchmark-dev libyaml-cpp-dev
  clang libclang-rt-dev libomp-dev clang-format
  prometheus gnuplot-nox
)
case "$profile" in
  build) packages=("${build_packages[@]}") ;;
  test) packages=("${build_packages[@]}" "${test_packages[@]}") ;;
  *) echo "setup: unknown profile '$profile' (build | test)" >&2; exit 2 ;;
esac

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

if [ "$profile" = test ] && ! command -v node >/dev/null; then
  echo "setup: Node.js (20) is required for the end-to-end tests" >&2
  exit 1
fi
echo "setup: all $profile packages present"
