#include "engine/kv_cache_manager.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/sampler.h"

namespace gptoss {
namespace {

int ceil_div(int a, int b) {
    return (a + b - 1) / b;
}

// Chained block hash: the K/V of a block depend on every token up to its end, so the hash of block b mixes
// the hash of block b - 1 with b's own tokens. 64 bits: a collision among even a million cached blocks has
// odds of about 1e-8.
uint64_t hash_block(uint64_t parent, std::span<const int32_t> tokens) {
    uint64_t h = splitmix64(parent ^ 0x6b76636163686521ull);
    for (int32_t t : tokens) h = splitmix64(h ^ static_cast<uint32_t>(t));
    return h;
}

}  // namespace

KvCacheManager::KvCacheManager(const KvCacheSpec& spec)
    : spec_(spec),
      full_(spec.has_full_layers ? spec.num_full_blocks : 0),
      window_(spec.sliding_window > 0 ? spec.num_window_blocks : 0) {
    if (spec.block_size <= 0) throw std::invalid_argument("KvCacheManager: block_size must be positive");
    if (spec.sliding_window < 0) throw std::invalid_argument("KvCacheManager: negative sliding window");
}

int KvCacheManager::first_window_block(int position) const {
    return std::max(0, position - spec_.sliding_window + 1) / spec_.block_size;
}

int KvCacheManager::max_window_blocks_per_sequence(int chunk) const {
    if (!has_window_pool()) return 0;
    return ceil_div(spec_.sliding_window - 1 + chunk, spec_.block_size) + 1;
}

void KvCacheManager::ensure_block_hashes(Sequence& seq, int num_blocks) const {
    const int B = spec_.block_size;
    auto& hashes = seq.block_hashes;
    while (static_cast<int>(hashes.size()) < num_blocks) {
        const size_t b = hashes.size();
        const uint64_t parent = b == 0 ? 0 : hashes.back();
        hashes.push_back(
            hash_block(parent, std::span<const int32_t>(seq.token_ids).subspan(b * size_t(B), size_t(B))));
    }
}

PrefixHit KvCacheManager::find_cached_prefix(Sequence& seq) {
    PrefixHit hit;
    if (!spec_.enable_prefix_caching || seq.num_tokens() == 0) return hit;
    if (!seq.blocks.empty()) throw std::logic_error("find_cached_prefix: the sequence already holds blocks");
    const int B = spec_.block_size;
    // At least the last token is computed: its logits give the next token.
    const int max_blocks = (seq.num_tokens() - 1) / B;
    ensure_block_hashes(seq, max_blocks);

    // Full pool: left to right.
    int num_full_hit = max_blocks;
    if (spec_.has_full_layers) {
        num_full_hit = 0;
        while (num_full_hit < max_blocks && full_.lookup(seq.block_hashes[size_t(num_full_hit)]))
            ++num_full_hit;
    }
    // Windowed pool: a hit of k blocks needs blocks [first_window_block(k * B), k) cached. Track the run of
    // consecutive cached blocks ending at k - 1.
    int k_best = num_full_hit;
    if (has_window_pool()) {
        k_best = 0;
        int run = 0;
        for (int b = 0; b < num_full_hit; ++b) {
            run = window_.lookup(seq.block_hashes[size_t(b)]) ? run + 1 : 0;
            const int k = b + 1;
            if (run >= k - first_window_block(k * B)) k_best = k;
        }
    }
    hit.num_tokens = k_best * B;
    if (spec_.has_full_layers) {
        for (int b = 0; b < k_best; ++b)
            hit.full_blocks.push_back(*full_.lookup(seq.block_hashes[size_t(b)]));
    }
    if (has_window_pool()) {
        for (int b = first_window_block(hit.num_tokens); b < k_best; ++b) {
            hit.window_blocks.push_back(*window_.lookup(seq.block_hashes[size_t(b)]));
        }
    }
    return hit;
}

void KvCacheManager::release_window_behind(Sequence& seq, int position) {
    SequenceBlocks& blocks = seq.blocks;
    const int first = std::min(first_window_block(position), static_cast<int>(blocks.window.size()));
    for (int b = blocks.window_first; b < first; ++b) {
        window_.release(blocks.window[size_t(b)]);
        blocks.window[size_t(b)] = kNoBlock;
    }
    blocks.window_first = std::max(blocks.window_first, first);
}

bool KvCacheManager::allocate_slots(Sequence& seq, int num_new_tokens, const PrefixHit* hit) {
    const int B = spec_.block_size;
    SequenceBlocks& blocks = seq.blocks;
    if (hit != nullptr && !blocks.empty())
        throw std::logic_error("allocate_slots: admitting a sequence with blocks");
    const int start = hit != nullptr ? hit->num_tokens : seq.num_computed_tokens;
    const int end_block = ceil_div(start + num_new_tokens, B);  // logical blocks needed after this chunk
    if (hit == nullptr && has_window_pool()) release_window_behind(seq, start);

    // Count new blocks, plus cached free blocks the hit takes off the free queues.
    int num_full_new = 0, num_full_revived = 0;
    if (spec_.has_full_layers) {
        const int held =
            hit != nullptr ? static_cast<int>(hit->full_blocks.size()) : static_cast<int>(blocks.full.size());
        num_full_new = std::max(0, end_block - held);
        if (hit != nullptr) {
            for (int32_t id : hit->full_blocks) num_full_revived += full_.ref_count(id) == 0;
        }
    }
    int num_window_new = 0, num_window_revived = 0;
    const int first = first_window_block(start);
    if (has_window_pool()) {
        const int held_end = hit != nullptr ? hit->num_tokens / B : static_cast<int>(blocks.window.size());
        num_window_new = std::max(0, end_block - std::max(held_end, first));
        if (hit != nullptr) {
            for (int32_t id : hit->window_blocks) num_window_revived += window_.ref_count(id) == 0;
        }
    }
    if (num_full_new + num_full_revived > full_.num_free_blocks() ||
        num_window_new + num_window_revived > window_.num_free_blocks()) {
        return false;
    }

    if (hit != nullptr) {
        for (int32_t id : hit->full_blocks) full_.touch(id);
        for (int32_t id : hit->window_blocks) window_.touch(id);
        blocks.full = hit->full_blocks;
        if (has_window_pool()) {
            blocks.window.assign(size_t(first), kNoBlock);
            blocks.window.insert(blocks.window.end(), hit->window_blocks.begin(), hit->window_blocks.end());
            blocks.window_first = first;
        }
        blocks.num_registered = hit->num_tokens / B;
        if (spec_.enable_prefix_caching) {
            prefix_cache_queries_ += uint64_t(seq.num_tokens());
            prefix_cache_hits_ += uint64_t(hit->num_tokens);
        }
    }
    full_.allocate(num_full_new, blocks.full);
    // Windowed blocks are appended after those held: blocks.window.size() >= first here, since a running
    // sequence holds blocks up to ceil(start / B) and an admitted one up to its hit.
    window_.allocate(num_window_new, blocks.window);
    return true;
}

void KvCacheManager::on_tokens_computed(Sequence& seq) {
    const int B = spec_.block_size;
    SequenceBlocks& blocks = seq.blocks;
    if (spec_.enable_prefix_caching) {
        const int num_complete = seq.num_computed_tokens / B;
        ensure_block_hashes(seq, num_complete);
        for (int b = blocks.num_registered; b < num_complete; ++b) {
            const uint64_t hash = seq.block_hashes[size_t(b)];
            if (spec_.has_full_layers) full_.register_hash(blocks.full[size_t(b)], hash);
            if (has_window_pool() && b >= blocks.window_first && b < static_cast<int>(blocks.window.size())) {
                window_.register_hash(blocks.window[size_t(b)], hash);
            }
        }
        blocks.num_registered = std::max(blocks.num_registered, num_complete);
    }
    if (has_window_pool()) release_window_behind(seq, seq.num_computed_tokens);
}

void KvCacheManager::release_tail(Sequence& seq) {
    const size_t keep = size_t(ceil_div(seq.num_tokens(), spec_.block_size));
    SequenceBlocks& blocks = seq.blocks;
    while (blocks.full.size() > keep) {
        full_.release(blocks.full.back());
        blocks.full.pop_back();
    }
    while (blocks.window.size() > keep) {
        if (static_cast<int>(blocks.window.size()) > blocks.window_first)
            window_.release(blocks.window.back());
        blocks.window.pop_back();
    }
}

void KvCacheManager::free(Sequence& seq) {
    SequenceBlocks& blocks = seq.blocks;
    for (auto it = blocks.full.rbegin(); it != blocks.full.rend(); ++it) full_.release(*it);
    for (int b = static_cast<int>(blocks.window.size()) - 1; b >= blocks.window_first; --b) {
        window_.release(blocks.window[size_t(b)]);
    }
    blocks = SequenceBlocks{};
}

KvUsage KvCacheManager::usage() const {
    KvUsage u;
    u.num_full_blocks = full_.num_blocks();
    u.num_full_blocks_used = full_.num_used_blocks();
    u.num_window_blocks = window_.num_blocks();
    u.num_window_blocks_used = window_.num_used_blocks();
    u.prefix_cache_queries = prefix_cache_queries_;
    u.prefix_cache_hits = prefix_cache_hits_;
    return u;
}

std::string KvCacheManager::verify(std::span<const Sequence* const> holders) const {
    const int B = spec_.block_size;
    std::vector<int> full_refs(size_t(full_.num_blocks()), 0);
    std::vector<int> window_refs(size_t(window_.num_blocks()), 0);
    for (const Sequence* seq : holders) {
        const SequenceBlocks& blocks = seq->blocks;
        auto where = [&](const char* what) { return fmt::format("sequence {}: {}", seq->id, what); };
        if (blocks.empty()) continue;
        const int num_blocks =
            static_cast<int>(spec_.has_full_layers ? blocks.full.size() : blocks.window.size());
        // Between schedule() and update() a sequence may also hold pages for its draft tokens.
        const int most_tokens = seq->num_tokens() + static_cast<int>(seq->draft_tokens.size());
        if (num_blocks < ceil_div(seq->num_computed_tokens, B) || num_blocks > ceil_div(most_tokens, B)) {
            return where("block list length does not match its token counts");
        }
        for (int32_t id : blocks.full) {
            if (id < 0 || id >= full_.num_blocks()) return where("full block id out of range");
            ++full_refs[size_t(id)];
        }
        if (!has_window_pool()) continue;
        if (spec_.has_full_layers && blocks.window.size() != blocks.full.size()) {
            return where("windowed and full block lists differ in length");
        }
        if (blocks.window_first != first_window_block(seq->num_computed_tokens)) {
            return where("windowed blocks behind the window were not released");
        }
        for (int b = 0; b < static_cast<int>(blocks.window.size()); ++b) {
            const int32_t id = blocks.window[size_t(b)];
            if (b < blocks.window_first) {
                if (id != kNoBlock) return where("windowed block before window_first");
                continue;
            }
            if (id < 0 || id >= window_.num_blocks()) return where("windowed block id out of range");
            ++window_refs[size_t(id)];
        }
    }
    if (std::string e = full_.verify(full_refs); !e.empty()) return "full pool: " + e;
    if (std::string e = window_.verify(window_refs); !e.empty()) return "windowed pool: " + e;
    return {};
}

}  // namespace gptoss
