#include "engine/kv_cache_manager.h"

#include <memory>
#include <vector>

#include <gtest/gtest.h>

namespace gptoss {
namespace {

// Block size 4, window 8: a query at position p sees keys p-7..p, so first_window_block(n) = max(0, n-7) / 4.
KvCacheSpec small_spec(int num_full = 32, int num_window = 16, bool caching = true) {
    return KvCacheSpec{4, num_full, num_window, true, 8, caching};
}

std::unique_ptr<Sequence> make_seq(RequestId id, int num_prompt, int32_t base = 1) {
    Request r;
    r.id = id;
    for (int i = 0; i < num_prompt; ++i) r.prompt_token_ids.push_back(base + i);
    return std::make_unique<Sequence>(std::move(r), id);
}

// Admits a sequence (with its prefix-cache hit) and computes its first chunk.
bool admit(KvCacheManager& kv, Sequence& seq, int chunk) {
    const PrefixHit hit = kv.find_cached_prefix(seq);
    if (!kv.allocate_slots(seq, chunk, &hit)) return false;
    seq.num_computed_tokens = hit.num_tokens + chunk;
    kv.on_tokens_computed(seq);
    return true;
}

bool advance(KvCacheManager& kv, Sequence& seq, int chunk) {
    if (!kv.allocate_slots(seq, chunk)) return false;
    seq.num_computed_tokens += chunk;
    kv.on_tokens_computed(seq);
    return true;
}

void expect_consistent(const KvCacheManager& kv, std::vector<const Sequence*> holders) {
    EXPECT_EQ(kv.verify(holders), "");
}

TEST(KvCacheManager, WindowedBlocksFollowChunkedPrefillAndDecode) {
    KvCacheManager kv(small_spec(32, 16, false));
    auto seq = make_seq(1, 40);
    const PrefixHit none;
    ASSERT_TRUE(kv.allocate_slots(*seq, 12, &none));  // [0, 12): blocks 0..2 in both pools
    EXPECT_EQ(seq->blocks.full.size(), 3u);
    EXPECT_EQ(seq->blocks.num_window_held(), 3);
    seq->num_computed_tokens = 12;
    kv.on_tokens_computed(*seq);  // the next query (position 12) sees keys from 5: block 0 goes
    EXPECT_EQ(seq->blocks.window_first, 1);
    EXPECT_EQ(seq->blocks.window[0], kNoBlock);
    EXPECT_EQ(seq->blocks.num_window_held(), 2);
    EXPECT_EQ(kv.usage().num_window_blocks_used, 2);

    ASSERT_TRUE(advance(kv, *seq, 12));      // [12, 24) needed blocks 1..5 (5 <= ceil((7 + 12) / 4) + 1)
    EXPECT_EQ(seq->blocks.window_first, 4);  // keys from 17 on
    EXPECT_EQ(seq->blocks.num_window_held(), 2);
    EXPECT_EQ(seq->blocks.full.size(), 6u);

    ASSERT_TRUE(kv.allocate_slots(*seq, 16));  // [24, 40): blocks 4..9, never the ones before
    EXPECT_EQ(seq->blocks.num_window_held(), 6);
    EXPECT_LE(seq->blocks.num_window_held(), kv.max_window_blocks_per_sequence(16));
    seq->num_computed_tokens = 40;
    kv.on_tokens_computed(*seq);
    EXPECT_EQ(seq->blocks.window_first, 8);

    // Decoding: never more than ceil((W - 1 + 1) / B) + 1 = 3 windowed blocks.
    for (int i = 0; i < 30; ++i) {
        seq->token_ids.push_back(7);
        ASSERT_TRUE(kv.allocate_slots(*seq, 1));
        EXPECT_LE(seq->blocks.num_window_held(), 3);
        seq->num_computed_tokens += 1;
        kv.on_tokens_computed(*seq);
        EXPECT_EQ(seq->blocks.window_first, kv.first_window_block(seq->num_computed_tokens));
        expect_consistent(kv, {seq.get()});
    }
    EXPECT_EQ(seq->blocks.full.size(), 18u);  // ceil(70 / 4)
    kv.free(*seq);
    expect_consistent(kv, {});
    EXPECT_EQ(kv.usage().num_full_blocks_used, 0);
    EXPECT_EQ(kv.usage().num_window_blocks_used, 0);
}

TEST(KvCacheManager, AllocationIsAllOrNothingAcrossPools) {
    KvCacheManager kv(small_spec(32, 3, false));  // room for 3 windowed blocks
    auto seq = make_seq(1, 16);
    const PrefixHit none;
    EXPECT_FALSE(kv.allocate_slots(*seq, 16, &none));  // needs 4 windowed blocks
    EXPECT_EQ(kv.usage().num_full_blocks_used, 0);
    EXPECT_TRUE(seq->blocks.empty());
    EXPECT_TRUE(kv.allocate_slots(*seq, 12, &none));
    EXPECT_EQ(kv.usage().num_full_blocks_used, 3);
    EXPECT_EQ(kv.usage().num_window_blocks_used, 3);
    kv.free(*seq);
    expect_consistent(kv, {});
}

TEST(KvCacheManager, FullPoolShortageAllocatesNothing) {
    KvCacheManager kv(small_spec(2, 16, false));
    auto seq = make_seq(1, 12);
    const PrefixHit none;
    EXPECT_FALSE(kv.allocate_slots(*seq, 12, &none));
    EXPECT_EQ(kv.usage().num_window_blocks_used, 0);
    expect_consistent(kv, {seq.get()});
}

TEST(KvCacheManager, PrefixHitReusesBothPoolsAndSkipsBlocksBehindTheWindow) {
    KvCacheManager kv(small_spec());
    auto a = make_seq(1, 20);
    ASSERT_TRUE(admit(kv, *a, 20));
    kv.free(*a);  // cached blocks stay findable while free

    auto b = make_seq(2, 30);  // shares a's 20 tokens, then differs
    for (int i = 20; i < 30; ++i) b->token_ids[size_t(i)] = 500 + i;
    const PrefixHit hit = kv.find_cached_prefix(*b);
    EXPECT_EQ(hit.num_tokens, 20);
    EXPECT_EQ(hit.full_blocks.size(), 5u);
    // At position 20 the window reaches back to 13: blocks 3 and 4 only.
    EXPECT_EQ(hit.window_blocks.size(), 2u);
    ASSERT_TRUE(kv.allocate_slots(*b, 10, &hit));
    EXPECT_EQ(b->blocks.window_first, 3);
    EXPECT_EQ(b->blocks.window[0], kNoBlock);
    EXPECT_EQ(b->blocks.window[3], hit.window_blocks[0]);
    EXPECT_EQ(b->blocks.full.size(), 8u);  // ceil(30 / 4)
    b->num_computed_tokens = 30;
    kv.on_tokens_computed(*b);
    expect_consistent(kv, {b.get()});
    EXPECT_EQ(kv.usage().prefix_cache_queries, 50u);  // a's 20 tokens, then b's 30
    EXPECT_EQ(kv.usage().prefix_cache_hits, 20u);
    kv.free(*b);
    expect_consistent(kv, {});
}

TEST(KvCacheManager, HitLeavesTheLastTokenToCompute) {
    KvCacheManager kv(small_spec());
    auto a = make_seq(1, 20);
    ASSERT_TRUE(admit(kv, *a, 20));
    auto b = make_seq(2, 20);  // the same prompt exactly
    const PrefixHit hit = kv.find_cached_prefix(*b);
    EXPECT_EQ(hit.num_tokens, 16);  // block 4 (tokens 16..19) is recomputed into a new block
    ASSERT_TRUE(kv.allocate_slots(*b, 4, &hit));
    EXPECT_NE(b->blocks.full[4], a->blocks.full[4]);
    EXPECT_EQ(b->blocks.full[3], a->blocks.full[3]);
    EXPECT_EQ(kv.usage().num_full_blocks_used, 6);  // 5 of a + 1 new for b
    b->num_computed_tokens = 20;
    kv.on_tokens_computed(*b);
    expect_consistent(kv, {a.get(), b.get()});
    kv.free(*a);
    kv.free(*b);
    expect_consistent(kv, {});
}

TEST(KvCacheManager, HitIsLimitedToWhereTheWindowedPoolStillHasTheBlocks) {
    // Windowed pool of 5 blocks: a's prefill releases blocks 0..2 (cached, free), then c's allocation
    // evicts them; the hit at 20 tokens only needs blocks 3 and 4, which a still held when it was freed.
    KvCacheManager kv(small_spec(32, 5));
    auto a = make_seq(1, 20);
    ASSERT_TRUE(admit(kv, *a, 20));
    kv.free(*a);
    auto c = make_seq(3, 12, 700);
    ASSERT_TRUE(admit(kv, *c, 12));  // takes 3 windowed blocks: the least recently used, 0..2
    auto b = make_seq(2, 24);
    for (int i = 20; i < 24; ++i) b->token_ids[size_t(i)] = 900 + i;
    PrefixHit hit = kv.find_cached_prefix(*b);
    EXPECT_EQ(hit.num_tokens, 20);
    EXPECT_EQ(hit.window_blocks.size(), 2u);

    // A prompt that stops earlier would need block 2 for its window, which is gone: only the empty hit
    // remains usable (blocks 0..2 were evicted from the windowed pool).
    auto d = make_seq(4, 14);
    hit = kv.find_cached_prefix(*d);
    EXPECT_EQ(hit.num_tokens, 0);
    kv.free(*c);
    expect_consistent(kv, {});
}

TEST(KvCacheManager, FreeEvictsATailBeforeItsPrefix) {
    KvCacheManager kv(small_spec(6, 16));
    auto a = make_seq(1, 24);
    ASSERT_TRUE(admit(kv, *a, 24));
    kv.free(*a);
    // Reusing one full block must evict a's last block, keeping the shared prefix hittable.
    auto c = make_seq(3, 4, 800);
    ASSERT_TRUE(admit(kv, *c, 4));
    auto b = make_seq(2, 28);  // a's 24 tokens, then 4 more
    for (int i = 24; i < 28; ++i) b->token_ids[size_t(i)] = 900 + i;
    EXPECT_EQ(kv.find_cached_prefix(*b).num_tokens, 20);  // blocks 0..4; block 5 was evicted
    kv.free(*c);
}

TEST(KvCacheManager, VerifyCatchesALeak) {
    KvCacheManager kv(small_spec());
    auto a = make_seq(1, 8);
    ASSERT_TRUE(admit(kv, *a, 8));
    EXPECT_EQ(kv.verify(std::vector<const Sequence*>{a.get()}), "");
    EXPECT_NE(kv.verify({}), "");  // a's pages held with no holder: a leak
    kv.free(*a);
    EXPECT_EQ(kv.verify({}), "");
}

TEST(KvCacheManager, ModelWithoutSlidingLayersUsesOnlyTheFullPool) {
    KvCacheManager kv(KvCacheSpec{4, 8, 0, true, 0, true});
    auto a = make_seq(1, 10);
    ASSERT_TRUE(admit(kv, *a, 10));
    EXPECT_EQ(a->blocks.full.size(), 3u);
    EXPECT_TRUE(a->blocks.window.empty());
    EXPECT_EQ(kv.verify(std::vector<const Sequence*>{a.get()}), "");
    kv.free(*a);
}

}  // namespace
}  // namespace gptoss
