#include "engine/block_pool.h"

#include <vector>

#include <gtest/gtest.h>

namespace gptoss {
namespace {

std::vector<int> refs_of(const BlockPool& pool) {
    std::vector<int> refs;
    for (int32_t id = 0; id < pool.num_blocks(); ++id) refs.push_back(pool.ref_count(id));
    return refs;
}

TEST(BlockPool, AllocateAndReleaseCountBlocks) {
    BlockPool pool(8);
    std::vector<int32_t> ids;
    pool.allocate(3, ids);
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(pool.num_free_blocks(), 5);
    EXPECT_EQ(pool.num_used_blocks(), 3);
    for (int32_t id : ids) EXPECT_EQ(pool.ref_count(id), 1);
    for (int32_t id : ids) pool.release(id);
    EXPECT_EQ(pool.num_free_blocks(), 8);
    EXPECT_EQ(pool.verify(std::vector<int>(8, 0)), "");
}

TEST(BlockPool, RefusesOverAllocationAndDoubleRelease) {
    BlockPool pool(2);
    std::vector<int32_t> ids;
    EXPECT_THROW(pool.allocate(3, ids), std::logic_error);
    pool.allocate(1, ids);
    pool.release(ids[0]);
    EXPECT_THROW(pool.release(ids[0]), std::logic_error);
}

TEST(BlockPool, CachedBlocksStayFindableWhileFreeAndAreEvictedLast) {
    BlockPool pool(4);
    std::vector<int32_t> ids;
    pool.allocate(4, ids);
    pool.register_hash(ids[0], 100);
    pool.register_hash(ids[1], 101);
    // Freed: two cached (to the back, LRU) and two uncached (to the front).
    pool.release(ids[0]);
    pool.release(ids[2]);
    pool.release(ids[1]);
    pool.release(ids[3]);
    EXPECT_EQ(pool.num_cached_blocks(), 2);
    EXPECT_EQ(pool.lookup(100), ids[0]);
    EXPECT_EQ(pool.lookup(101), ids[1]);

    // Uncached blocks are reused first; then the least recently freed cached one loses its hash.
    std::vector<int32_t> again;
    pool.allocate(2, again);
    EXPECT_EQ(pool.num_cached_blocks(), 2);
    pool.allocate(1, again);
    EXPECT_EQ(again.back(), ids[0]);
    EXPECT_FALSE(pool.lookup(100).has_value());
    EXPECT_EQ(pool.lookup(101), ids[1]);
    EXPECT_EQ(pool.verify(refs_of(pool)), "");
}

TEST(BlockPool, TouchRevivesAFreeCachedBlockAndSharesIt) {
    BlockPool pool(3);
    std::vector<int32_t> ids;
    pool.allocate(1, ids);
    pool.register_hash(ids[0], 7);
    pool.release(ids[0]);
    EXPECT_EQ(pool.num_free_blocks(), 3);
    pool.touch(ids[0]);  // a prefix hit
    pool.touch(ids[0]);  // a second sequence with the same prefix
    EXPECT_EQ(pool.num_free_blocks(), 2);
    EXPECT_EQ(pool.ref_count(ids[0]), 2);
    // The shared block is not handed out again.
    std::vector<int32_t> rest;
    pool.allocate(2, rest);
    EXPECT_NE(rest[0], ids[0]);
    EXPECT_NE(rest[1], ids[0]);
    EXPECT_EQ(pool.lookup(7), ids[0]);
}

TEST(BlockPool, RegisterKeepsTheFirstBlockForAHash) {
    BlockPool pool(2);
    std::vector<int32_t> ids;
    pool.allocate(2, ids);
    pool.register_hash(ids[0], 5);
    pool.register_hash(ids[1], 5);  // the same prefix computed twice at once
    EXPECT_EQ(pool.lookup(5), ids[0]);
    EXPECT_EQ(pool.num_cached_blocks(), 1);
    pool.register_hash(ids[0], 6);  // a block keeps its first hash
    EXPECT_FALSE(pool.lookup(6).has_value());
}

TEST(BlockPool, VerifyReportsAHolderCountMismatch) {
    BlockPool pool(3);
    std::vector<int32_t> ids;
    pool.allocate(1, ids);
    EXPECT_EQ(pool.verify(refs_of(pool)), "");
    std::vector<int> wrong(3, 0);  // claims nobody holds the block
    EXPECT_NE(pool.verify(wrong), "");
}

}  // namespace
}  // namespace gptoss
