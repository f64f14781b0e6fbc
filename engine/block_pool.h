// BlockPool: the pages of one KV pool - ids, reference counts, a free queue, and the prefix-cache index.
//
// Invariants: a block is on the free queue exactly when its ref_count is 0; a block is in the hash index
// exactly when it carries a hash, and a hash maps to at most one block. Free blocks keep their hash (and
// stay findable by lookup()) until allocate() reuses them. The free queue is the eviction order: blocks
// without a hash go to its front (nothing to lose), hashed ones to its back (least recently used first).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace gptoss {

class BlockPool {
public:
    explicit BlockPool(int num_blocks);

    int num_blocks() const { return num_blocks_; }
    int num_free_blocks() const { return num_free_; }
    int num_used_blocks() const { return num_blocks_ - num_free_; }
    int num_cached_blocks() const { return static_cast<int>(index_.size()); }
    int ref_count(int32_t id) const { return blocks_.at(size_t(id)).ref_count; }

    // Takes n blocks from the front of the free queue (dropping the hash of a reused cached block) and
    // appends their ids to `out`, each with ref_count 1. Requires n <= num_free_blocks().
    void allocate(int n, std::vector<int32_t>& out);
    // Adds a reference to a block found by lookup(), taking it off the free queue when it was free.
    void touch(int32_t id);
    // Drops one reference; at zero the block joins the free queue.
    void release(int32_t id);

    // The block holding K/V for this chained hash, if any (in use or free).
    std::optional<int32_t> lookup(uint64_t hash) const;
    // Enters a fully computed block in the index. No-op when the block already has a hash or another block
    // already holds this one (two sequences computed the same prefix at once).
    void register_hash(int32_t id, uint64_t hash);

    // Checks every invariant above plus ref_count == expected_ref_counts[id] for all blocks.
    // Returns an empty string when consistent, else a description of the first problem.
    std::string verify(std::span<const int> expected_ref_counts) const;

private:
    struct Block {
        int ref_count = 0;
        bool has_hash = false;
        uint64_t hash = 0;
        int32_t prev = -1, next = -1;  // free-queue links (sentinel = num_blocks_)
    };
    void unlink(int32_t id);
    void link_before(int32_t id, int32_t at);

    int num_blocks_;
    int num_free_;
    std::vector<Block> blocks_;  // [num_blocks + 1]; the last one is the free queue's sentinel
    std::unordered_map<uint64_t, int32_t> index_;
};

}  // namespace gptoss
