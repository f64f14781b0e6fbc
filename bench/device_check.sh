#!/usr/bin/env bash
# Runs on the GPU machine (the device tool) over a carried bundle (bench/device_bundle.sh .device makes it and copies
# this script into it; run DEST/device_check.sh there):
# the CUDA tests, sanitizers, CUDA-vs-CPU comparisons on full-width synthetic checkpoints, the CLI on the
# fixtures, a streamed chat completion from `gptoss serve`, and the engine benchmark. Prints a summary table
# last; full logs go to $OUT/logs.tar.gz.
# usage: [BUDGET=seconds] bench/device_check.sh PHASE...
#        phases: tests sanitize compare2 compare24 cli serve e2e bench bench1k spec golden120b profile
# Steps that would start after BUDGET seconds (default 540) are skipped, and each step's limit is cut to the
# time left, so the summary and logs always come back inside the device tool's 10-minute limit.
set -uo pipefail
dev=$(cd "$(dirname "$0")" && pwd)  # the bundle: bin/, lib/, shared/, fixtures_dir
out=${OUT:-/tmp/gptoss-device-out}
logs=$(mktemp -d)
mkdir -p "$out"
export LD_LIBRARY_PATH=$dev/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}
export GPTOSS_SHARED_DIR=$dev/shared
export PATH=/usr/local/cuda/bin:$PATH
bin=$dev/bin
work=/tmp/gptoss-work
mkdir -p "$work"

summary=()
deadline=$(( $(date +%s) + ${BUDGET:-540} ))
# step NAME TIMEOUT COMMAND...: runs a command with a time limit, logs it, records status and seconds.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$(( deadline - $(date +%s) ))
  if [ "$left" -lt 10 ]; then
    summary+=("$(printf '%-28s %-10s' "$name" "SKIPPED(budget)")")
    return 1
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  local start=$(date +%s%N)
  timeout "$limit" "$@" >"$logs/$name.log" 2>&1
  local rc=$?
  local secs=$(( ($(date +%s%N) - start) / 1000000 ))
  secs=$(printf '%d.%03d' $((secs / 1000)) $((secs % 1000)))
  local status=ok
  [ $rc -ne 0 ] && status="FAIL($rc)"
  [ $rc -eq 124 ] && status=TIMEOUT
  local tests=""
  if grep -q '^\[==========\]' "$logs/$name.log"; then
    tests="$(grep -c '^\[       OK \]' "$logs/$name.log") ok, $(grep -c '^\[  FAILED  \].*(' "$logs/$name.log") failed, $(grep -c '^\[  SKIPPED \].*(' "$logs/$name.log") skipped"
  fi
  summary+=("$(printf '%-28s %-10s %8ss  %s' "$name" "$status" "$secs" "$tests")")
  echo "== $name: $status (${secs}s) $tests"
  return $rc
}

setup() {
  [ -f "$dev/bin.tar.xz" ] && xz -dc "$dev/bin.tar.xz" | tar -xf - -C "$dev" && rm -f "$dev/bin.tar.xz"
  mkdir -p "$(cat "$dev/fixtures_dir")"
  tar -xJf "$dev/../tests/data/toy-harmony.tar.xz" -C "$(cat "$dev/fixtures_dir")"
  nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem,driver_version --format=csv >"$logs/gpu.log" 2>&1
  cat "$logs/gpu.log"
}

phase_tests() {
  for t in "$bin"/cuda_*_test; do
    step "$(basename "$t")" 150 "$t" --gtest_color=no  # a hung kernel must not eat the whole call
  done
}

