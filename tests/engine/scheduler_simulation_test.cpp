// Randomized simulation: 10,000 requests with random prompt lengths (many sharing prefixes), output
// lengths, stop tokens, arrival times and aborts, through a Scheduler whose full pool is small enough to
// force preemption. Every step is checked by the KvMirror (KV addressing by content) and the invariant
// checks; at the end every non-aborted request must have finished with exactly the tokens the fake model
// produces, no page may be held, and the windowed pool must never have exceeded the sizing bound.
#include <algorithm>
#include <map>
#include <random>
#include <unordered_map>

#include <gtest/gtest.h>

#include "engine/kv_cache_sizing.h"
#include "tests/engine/scheduler_harness.h"

namespace gptoss::testing {
namespace {

struct SimulationParams {
    int num_requests = 10000;
    bool enable_prefix_caching = true;
    uint64_t seed = 1;
    // Decoding sequences carry up to 6 draft tokens half the time: the fake model's own next tokens for a
    // random prefix of them, then random ones, so drafts are accepted, partly accepted and rejected.
    bool speculate = false;
};

struct Tracked {
    std::shared_ptr<Sequence> seq;
    bool aborted = false;
    int arrival_step = 0;
    int abort_step = -1;            // when the client goes away (-1: never)
    std::vector<int32_t> expected;  // the fake model's tokens up to the first stop token or max_tokens
};

void simulate(const SimulationParams& p) {
    HarnessOptions o;
    o.block_size = 8;
    o.sliding_window = 24;
    o.max_num_seqs = 12;
    o.max_num_batched_tokens = 64;
    o.max_model_len = 256;
    o.num_full_blocks = 80;  // 640 tokens: about 5 average requests at once; preemption is common
    // The windowed pool gets 50% more than the sizing bound, so exceeding the bound would be visible.
    const int window_bound = window_pool_bound(o.sliding_window, o.block_size, o.max_num_seqs,
                                               o.max_num_batched_tokens, o.max_model_len);
    o.num_window_blocks = window_bound * 3 / 2;
    o.enable_prefix_caching = p.enable_prefix_caching;
    o.vocab_size = 97;
    Harness h(o);

    std::mt19937_64 rng(p.seed);
    auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    std::vector<std::vector<int32_t>> system_prompts;
    for (int i = 0; i < 4; ++i) {
        std::vector<int32_t> prefix;
        for (int n = uniform(8, 100); n > 0; --n) prefix.push_back(uniform(0, o.vocab_size - 1));
        system_prompts.push_back(prefix);
    }

    std::unordered_map<RequestId, Tracked> tracked;
    std::multimap<int, RequestId> aborts_due;  // step -> request
    RequestId next_id = 1;
    int step = 0, num_aborted = 0, longest_wait = 0;
    while (next_id <= RequestId(p.num_requests) || h.scheduler.has_unfinished()) {
        // Arrivals: bursts now and then, about as fast as the small KV cache serves them on average, so the
        // queue both builds up and drains.
        const int arrivals = uniform(0, 99) < 7 ? uniform(1, 3) : 0;
        for (int i = 0; i < arrivals && next_id <= RequestId(p.num_requests); ++i) {
            std::vector<int32_t> prompt;
            if (uniform(0, 1) == 0) prompt = system_prompts[size_t(uniform(0, 3))];
            for (int n = uniform(1, 120); n > 0; --n) prompt.push_back(uniform(0, o.vocab_size - 1));
            const int max_tokens =
                uniform(1, std::min(80, o.max_model_len - static_cast<int>(prompt.size())));
            std::vector<int32_t> stops;
            if (uniform(0, 1) == 0) stops.push_back(uniform(0, o.vocab_size - 1));
            Tracked t;
            t.arrival_step = step;
            if (uniform(0, 99) < 5) aborts_due.emplace(step + uniform(0, 150), next_id);
            for (int i2 = 0; i2 < max_tokens; ++i2) {
                t.expected.push_back(fake_token(next_id, i2, o.vocab_size));
                if (!stops.empty() && t.expected.back() == stops[0]) break;
            }
            t.seq = h.add(next_id, std::move(prompt), max_tokens, stops);
            tracked.emplace(next_id++, std::move(t));
        }
        // Aborts: in whatever state the request is (waiting, preempted, mid-prefill, decoding, finished).
        for (auto it = aborts_due.begin(); it != aborts_due.end() && it->first <= step;) {
            Tracked& t = tracked.at(it->second);
            if (!t.seq->is_finished()) {
                h.scheduler.finish(*t.seq, FinishReason::kAbort);
                t.aborted = true;
                ++num_aborted;
            }
            it = aborts_due.erase(it);
        }
        if (p.speculate) {
            for (const auto& seq : h.scheduler.running()) {
                if (seq->num_uncomputed_tokens() != 1 || uniform(0, 1) == 0) continue;
                const int n = uniform(1, 6), correct = uniform(0, n);
                seq->draft_tokens.clear();
                for (int j = 0; j < n; ++j) {
                    seq->draft_tokens.push_back(
                        j < correct ? fake_token(seq->id, seq->num_output_tokens() + j, o.vocab_size)
                                    : uniform(0, o.vocab_size - 1));
                }
            }
        }
        h.step();
        ++step;
        for (const auto& seq : h.scheduler.live_sequences()) {
            longest_wait = std::max(longest_wait, step - tracked.at(seq->id).arrival_step);
        }
        if (::testing::Test::HasFailure()) break;
    }

    int num_finished = 0;
    for (const auto& [id, t] : tracked) {
        ASSERT_TRUE(t.seq->is_finished()) << "request " << id << " never finished";
        if (t.aborted) {
            EXPECT_EQ(t.seq->finish_reason, FinishReason::kAbort);
            continue;
        }
        ++num_finished;
        const auto out = t.seq->output_token_ids();
        ASSERT_EQ(std::vector<int32_t>(out.begin(), out.end()), t.expected) << "request " << id;
    }
    h.expect_all_free();
    EXPECT_LE(h.peak_window_blocks_used, window_bound);
    EXPECT_GT(h.scheduler.num_preemptions(), 0u);
    const KvUsage u = h.kv.usage();
    if (p.speculate) {
        EXPECT_GT(h.scheduler.num_accepted_draft_tokens(), 0u);
        EXPECT_LT(h.scheduler.num_accepted_draft_tokens(), h.scheduler.num_draft_tokens());
        std::printf("draft tokens=%llu accepted=%llu\n",
                    static_cast<unsigned long long>(h.scheduler.num_draft_tokens()),
                    static_cast<unsigned long long>(h.scheduler.num_accepted_draft_tokens()));
    }
    if (p.enable_prefix_caching) {
        EXPECT_GT(u.prefix_cache_hits, 0u);
    }
    std::printf(
        "steps=%d finished=%d aborted=%d preemptions=%llu longest_wait_steps=%d peak_window_blocks=%d/%d "
        "prefix_hit_rate=%.3f\n",
        step, num_finished, num_aborted, static_cast<unsigned long long>(h.scheduler.num_preemptions()),
        longest_wait, h.peak_window_blocks_used, window_bound,
        u.prefix_cache_queries ? double(u.prefix_cache_hits) / double(u.prefix_cache_queries) : 0.0);
}

TEST(SchedulerSimulation, TenThousandRandomRequestsWithPrefixCaching) {
    simulate({10000, true, 1});
}

TEST(SchedulerSimulation, RandomRequestsWithoutPrefixCaching) {
    simulate({3000, false, 2});
}

// Speculative decoding: accepted drafts keep their K/V, rejected ones give their pages back, and every
// request still produces exactly the fake model's tokens (stop tokens inside drafts included).
TEST(SchedulerSimulation, RandomRequestsWithDraftTokens) {
    simulate({3000, true, 3, true});
}

}  // namespace
}  // namespace gptoss::testing
