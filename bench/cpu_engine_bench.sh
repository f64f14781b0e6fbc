#!/usr/bin/env bash
# CPU engine benchmark on the full-size synthetic gpt-oss-20b: writes the checkpoint with `gptoss make-checkpoint`
# (13.8 GB; skipped with a message when the disk is short), runs build/cpu/bench/cpu_engine_bench on it, and
# removes the checkpoint afterwards unless it was already there or GPTOSS_BENCH_KEEP=1.
#   usage: bench/cpu_engine_bench.sh [cpu_engine_bench flags, e.g. --threads 2 --prompt-tokens 256]
#   env:   GPTOSS_BENCH_DIR (default $TMPDIR/gptoss-bench-20b), BUILD_DIR (default build/cpu)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build/cpu}
dir=${GPTOSS_BENCH_DIR:-${TMPDIR:-/tmp}/gptoss-bench-20b}
need_bytes=14500000000  # 13.76 GB of tensors + headers, with a margin

for exe in "$build/tools/gptoss" "$build/bench/cpu_engine_bench"; do
  [ -x "$exe" ] || { echo "cpu engine bench: $exe is missing; build first (cmake --build $build)" >&2; exit 1; }
done

created=0
if [ ! -f "$dir/model.safetensors.index.json" ]; then
  mkdir -p "$(dirname "$dir")"
  avail=$(df -B1 --output=avail "$(dirname "$dir")" | tail -1 | tr -d ' ')
  if [ "$avail" -lt "$need_bytes" ]; then
    echo "cpu engine bench: skipped: the full-size checkpoint needs 14.5 GB free in $(dirname "$dir"), only" \
         "$((avail / 1000000000)) GB available (set GPTOSS_BENCH_DIR to a roomier place)"
    exit 0
  fi
  echo "writing the synthetic gpt-oss-20b checkpoint to $dir"
  SECONDS=0
  "$build/tools/gptoss" make-checkpoint --preset gpt-oss-20b --seed 1 --out "$dir"
  echo "make-checkpoint: $(du -sb "$dir" | cut -f1) bytes in ${SECONDS} s"
  created=1
fi
mem_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
if [ "$mem_kb" -lt 15000000 ]; then
  echo "note: only $((mem_kb / 1000000)) GB of memory available; the 13.8 GB of weights may not stay in the page" \
       "cache, and decode would then run at disk speed"
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2 / 1000000)}' /proc/meminfo) GB, load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
"$build/bench/cpu_engine_bench" --model "$dir" "$@" || status=$?
if [ "$created" = 1 ] && [ "${GPTOSS_BENCH_KEEP:-0}" != 1 ]; then rm -rf "$dir"; fi
exit "$status"
