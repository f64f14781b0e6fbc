// Scheduler scenarios without a model (like vLLM's tests/v1/core): the harness's KvMirror checks every step's
// KV addressing by content, the invariants are checked after every step, and every scenario ends with all
// pages free.
#include "engine/scheduler.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "tests/engine/scheduler_harness.h"

namespace gptoss::testing {
namespace {

const ScheduledSequence* entry_of(const ScheduledBatch& batch, const std::shared_ptr<Sequence>& seq) {
    for (const auto& e : batch.entries) {
        if (e.seq == seq) return &e;
    }
    return nullptr;
}

std::vector<int32_t> expected_output(const Sequence& seq, int n, int32_t vocab) {
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) out.push_back(fake_token(seq.sampling.seed, i, vocab));
    return out;
}

std::vector<int32_t> output_of(const Sequence& seq) {
    return {seq.output_token_ids().begin(), seq.output_token_ids().end()};
}

TEST(Scheduler, BudgetIsSharedAndChunkedPrefillInterleavesWithDecode) {
    Harness h;  // budget 32 tokens per step
    auto a = h.add(1, make_prompt(10, 1), 20);
    auto b = h.add(2, make_prompt(60, 100), 5);
    auto c = h.add(3, make_prompt(5, 300), 5);

    auto s1 = h.step();  // a's whole prompt, then as much of b as fits
    ASSERT_EQ(s1.batch.entries.size(), 2u);
    EXPECT_EQ(entry_of(s1.batch, a)->num_new_tokens, 10);
    EXPECT_TRUE(entry_of(s1.batch, a)->sample);
    EXPECT_EQ(entry_of(s1.batch, b)->num_new_tokens, 22);
    EXPECT_FALSE(entry_of(s1.batch, b)->sample);
    EXPECT_EQ(s1.batch.num_tokens, 32);
    EXPECT_EQ(s1.outputs.size(), 1u);

    auto s2 = h.step();  // a decodes while b's prefill continues; c still waits
    EXPECT_EQ(s2.batch.entries[0].seq, a);
    EXPECT_EQ(entry_of(s2.batch, a)->num_new_tokens, 1);
    EXPECT_EQ(entry_of(s2.batch, b)->num_new_tokens, 31);
    EXPECT_EQ(entry_of(s2.batch, c), nullptr);

    auto s3 = h.step();  // b's last 7 prompt tokens, and c is admitted with the rest of the budget
    EXPECT_EQ(entry_of(s3.batch, a)->num_new_tokens, 1);
    EXPECT_EQ(entry_of(s3.batch, b)->num_new_tokens, 7);
    EXPECT_TRUE(entry_of(s3.batch, b)->sample);
    EXPECT_EQ(entry_of(s3.batch, c)->num_new_tokens, 5);
    EXPECT_EQ(s3.batch.num_tokens, 13);

    auto s4 = h.step();  // three decodes
    EXPECT_EQ(s4.batch.num_tokens, 3);

    h.run_to_completion();
    EXPECT_EQ(output_of(*a), expected_output(*a, 20, h.options.vocab_size));
    EXPECT_EQ(output_of(*b), expected_output(*b, 5, h.options.vocab_size));
    EXPECT_EQ(a->finish_reason, FinishReason::kLength);
    h.expect_all_free();
}

TEST(Scheduler, MaxNumSeqsLimitsRunningSequences) {
    HarnessOptions o;
    o.max_num_seqs = 2;
    Harness h(o);
    auto a = h.add(1, make_prompt(4, 1), 3);
    auto b = h.add(2, make_prompt(4, 50), 6);
    auto c = h.add(3, make_prompt(4, 90), 2);
    h.step();
    EXPECT_EQ(h.scheduler.num_running(), 2);
    EXPECT_EQ(h.scheduler.num_waiting(), 1);
    h.step();
    h.step();  // a finishes (3 tokens)
    EXPECT_TRUE(a->is_finished());
    auto s = h.step();
    EXPECT_NE(entry_of(s.batch, c), nullptr);
    h.run_to_completion();
    h.expect_all_free();
}

TEST(Scheduler, WaitingRequestsAreAdmittedInArrivalOrder) {
    HarnessOptions o;
    o.num_full_blocks = 36;  // 144 tokens: a 121-token context leaves 5 blocks
    o.max_num_batched_tokens = 120;
    Harness h(o);
    auto a = h.add(1, make_prompt(120, 1), 8);
    auto b = h.add(2, make_prompt(40, 200), 4);  // needs 10 blocks
    auto c = h.add(3, make_prompt(4, 400), 4);   // would fit, but b is ahead of it
    h.step();
    auto s2 = h.step();
    ASSERT_EQ(s2.batch.entries.size(), 1u);
    EXPECT_EQ(s2.batch.entries[0].seq, a);
    EXPECT_EQ(h.scheduler.num_waiting(), 2);
    std::vector<RequestId> admitted;
    while (h.scheduler.has_unfinished()) {
        auto s = h.step();
        for (const auto& e : s.batch.entries) {
            if (std::find(admitted.begin(), admitted.end(), e.seq->id) == admitted.end())
                admitted.push_back(e.seq->id);
        }
    }
    EXPECT_EQ(admitted, (std::vector<RequestId>{1, 2, 3}));
    h.expect_all_free();
}

TEST(Scheduler, PreemptsTheNewestAndResumesItTransparently) {
    HarnessOptions o;
    o.num_full_blocks = 32;  // exactly one 128-token sequence
    Harness h(o);
    auto a = h.add(1, make_prompt(40, 1), 60);
    auto b = h.add(2, make_prompt(40, 500), 60);
    bool saw_preemption = false;
    while (h.scheduler.has_unfinished()) {
        std::set<RequestId> running_before;
        for (const auto& seq : h.scheduler.live_sequences()) {
            if (seq->status == SequenceStatus::kRunning) running_before.insert(seq->id);
        }
        auto s = h.step();
        if (s.batch.num_preempted > 0) {
            saw_preemption = true;
            // The oldest keeps running; nothing new is admitted in a step that preempted.
            EXPECT_NE(entry_of(s.batch, a), nullptr);
            for (const auto& e : s.batch.entries) EXPECT_TRUE(running_before.count(e.seq->id));
        }
    }
    EXPECT_TRUE(saw_preemption);
    EXPECT_EQ(a->num_preemptions, 0);
    EXPECT_GT(b->num_preemptions, 0);
    EXPECT_EQ(h.scheduler.num_preemptions(), uint64_t(b->num_preemptions));
    // Recompute is invisible: the same tokens as without preemption, and all 60 of them.
    EXPECT_EQ(output_of(*a), expected_output(*a, 60, h.options.vocab_size));
    EXPECT_EQ(output_of(*b), expected_output(*b, 60, h.options.vocab_size));
    h.expect_all_free();
}

TEST(Scheduler, InteractiveRequestsWaitAheadOfBatchWork) {
    HarnessOptions o;
    o.max_num_seqs = 1;
    Harness h(o);
    auto batch_a = h.add(1, make_prompt(4, 1), 3, {}, kBatchPriority);
    auto batch_b = h.add(2, make_prompt(4, 50), 3, {}, kBatchPriority);
    auto interactive = h.add(3, make_prompt(4, 90), 3);
    auto s = h.step();
    ASSERT_EQ(s.batch.entries.size(), 1u);
    EXPECT_EQ(s.batch.entries[0].seq, interactive);
    h.run_to_completion();
    EXPECT_EQ(output_of(*batch_a), expected_output(*batch_a, 3, h.options.vocab_size));
    EXPECT_EQ(output_of(*batch_b), expected_output(*batch_b, 3, h.options.vocab_size));
    h.expect_all_free();
}

TEST(Scheduler, InteractiveRequestTakesTheSlotOfARunningBatchSequence) {
    HarnessOptions o;
    o.max_num_seqs = 2;
    Harness h(o);
    auto batch_a = h.add(1, make_prompt(8, 1), 40, {}, kBatchPriority);
    auto batch_b = h.add(2, make_prompt(8, 50), 40, {}, kBatchPriority);
    h.step();
    h.step();
    ASSERT_EQ(h.scheduler.num_running(), 2);
    auto interactive = h.add(3, make_prompt(8, 90), 5);
    auto s = h.step();  // the very next step: the newest batch sequence makes way
    EXPECT_NE(entry_of(s.batch, interactive), nullptr);
    EXPECT_NE(entry_of(s.batch, batch_a), nullptr);
    EXPECT_EQ(entry_of(s.batch, batch_b), nullptr);
    EXPECT_EQ(batch_b->num_preemptions, 1);
    EXPECT_EQ(batch_b->status, SequenceStatus::kWaiting);
    h.run_to_completion();
    // Recompute is invisible to the preempted one.
    EXPECT_EQ(output_of(*batch_b), expected_output(*batch_b, 40, h.options.vocab_size));
    EXPECT_EQ(output_of(*interactive), expected_output(*interactive, 5, h.options.vocab_size));
    EXPECT_EQ(batch_a->num_preemptions, 0);
    h.expect_all_free();
}

TEST(Scheduler, PagesRunningShortPreemptOlderBatchWorkBeforeNewerInteractive) {
    HarnessOptions o;
    o.num_full_blocks = 32;  // exactly one 128-token sequence
    Harness h(o);
    auto batch = h.add(1, make_prompt(40, 1), 60, {}, kBatchPriority);
    for (int i = 0; i < 4; ++i) h.step();
    ASSERT_EQ(batch->status, SequenceStatus::kRunning);
    auto interactive = h.add(2, make_prompt(40, 500), 60);  // newer, more urgent
    h.run_to_completion();
    EXPECT_GT(batch->num_preemptions, 0);
    EXPECT_EQ(interactive->num_preemptions, 0);
    EXPECT_EQ(output_of(*batch), expected_output(*batch, 60, h.options.vocab_size));
    EXPECT_EQ(output_of(*interactive), expected_output(*interactive, 60, h.options.vocab_size));
    h.expect_all_free();
}

TEST(Scheduler, AbortMidPrefillFreesItsPages) {
    Harness h;
    auto a = h.add(1, make_prompt(100, 1), 10);
    auto b = h.add(2, make_prompt(8, 300), 10);
    h.step();  // a's first 32-token chunk
    ASSERT_EQ(a->num_computed_tokens, 32);
    EXPECT_GT(h.kv.usage().num_full_blocks_used, 0);
    h.scheduler.finish(*a, FinishReason::kAbort);
    EXPECT_EQ(a->finish_reason, FinishReason::kAbort);
    EXPECT_TRUE(a->blocks.empty());
    h.expect_consistent();
    h.run_to_completion();
    EXPECT_EQ(output_of(*b), expected_output(*b, 10, h.options.vocab_size));
    h.expect_all_free();
}

TEST(Scheduler, AbortMidDecodeAndWhileWaiting) {
    HarnessOptions o;
    o.max_num_seqs = 1;
    Harness h(o);
    auto a = h.add(1, make_prompt(6, 1), 50);
    auto b = h.add(2, make_prompt(6, 100), 50);
    for (int i = 0; i < 5; ++i) h.step();
    EXPECT_EQ(a->num_output_tokens(), 5);
    EXPECT_EQ(b->status, SequenceStatus::kWaiting);
    h.scheduler.finish(*b, FinishReason::kAbort);  // still queued
    h.scheduler.finish(*a, FinishReason::kAbort);  // decoding
    h.scheduler.finish(*a, FinishReason::kAbort);  // twice is harmless
    EXPECT_FALSE(h.scheduler.has_unfinished());
    h.expect_all_free();
    EXPECT_TRUE(h.scheduler.schedule().empty());
}

TEST(Scheduler, AbortWhilePreempted) {
    HarnessOptions o;
    o.num_full_blocks = 32;
    Harness h(o);
    auto a = h.add(1, make_prompt(40, 1), 80);
    auto b = h.add(2, make_prompt(40, 500), 80);
    for (int i = 0; i < 200 && b->num_preemptions == 0; ++i) h.step();
    ASSERT_GT(b->num_preemptions, 0);
    if (b->status == SequenceStatus::kWaiting) {
        EXPECT_TRUE(b->blocks.empty());
        EXPECT_GT(b->num_output_tokens(), 0);  // what it generated is kept for the resume
    }
    h.scheduler.finish(*b, FinishReason::kAbort);
    h.expect_consistent();
    h.run_to_completion();
    EXPECT_EQ(output_of(*a), expected_output(*a, 80, h.options.vocab_size));
    h.expect_all_free();
}

TEST(Scheduler, WindowedPagesAreReleasedAsTheSequenceAdvances) {
    Harness h;  // block 4, window 8, budget 32
    auto a = h.add(1, make_prompt(50, 1), 30);
    int peak_window = 0;
    while (h.scheduler.has_unfinished()) {
        auto s = h.step();
        if (!a->is_finished()) {
            // After the step: only blocks a query at num_computed_tokens can see.
            EXPECT_EQ(a->blocks.window_first, h.kv.first_window_block(a->num_computed_tokens));
            EXPECT_EQ(h.kv.usage().num_window_blocks_used, a->blocks.num_window_held());
            if (a->num_computed_tokens >= 50) {
                EXPECT_LE(a->blocks.num_window_held(), 3);  // decoding: ceil((8 - 1 + 1) / 4) + 1
            }
        }
        peak_window = std::max(peak_window, h.kv.usage().num_window_blocks_used);
    }
    EXPECT_LE(peak_window, h.kv.max_window_blocks_per_sequence(32));
    h.expect_all_free();
}

TEST(Scheduler, StopTokenAndMaxTokensFinishSequences) {
    Harness h;
    const int32_t stop = fake_token(1, 3, h.options.vocab_size);
    for (int i = 0; i < 3; ++i) ASSERT_NE(fake_token(1, i, h.options.vocab_size), stop);
    auto a = h.add(1, make_prompt(5, 1), 100, {stop});
    auto b = h.add(2, make_prompt(5, 50), 5);
    h.run_to_completion();
    EXPECT_EQ(a->finish_reason, FinishReason::kStop);
    EXPECT_EQ(a->stop_token, stop);
    EXPECT_EQ(a->num_output_tokens(), 4);  // the stop token is part of the output
    EXPECT_EQ(b->finish_reason, FinishReason::kLength);
    EXPECT_EQ(b->num_output_tokens(), 5);
    h.expect_all_free();
}

TEST(Scheduler, RepeatedPrefixIsServedFromTheCache) {
    Harness h;
    auto a = h.add(1, make_prompt(30, 1), 5);
    h.run_to_completion();
    std::vector<int32_t> prompt = make_prompt(30, 1);
    for (int i = 0; i < 10; ++i) prompt.push_back(700 + i);
    auto b = h.add(2, prompt, 5);
    h.run_to_completion();
    // a's blocks 0..6 hold prompt tokens only (block 7 mixes in a's output): 28 tokens.
    EXPECT_EQ(b->num_cached_prompt_tokens, 28);
    EXPECT_EQ(output_of(*b), expected_output(*b, 5, h.options.vocab_size));
    const KvUsage u = h.kv.usage();
    EXPECT_EQ(u.prefix_cache_queries, 70u);
    EXPECT_EQ(u.prefix_cache_hits, 28u);
    h.expect_all_free();
}

TEST(Scheduler, IdenticalConcurrentPromptsShareBlocksOnceComputed) {
    Harness h;
    auto a = h.add(1, make_prompt(20, 1), 8);
    h.step();  // a's prompt is computed and cached
    auto b = h.add(2, make_prompt(20, 1), 8);
    auto c = h.add(3, make_prompt(20, 1), 8);
    h.step();
    EXPECT_EQ(b->num_cached_prompt_tokens, 16);
    EXPECT_EQ(c->num_cached_prompt_tokens, 16);
    EXPECT_EQ(b->blocks.full[0], a->blocks.full[0]);
    EXPECT_EQ(c->blocks.full[3], a->blocks.full[3]);
    h.run_to_completion();
    h.expect_all_free();
}

// Draft tokens: the fake model's own next tokens are all kept, plus the bonus token after them.
TEST(Scheduler, AcceptedDraftsAddSeveralTokensInOneStep) {
    Harness h;
    auto a = h.add(1, make_prompt(6, 1), 20);
    h.step();  // prefill, first token
    a->draft_tokens = {fake_token(1, 1, 1000), fake_token(1, 2, 1000), fake_token(1, 3, 1000)};
    auto s = h.step();
    EXPECT_EQ(entry_of(s.batch, a)->num_new_tokens, 4);
    EXPECT_EQ(entry_of(s.batch, a)->num_draft_tokens, 3);
    EXPECT_EQ(s.outputs.size(), 4u);
    EXPECT_EQ(output_of(*a), expected_output(*a, 5, 1000));
    EXPECT_EQ(a->num_computed_tokens, a->num_tokens() - 1);
    EXPECT_TRUE(a->draft_tokens.empty());
    EXPECT_EQ(h.scheduler.num_accepted_draft_tokens(), 3u);
    h.run_to_completion();
    EXPECT_EQ(output_of(*a), expected_output(*a, 20, 1000));
    h.expect_all_free();
}

// A wrong draft ends the run: the model's token there is kept, the K/V and pages after it are discarded.
TEST(Scheduler, RejectedDraftsReleaseTheirPages) {
    Harness h;  // block size 4
    auto a = h.add(1, make_prompt(7, 1), 20);
    h.step();  // 7 prompt tokens + 1 output: 8 tokens, 2 blocks
    a->draft_tokens = {fake_token(1, 1, 1000), 999, 998, 997, 996, 995};
    auto s = h.step();
    EXPECT_EQ(entry_of(s.batch, a)->num_draft_tokens, 6);
    EXPECT_EQ(s.outputs.size(), 2u);  // the accepted draft and the model's token in place of 999
    EXPECT_EQ(output_of(*a), expected_output(*a, 3, 1000));
    EXPECT_EQ(a->blocks.full.size(), 3u);  // 10 tokens; the 4th block (drafts 4..6) went back
    EXPECT_EQ(h.scheduler.num_draft_tokens(), 6u);
    EXPECT_EQ(h.scheduler.num_accepted_draft_tokens(), 1u);
    h.run_to_completion();
    EXPECT_EQ(output_of(*a), expected_output(*a, 20, 1000));
    h.expect_all_free();
}

// Drafts never run past max_tokens, and a stop token among accepted drafts finishes the sequence there.
TEST(Scheduler, DraftsRespectMaxTokensAndStopTokens) {
    Harness h;
    auto a = h.add(1, make_prompt(5, 1), 3);
    h.step();
    a->draft_tokens = {fake_token(1, 1, 1000), fake_token(1, 2, 1000), fake_token(1, 3, 1000)};
    auto s = h.step();
    EXPECT_EQ(entry_of(s.batch, a)->num_draft_tokens, 1);  // 1 output + 1 draft + bonus = max_tokens 3
    EXPECT_TRUE(a->is_finished());
    EXPECT_EQ(a->finish_reason, FinishReason::kLength);
    EXPECT_EQ(output_of(*a), expected_output(*a, 3, 1000));

    const int32_t stop = fake_token(2, 2, 1000);
    auto b = h.add(2, make_prompt(5, 50), 20, {stop});
    h.step();
    b->draft_tokens = {fake_token(2, 1, 1000), stop, fake_token(2, 3, 1000)};
    h.step();
    EXPECT_TRUE(b->is_finished());
    EXPECT_EQ(b->finish_reason, FinishReason::kStop);
    EXPECT_EQ(output_of(*b), expected_output(*b, 3, 1000));
    h.expect_all_free();
}

TEST(Scheduler, RefusesPoolsThatCannotHoldOneMaxLengthSequence) {
    KvCacheManager kv(KvCacheSpec{4, 10, 64, true, 8, true});
    EXPECT_THROW(Scheduler(SchedulerConfig{8, 32, 128}, kv), std::invalid_argument);
    KvCacheManager small_window(KvCacheSpec{4, 64, 4, true, 8, true});
    EXPECT_THROW(Scheduler(SchedulerConfig{8, 32, 128}, small_window), std::invalid_argument);
}

}  // namespace
}  // namespace gptoss::testing
