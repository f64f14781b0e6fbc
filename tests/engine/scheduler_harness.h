// Test support for the scheduler and KV tests (no model): a Scheduler over a small KvCacheManager, a fake
// runner that checks every step's KV addressing by content, and the standing invariant checks.
//
// KvMirror stands in for a runner's KV storage: each slot holds a fingerprint of the token prefix that ends
// at that position (what real K/V depend on). Each step it writes the new tokens' fingerprints through the
// slot mappings, then reads back every key each query may attend to through the block tables (all earlier
// positions for the full pool; the last `window` positions for the windowed pool) and checks they hold this
// sequence's own prefix. Wrong tables, a shared block overwritten, a windowed page released too early or a
// bad prefix-cache hit all show up as a mismatch. Sampled tokens are a pure function of (seed, output_index),
// like a seeded model, so a preempted and resumed sequence must produce the same tokens.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/batch_builder.h"
#include "engine/kv_cache_manager.h"
#include "engine/scheduler.h"

namespace gptoss::testing {

// The token the fake model samples for a sequence (identified by its seed) at output index i.
int32_t fake_token(uint64_t seed, int32_t output_index, int32_t vocab_size);

class KvMirror {
public:
    KvMirror(const KvCacheSpec& spec, int32_t vocab_size);
    // Checks inputs and KV addressing (failures are reported through gtest), writes K/V, samples.
    StepOutput execute(const BatchInputs& inputs);
    int32_t vocab_size() const { return vocab_size_; }
    // Replaces fake_token as the "model" (seed, output_index) -> token.
    std::function<int32_t(uint64_t seed, int32_t output_index)> token_fn;

private:
    void execute_sequence(const BatchInputs& inputs, int s, StepOutput& out);

    KvCacheSpec spec_;
    int32_t vocab_size_;
    std::vector<uint64_t>
        full_cells_;  // [num_full_blocks * B] prefix fingerprint per slot (0 = never written)
    std::vector<uint64_t> window_cells_;  // [num_window_blocks * B]
};

struct HarnessOptions {
    int block_size = 4;
    int num_full_blocks = 64;
    int num_window_blocks = 64;
    int sliding_window = 8;  // 0: no sliding layers
    bool enable_prefix_caching = true;
    int max_num_seqs = 8;
    int max_num_batched_tokens = 32;
    int max_model_len = 128;
    int32_t vocab_size = 1000;
};

struct Harness {
    explicit Harness(const HarnessOptions& options = {});

    // Adds a request (seed = id, so fake_token identifies it) and returns its sequence.
    std::shared_ptr<Sequence> add(RequestId id, std::vector<int32_t> prompt, int max_tokens,
                                  std::vector<int32_t> stop_token_ids = {}, int priority = 0);
    // One step: schedule, build inputs, run the mirror, update. Checks the invariants before returning.
    struct Step {
        ScheduledBatch batch;
        std::vector<SequenceOutput> outputs;
    };
    Step step();
    // Steps until nothing is left (fails the test after max_steps).
    void run_to_completion(int max_steps = 10000);
    // The standing invariant: ref counts, free queues, hash index and windowed bounds are consistent.
    void expect_consistent() const;
    // After a scenario: nothing live and every page free in both pools.
    void expect_all_free() const;

    HarnessOptions options;
    int peak_window_blocks_used = 0;  // highest windowed-pool usage seen during a step (after schedule())
    KvCacheManager kv;
    Scheduler scheduler;
    KvMirror mirror;
};

// Prompt of n tokens: `base + i` (distinct prompts for distinct bases).
std::vector<int32_t> make_prompt(int n, int32_t base = 1);

}  // namespace gptoss::testing
