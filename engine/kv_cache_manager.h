// KvCacheManager: paged KV bookkeeping over two BlockPools, one for the full-attention layers and one for the
// sliding-window layers (the runner stores the K/V; this class only hands out page ids).
//
// A sequence at position n (its next token to compute) needs, for a chunk [n, n + C):
//   full pool:     logical blocks [0, ceil((n + C) / B))
//   windowed pool: logical blocks [first_window_block(n), ceil((n + C) / B)), where
//                  first_window_block(n) = max(0, n - W + 1) / B, the first block a sliding-layer query at
//                  position >= n can see (keys p - W + 1 .. p).
// So a sequence holds at most ceil((W - 1 + C) / B) + 1 windowed blocks, during chunked prefill as much as
// while decoding: windowed blocks that fall wholly behind the window are released as the sequence advances,
// and blocks the window no longer needs are never allocated.
//
// Mutation happens only in allocate_slots() (all or nothing across both pools), on_tokens_computed() and
// free(). Prefix caching (when enabled) indexes every fully computed block by a chained hash of the tokens up
// to its end; a hit is the longest prefix whose full-pool blocks are all cached and whose windowed blocks are
// cached where the window needs them at the hit point; it never covers the last token (whose logits are
// needed) and, being whole blocks, new tokens never write into a shared block.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/block_pool.h"
#include "engine/sequence.h"

namespace gptoss {

struct KvCacheSpec {
    int block_size = 16;
    int num_full_blocks = 0;
    int num_window_blocks = 0;
    bool has_full_layers = true;  // false: the model has no full-attention layer (no full pool)
    int sliding_window = 0;       // W (keys visible to a query, itself included); 0 = no sliding layers
    bool enable_prefix_caching = true;
};

// The cached prefix found for a sequence that holds no blocks yet (see find_cached_prefix).
struct PrefixHit {
    int num_tokens = 0;                  // multiple of the block size
    std::vector<int32_t> full_blocks;    // logical blocks [0, num_tokens / B)
    std::vector<int32_t> window_blocks;  // logical blocks [first_window_block(num_tokens), num_tokens / B)
};

struct KvUsage {
    int num_full_blocks = 0, num_full_blocks_used = 0;
    int num_window_blocks = 0, num_window_blocks_used = 0;
    uint64_t prefix_cache_queries = 0;  // tokens looked up at admission
    uint64_t prefix_cache_hits = 0;     // of which found cached
};

class KvCacheManager {
public:
    explicit KvCacheManager(const KvCacheSpec& spec);

    const KvCacheSpec& spec() const { return spec_; }
    bool has_window_pool() const { return spec_.sliding_window > 0; }
    // First logical block a sliding-layer query at a position >= `position` can see.
    int first_window_block(int position) const;
    // Most windowed blocks a sequence can hold while computing a chunk of `chunk` tokens.
    int max_window_blocks_per_sequence(int chunk) const;

    // Longest usable cached prefix of the sequence's tokens (empty when caching is off). Does not mutate the
    // pools; allocate_slots() takes the references. The sequence must hold no blocks.
    PrefixHit find_cached_prefix(Sequence& seq);

    // Makes room for the sequence's next num_new_tokens tokens: from hit->num_tokens for a sequence being
    // admitted (hit may be empty), else from seq.num_computed_tokens. All or nothing: returns false and
    // allocates nothing when either pool lacks free blocks. Windowed blocks already behind the window are
    // released first either way (no future step of this sequence can see them).
    bool allocate_slots(Sequence& seq, int num_new_tokens, const PrefixHit* hit = nullptr);

    // After seq.num_computed_tokens advanced: indexes newly completed blocks for prefix caching, then
    // releases windowed blocks behind the window (released blocks stay in the cache index while free).
    void on_tokens_computed(Sequence& seq);

    // Releases the blocks past ceil(num_tokens / block_size): those allocated for draft tokens that were
    // rejected (their slots were never computed from the sequence's real tokens and are not cached).
    void release_tail(Sequence& seq);

    // Releases every block of the sequence (tail first, so a prefix's first blocks are evicted last).
    void free(Sequence& seq);

    KvUsage usage() const;

    // Checks both pools against the block lists of `holders` (every live sequence): ref counts, free queues,
    // hash index, and each sequence's windowed bound. Empty string when consistent.
    std::string verify(std::span<const Sequence* const> holders) const;

private:
    void release_window_behind(Sequence& seq, int position);
    void ensure_block_hashes(Sequence& seq, int num_blocks) const;

    KvCacheSpec spec_;
    BlockPool full_;
    BlockPool window_;
    uint64_t prefix_cache_queries_ = 0;
    uint64_t prefix_cache_hits_ = 0;
};

}  // namespace gptoss
