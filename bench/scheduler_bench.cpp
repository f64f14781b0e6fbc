// Host cost of one engine step outside the model: schedule() + build_batch_inputs() + update(), with the
// gpt-oss-20b shape of the KV cache (block 16, window 128) and the default limits (256 sequences, 8192
// tokens). This runs on the engine thread between GPU steps, so it must stay far below a decode step
// (~10 ms at batch 256 on an H200).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "engine/batch_builder.h"
#include "engine/kv_cache_manager.h"
#include "engine/kv_cache_sizing.h"
#include "engine/scheduler.h"

namespace gptoss {
namespace {

constexpr int kBlock = 16, kWindow = 128, kSeqs = 256, kBudget = 8192;

struct Bench {
    explicit Bench(int num_full_blocks)
        : kv(KvCacheSpec{kBlock, num_full_blocks, window_pool_bound(kWindow, kBlock, kSeqs, kBudget, 131072),
                         true, kWindow, true}),
          scheduler(SchedulerConfig{kSeqs, kBudget, 131072}, kv) {}

    void add(RequestId id, int prompt_len, int max_tokens) {
        Request r;
        r.id = id;
        for (int i = 0; i < prompt_len; ++i) r.prompt_token_ids.push_back(int32_t((id * 131 + i) % 200000));
        r.stop.max_tokens = max_tokens;
        scheduler.add(std::make_shared<Sequence>(std::move(r), id));
    }
    // One step; returns the number of tokens it scheduled.
    int step() {
        const ScheduledBatch batch = scheduler.schedule();
        const BatchInputs inputs = build_batch_inputs(batch, kBlock);
        StepOutput out;
        out.sampled_tokens.assign(size_t(inputs.num_sampled_rows()), 7);
        benchmark::DoNotOptimize(scheduler.update(batch, out));
        return batch.num_tokens;
    }

    KvCacheManager kv;
    Scheduler scheduler;
};

// 256 sequences decoding at 2k tokens of context.
void BM_DecodeStep(benchmark::State& state) {
    Bench b(kSeqs * (2048 + 4096) / kBlock);
    for (RequestId id = 1; id <= kSeqs; ++id) b.add(id, 2048, 1 << 20);
    while (b.scheduler.kv().usage().num_full_blocks_used < kSeqs * 2048 / kBlock) b.step();  // prefill
    for (auto _ : state) b.step();
    state.counters["seqs"] = kSeqs;
}
BENCHMARK(BM_DecodeStep)->Iterations(2000)->Unit(benchmark::kMicrosecond);

// Requests of 1k prompt tokens and 128 output tokens arriving continuously: decodes plus prefill chunks
// filling the 8192-token budget, with prefix-cache lookups, block registration and window releases.
void BM_MixedStep(benchmark::State& state) {
    Bench b(kSeqs * 2048 / kBlock);
    RequestId next = 1;
    int64_t tokens = 0;
    for (auto _ : state) {
        while (b.scheduler.num_waiting() < 16) b.add(next++, 1024, 128);
        tokens += b.step();
    }
    state.counters["tokens_per_step"] = benchmark::Counter(double(tokens) / double(state.iterations()));
}
BENCHMARK(BM_MixedStep)->Iterations(2000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace gptoss

BENCHMARK_MAIN();
