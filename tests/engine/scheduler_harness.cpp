#include "tests/engine/scheduler_harness.h"

#include <algorithm>

#include "engine/sampler.h"

namespace gptoss::testing {
namespace {

KvCacheSpec spec_of(const HarnessOptions& o) {
    return KvCacheSpec{o.block_size, o.num_full_blocks, o.num_window_blocks,
                       true,         o.sliding_window,  o.enable_prefix_caching};
}

uint64_t extend_fingerprint(uint64_t prefix, int32_t token) {
    return splitmix64(prefix ^ (uint64_t(uint32_t(token)) << 1) ^ 0x5eedull) | 1;  // never 0
}

}  // namespace

int32_t fake_token(uint64_t seed, int32_t output_index, int32_t vocab_size) {
    return static_cast<int32_t>(splitmix64(seed * 1000003ull + uint64_t(output_index)) %
                                uint64_t(vocab_size));
}

KvMirror::KvMirror(const KvCacheSpec& spec, int32_t vocab_size)
    : spec_(spec),
      vocab_size_(vocab_size),
      full_cells_(size_t(spec.num_full_blocks) * size_t(spec.block_size), 0),
      window_cells_(size_t(spec.num_window_blocks) * size_t(spec.block_size), 0) {}

StepOutput KvMirror::execute(const BatchInputs& in) {
    StepOutput out;
    out.sampled_tokens.assign(size_t(in.num_sampled_rows()), -1);
    EXPECT_EQ(in.query_start.size(), size_t(in.num_seqs) + 1);
    EXPECT_EQ(in.query_start.back(), in.num_tokens);
    EXPECT_EQ(in.token_ids.size(), size_t(in.num_tokens));
    for (int s = 0; s < in.num_seqs; ++s) execute_sequence(in, s, out);
    return out;
}

void KvMirror::execute_sequence(const BatchInputs& in, int s, StepOutput& out) {
    const int B = spec_.block_size, W = spec_.sliding_window;
    const SequenceSampling& sampling = in.sampling[size_t(s)];
    std::vector<int32_t> tokens(sampling.prompt_tokens.begin(), sampling.prompt_tokens.end());
    tokens.insert(tokens.end(), sampling.output_tokens.begin(), sampling.output_tokens.end());
    const int q0 = in.query_start[size_t(s)], q1 = in.query_start[size_t(s) + 1];
    const int ctx = in.context_lens[size_t(s)];
    const int first_pos = ctx - (q1 - q0);
    // Draft tokens follow the known ones: the step's own tokens are the only record of them.
    const int num_known = static_cast<int>(tokens.size());
    for (int p = num_known; p < ctx; ++p) tokens.push_back(in.token_ids[size_t(q0 + p - first_pos)]);
    const int num_drafts = ctx - num_known;
    ASSERT_LE(num_drafts, std::max(0, in.num_sampled(s) - 1))
        << "tokens past the known ones that are not drafts";
    std::vector<uint64_t> fp(static_cast<size_t>(ctx));  // fp[p] = fingerprint of tokens[0..p]
    uint64_t h = 0;
    for (int p = 0; p < ctx; ++p) fp[size_t(p)] = h = extend_fingerprint(h, tokens[size_t(p)]);

    const int32_t* full_row = in.full_block_table.data() + size_t(s) * size_t(in.full_table_stride);
    const int32_t* window_row = in.window_block_table.data() + size_t(s) * size_t(in.window_table_stride);
    const int window_first = in.window_first_block[size_t(s)];
    auto window_block = [&](int b) {
        const int i = b - window_first;
        return i >= 0 && i < in.window_table_stride ? window_row[i] : kNoBlock;
    };
    // Write this step's K/V.
    for (int t = q0; t < q1; ++t) {
        const int p = first_pos + (t - q0);
        ASSERT_EQ(in.positions[size_t(t)], p);
        ASSERT_EQ(in.token_ids[size_t(t)], tokens[size_t(p)]);
        const int32_t fb = full_row[p / B];
        ASSERT_GE(fb, 0) << "no full block for position " << p;
        ASSERT_EQ(in.full_slot_mapping[size_t(t)], int64_t(fb) * B + p % B);
        full_cells_[size_t(in.full_slot_mapping[size_t(t)])] = fp[size_t(p)];
        if (W > 0) {
            const int32_t wb = window_block(p / B);
            ASSERT_GE(wb, 0) << "no windowed block for position " << p;
            ASSERT_EQ(in.window_slot_mapping[size_t(t)], int64_t(wb) * B + p % B);
            window_cells_[size_t(in.window_slot_mapping[size_t(t)])] = fp[size_t(p)];
        }
    }
    // Read every key a query of this chunk can see.
    for (int p = 0; p < ctx; ++p) {
        const int32_t fb = full_row[p / B];
        ASSERT_GE(fb, 0);
        ASSERT_EQ(full_cells_[size_t(fb) * B + p % B], fp[size_t(p)]) << "full pool, position " << p;
    }
    if (W > 0) {
        ASSERT_LE(window_first, std::max(0, first_pos - W + 1) / B) << "windowed table starts too late";
        for (int p = std::max(0, first_pos - W + 1); p < ctx; ++p) {
            const int32_t wb = window_block(p / B);
            ASSERT_GE(wb, 0) << "windowed block missing for key position " << p;
            ASSERT_EQ(window_cells_[size_t(wb) * B + p % B], fp[size_t(p)])
                << "windowed pool, position " << p;
        }
    }
    for (int j = 0; j < in.num_sampled(s); ++j) {
        EXPECT_EQ(in.num_sampled(s), 1 + num_drafts);
        const int r = in.sample_start[size_t(s)] + j;
        const int32_t index = in.row_output_index(r);
        out.sampled_tokens[size_t(r)] = token_fn ? token_fn(sampling.params->seed, index)
                                                 : fake_token(sampling.params->seed, index, vocab_size_);
    }
}

Harness::Harness(const HarnessOptions& o)
    : options(o),
      kv(spec_of(o)),
      scheduler(SchedulerConfig{o.max_num_seqs, o.max_num_batched_tokens, o.max_model_len}, kv),
      mirror(spec_of(o), o.vocab_size) {}

std::shared_ptr<Sequence> Harness::add(RequestId id, std::vector<int32_t> prompt, int max_tokens,
                                       std::vector<int32_t> stop_token_ids, int priority) {
    Request r;
    r.id = id;
    r.priority = priority;
    r.prompt_token_ids = std::move(prompt);
    r.sampling.seed = id;
    r.stop.max_tokens = max_tokens;
    r.stop.stop_token_ids = std::move(stop_token_ids);
    auto seq = std::make_shared<Sequence>(std::move(r), id);
    scheduler.add(seq);
    return seq;
}

Harness::Step Harness::step() {
    Step result;
    result.batch = scheduler.schedule();
    EXPECT_LE(result.batch.num_tokens, options.max_num_batched_tokens);
    EXPECT_LE(static_cast<int>(result.batch.entries.size()), options.max_num_seqs);
    int sum = 0;
    for (const auto& e : result.batch.entries) {
        EXPECT_GT(e.num_new_tokens, 0);
        sum += e.num_new_tokens;
        EXPECT_LE(e.seq->blocks.num_window_held(), kv.max_window_blocks_per_sequence(e.num_new_tokens));
    }
    EXPECT_EQ(sum, result.batch.num_tokens);
    peak_window_blocks_used = std::max(peak_window_blocks_used, kv.usage().num_window_blocks_used);
    expect_consistent();
    const BatchInputs inputs = build_batch_inputs(result.batch, options.block_size);
    const StepOutput output = mirror.execute(inputs);
    result.outputs = scheduler.update(result.batch, output);
    expect_consistent();
    return result;
}

void Harness::run_to_completion(int max_steps) {
    for (int i = 0; i < max_steps && scheduler.has_unfinished(); ++i) step();
    EXPECT_FALSE(scheduler.has_unfinished()) << "requests left after " << max_steps << " steps";
}

void Harness::expect_consistent() const {
    const std::string problem = scheduler.verify();
    EXPECT_TRUE(problem.empty()) << problem;
}

void Harness::expect_all_free() const {
    expect_consistent();
    EXPECT_FALSE(scheduler.has_unfinished());
    const KvUsage u = kv.usage();
    EXPECT_EQ(u.num_full_blocks_used, 0);
    EXPECT_EQ(u.num_window_blocks_used, 0);
}

std::vector<int32_t> make_prompt(int n, int32_t base) {
    std::vector<int32_t> prompt(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) prompt[size_t(i)] = base + i;
    return prompt;
}

}  // namespace gptoss::testing