phase_sanitize() {
  local cs="compute-sanitizer --error-exitcode 9 --print-limit 20"
  step memcheck_rmsnorm 300 $cs --tool memcheck "$bin/cuda_rmsnorm_test"
  step memcheck_kernels_small 600 $cs --tool memcheck "$bin/cuda_embedding_test"
  step memcheck_rope_kv 300 $cs --tool memcheck "$bin/cuda_rope_test"
  step memcheck_router 300 $cs --tool memcheck "$bin/cuda_moe_router_test"
  step memcheck_gemm 300 $cs --tool memcheck "$bin/cuda_gemm_test" --gtest_filter=-*/4
  step memcheck_attention 600 $cs --tool memcheck "$bin/cuda_attention_test"
  step memcheck_moe 600 $cs --tool memcheck "$bin/cuda_moe_test"
  step memcheck_sampling 600 $cs --tool memcheck "$bin/cuda_sampling_test"
  step memcheck_runner 600 $cs --tool memcheck "$bin/cuda_runner_test" --gtest_filter=*Tiny*:*Toy*
  step racecheck_attention 600 $cs --tool racecheck "$bin/cuda_attention_test" \
    --gtest_filter=*tiny_window16*:*toy_gqa2*:*head_dim128*
  step racecheck_moe 600 $cs --tool racecheck "$bin/cuda_moe_test" --gtest_filter=*tiny*:*toy*
  step racecheck_sampling 600 $cs --tool racecheck "$bin/cuda_sampling_test" --gtest_filter=*Small*
  step racecheck_rmsnorm 300 $cs --tool racecheck "$bin/cuda_rmsnorm_test" --gtest_filter=*/3:*/4
}

# make_checkpoint DIR LAYERS: a full-width synthetic gpt-oss-20b checkpoint on local disk (once).
make_checkpoint() {
  [ -f "$1/config.json" ] && return 0
  local cmd="python3 $dev/gen_synthetic_gptoss.py $1 --size full --layers $2"
  if "$bin/gptoss" make-checkpoint --help >/dev/null 2>&1; then
    cmd="$bin/gptoss make-checkpoint --preset gpt-oss-20b --layers $2 --out $1"
  fi
  step "make_checkpoint_$2layers" 600 sh -c "$cmd"
}

compare_on() {
  export GPTOSS_CUDA_COMPARE_CHECKPOINT=$1
  step "$2" 600 "$bin/cuda_runner_test" --gtest_filter=*CheckpointFromEnvironment*
  unset GPTOSS_CUDA_COMPARE_CHECKPOINT
}

phase_compare2() {
  make_checkpoint "$work/full2" 2
  compare_on "$work/full2" compare_full_width_2layers
}

phase_compare24() {
  make_checkpoint "$work/full24" 24
  compare_on "$work/full24" compare_full_width_24layers
}

phase_cli() {
  local tiny=$dev/shared/fixtures/tiny-gptoss toy="$(cat "$dev/fixtures_dir")/toy-harmony"
  step score_tiny_cuda 300 python3 "$dev/check_cli.py" score "$bin/gptoss" "$tiny" cuda
  step generate_toy_cuda 300 python3 "$dev/check_cli.py" generate "$bin/gptoss" "$toy" cuda
}

