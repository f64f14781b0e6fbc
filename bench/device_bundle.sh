#!/usr/bin/env bash
# Prepares a bundle for the GPU machine: the cuda-preset build's test binaries and gptoss executable, the
# Debian-only shared libraries they need (the GPU machine runs Ubuntu and lacks them), the fixtures from
# ../shared (which does not travel) and bench/device_check.sh. DEST must be a git-ignored folder of the checkout
# the device tool sends (name it in `carry`); there, run DEST/device_check.sh PHASE...
# usage: bench/device_bundle.sh [DEST]      (default .device; builds the cuda preset first)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${GPTOSS_SHARED_DIR:-$(cd .. && pwd)/shared}
build=build/cuda
cmake --preset cuda -DGPTOSS_WERROR=ON >/dev/null
cmake --build "$build" -j2 --target gptoss \
  $(sed -n 's/^set(GPTOSS_CUDA_KERNEL_TESTS \(.*\))$/\1/p' tests/cuda/CMakeLists.txt | sed 's/\([a-z_0-9]*\)/cuda_\1_test/g') \
  cuda_runner_test gptoss_scripted_server

dest=${1:-.device}
rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/lib" "$dest/shared/fixtures"
cp bench/device_check.sh bench/check_cli.py "$dest/"
cp "$build"/tests/cuda/cuda_*_test "$dest/bin/"
cp "$build"/tools/gptoss "$build"/tests/server/gptoss_scripted_server "$dest/bin/"
strip --strip-unneeded "$dest"/bin/*  # symbols are not needed there, and the call carries at most 64 MiB
# Shared libraries that exist here (Debian) but not there: everything outside glibc/libstdc++/CUDA.
for binary in "$dest"/bin/*; do
  ldd "$binary" | awk '/=> \//{print $3}' |
    grep -Ev '/(libc|libm|libdl|librt|libpthread|libgcc_s|libstdc\+\+|libgomp|libcudart|libcublas|libcublasLt)\.so' |
    xargs -r -I{} cp -Lu {} "$dest/lib/"
done
cp -r "$shared/fixtures/tiny-gptoss" "$dest/shared/fixtures/"
# The packed toy model travels once, as the checkout's tests/data/toy-harmony.tar.xz (device_check.sh reads it
# there): a second copy here would push a call past the device tool's 64 MiB.
cp "$shared/fixtures/toy-harmony-requests.json" "$dest/shared/fixtures/"
# The test binaries find the unpacked toy checkpoint at the build tree's compiled-in fixtures path.
echo "$(cd "$build" && pwd)/fixtures" > "$dest/fixtures_dir"
# The chat e2e suites for `--backend cuda`: the GPU machine has no Node.js, so this machine's (a static
# build: glibc only) travels xz-packed with the pinned openai package the suites import.
mkdir -p "$dest/e2e"
cp -r tests/e2e/support tests/e2e/*.test.mjs tests/e2e/scripts.json tests/e2e/package.json "$dest/e2e/"
[ -d tests/e2e/node_modules/openai ] || scripts/e2e.sh --install-only
tar -cJf "$dest/e2e/openai.tar.xz" -C tests/e2e node_modules/openai
node_cache=${GPTOSS_DEVICE_CACHE:-$HOME/.cache/gptoss-device}/node-$(node --version).xz
if [ ! -f "$node_cache" ]; then
  mkdir -p "$(dirname "$node_cache")"
  xz -T0 -6 -c "$(command -v node)" > "$node_cache.tmp" && mv "$node_cache.tmp" "$node_cache"
fi
cp "$node_cache" "$dest/e2e/node.xz"
# The numpy generator of synthetic checkpoints (Appendix B of the model notes), for full-width comparisons.
sed -n '/^# file: gen_synthetic_gptoss.py/,/^```/p' "$shared/docs/gpt-oss-model.md" | sed '$d' \
  > "$dest/gen_synthetic_gptoss.py"
# The executables and libraries travel xz-packed (device_check.sh unpacks them): with node and the fixtures the
# bundle would otherwise pass the device tool's 64 MiB.
tar -cf - -C "$dest" bin lib | xz -T2 -6 > "$dest/bin.tar.xz"
rm -rf "$dest/bin" "$dest/lib"
du -sh "$dest"
