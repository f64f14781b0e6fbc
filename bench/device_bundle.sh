#!/usr/bin/env bash
# Prepares .device/ (git-ignored; name it in the device tool's `carry`) for bench/device_check.sh on the GPU
# machine: the cuda-preset build's test binaries and gptoss executable, the Debian-only shared libraries they
# need (the GPU machine runs Ubuntu and lacks them), and the fixtures from ../shared (which does not travel).
# usage: bench/device_bundle.sh        (builds the cuda preset first)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${GPTOSS_SHARED_DIR:-$(cd .. && pwd)/shared}
build=build/cuda
cmake --preset cuda -DGPTOSS_WERROR=ON >/dev/null
cmake --build "$build" -j2

rm -rf .device
mkdir -p .device/bin .device/lib .device/shared/fixtures
cp "$build"/tests/cuda/cuda_*_test .device/bin/
cp "$build"/tools/gptoss .device/bin/
# Shared libraries that exist here (Debian) but not there: everything outside glibc/libstdc++/CUDA.
for binary in .device/bin/*; do
  ldd "$binary" | awk '/=> \//{print $3}' |
    grep -Ev '/(libc|libm|libdl|librt|libpthread|libgcc_s|libstdc\+\+|libgomp|libcudart|libcublas|libcublasLt)\.so' |
    xargs -r -I{} cp -Lu {} .device/lib/
done
cp -r "$shared/fixtures/tiny-gptoss" .device/shared/fixtures/
cp "$shared/fixtures/toy-harmony.tar.xz" "$shared/fixtures/toy-harmony-requests.json" .device/shared/fixtures/
# The test binaries find the unpacked toy checkpoint at the build tree's compiled-in fixtures path.
echo "$(cd "$build" && pwd)/fixtures" > .device/fixtures_dir
# The numpy generator of synthetic checkpoints (Appendix B of the model notes), for full-width comparisons.
sed -n '/^# file: gen_synthetic_gptoss.py/,/^```/p' "$shared/docs/gpt-oss-model.md" | sed '$d' \
  > .device/gen_synthetic_gptoss.py
du -sh .device