phase_serve() {
  make_checkpoint "$work/full24" 24
  # The synthetic checkpoint has no tokenizer: borrow the real o200k_harmony one from the toy checkpoint.
  local toy="$(cat "$dev/fixtures_dir")/toy-harmony"
  cp "$toy/tokenizer.json" "$toy/tokenizer_config.json" "$work/full24/"
  "$bin/gptoss" serve --backend cuda --model "$work/full24" --port 8311 --served-model-name gpt-oss-20b \
    >"$logs/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 240); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8311/health', timeout=2)" \
      2>/dev/null && break
    sleep 1
  done
  step serve_stream_chat 300 python3 "$dev/check_cli.py" chat http://127.0.0.1:8311 gpt-oss-20b
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

# The chat e2e suites (official openai SDK on the carried Node.js) against `gptoss serve --backend cuda` on the
# toy model: the 60 golden chat requests, the chat API suite, greedy completions and 64 concurrent streams.
phase_e2e() {
  local e2e=$work/e2e build=$work/e2e-build
  rm -rf "$e2e" "$build"
  mkdir -p "$e2e" "$build/tools" "$build/tests/server"
  cp -r "$dev/e2e/." "$e2e/"
  tar -xJf "$e2e/openai.tar.xz" -C "$e2e"
  xz -dc "$e2e/node.xz" > "$e2e/node" && chmod +x "$e2e/node"
  ln -s "$bin/gptoss" "$build/tools/gptoss"
  ln -s "$bin/gptoss_scripted_server" "$build/tests/server/gptoss_scripted_server"
  ln -s "$(cat "$dev/fixtures_dir")" "$build/fixtures"
  step e2e_cuda 600 env GPTOSS_BUILD_DIR="$build" GPTOSS_E2E_BACKEND=cuda sh -c "cd $e2e && ./node --test \
    --test-concurrency=1 --test-reporter=spec requests.test.mjs chat.test.mjs completions.test.mjs streams.test.mjs \
    responses.test.mjs"
  grep -E '^ℹ (tests|pass|fail) ' "$logs/e2e_cuda.log" | sed 's/^ℹ /[ e2e cuda ] /' > "$logs/e2e_cuda_summary.log"
}

# Per-kernel GPU time of batch-1 decode steps (a 1-token prompt, 8 tokens) under Nsight Compute.
phase_profile() {
  make_checkpoint "$work/full24" 24
  step profile_decode 300 ncu --clock-control none --metrics gpu__time_duration.sum --csv \
    --log-file "$logs/ncu.csv" "$bin/gptoss" generate --backend cuda --model "$work/full24" --ids 1000 \
    --max-tokens 8 --ignore-eos
  step profile_summary 60 python3 "$dev/check_cli.py" ncu "$logs/ncu.csv"
}

phase_bench() {
  make_checkpoint "$work/full24" 24
  step bench_engine 600 "$bin/gptoss" bench engine --backend cuda --model "$work/full24"
}

# Decode at 1k context for the small batches (issue 12's acceptance point), then the same with CUDA graphs off.
phase_bench1k() {
  make_checkpoint "$work/full24" 24
  step bench_engine_1k 300 "$bin/gptoss" bench engine --backend cuda --model "$work/full24" \
    --batch-sizes 1,2,4,8,16,64 --prompt-tokens 1024 --prefill-lengths 1024 --long-context 0
  step bench_engine_eager 300 "$bin/gptoss" bench engine --backend cuda --model "$work/full24" --enforce-eager \
    --batch-sizes 1,8 --prompt-tokens 1024 --prefill-lengths 1024 --long-context 0
}

# Speculative decoding at batch 1, 1k context: drafts that are all accepted / all rejected (a replayed draft
# source), k = 1, 2, 4, 8 against k = 0 in the same process.
phase_spec() {
  make_checkpoint "$work/full24" 24
  step bench_engine_spec 300 "$bin/gptoss" bench engine --backend cuda --model "$work/full24" --batch-sizes 1 \
    --prefill-lengths 1024 --long-context 0 --prompt-tokens 1024 --decode-tokens 64 --spec-tokens 1,2,4,8
}

# Golden logits for tests/engine/golden_120b_test.cpp from transformers (the GPU machine has torch); they come
# back under $OUT/tiny-120b to be committed as tests/data/tiny-120b/.
phase_golden120b() {
  step golden_120b 300 env PYTHONUNBUFFERED=1 python3 "$dev/../tests/data-gen/make_golden_120b.py" \
    --gptoss "$bin/gptoss" --out "$out/tiny-120b"
}

setup
for phase in "$@"; do
  "phase_$phase"
done

echo
echo "==================== summary ===================="
cat "$logs/gpu.log"
printf '%s\n' "${summary[@]}" | tee "$out/summary.txt"
echo "---- key figures ----"
grep -h '^\[ \(attention\|moe\|tiny\|toy\|checkpoint\|score\|generate\|serve\|profile\|e2e\)' "$logs"/*.log | tee -a "$out/summary.txt"
for b in bench_engine bench_engine_1k bench_engine_eager bench_engine_spec; do
  grep -h -A40 '^== bench' "$logs/$b.log" 2>/dev/null | tee -a "$out/summary.txt"
done
grep -h 'ERROR SUMMARY\|RACECHECK SUMMARY' "$logs"/*check*.log 2>/dev/null | sort | uniq -c | tee -a "$out/summary.txt"
tar -czf "$out/logs.tar.gz" -C "$logs" .
