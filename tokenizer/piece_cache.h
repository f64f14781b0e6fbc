// PieceCache: BPE results of recently seen pieces that are not tokens themselves (words the vocabulary
// splits, long numbers, CJK runs), so a repeated piece costs one lookup instead of a merge loop.
//
// Safe under concurrent encode calls: 32 shards, each a small open-addressing table with its own mutex (held
// for a lookup or an insert only). A shard that fills up is cleared, so memory stays bounded (about 8 MB).
// Keys and ids live in one byte arena per shard: no allocation per entry.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gptoss {

class PieceCache {
public:
    static constexpr size_t kMaxPieceBytes = 64;  // longer pieces are rare and not worth keeping

    // `hash` is any well-mixed 64-bit hash of `piece` (the rank table's). Appends the cached ids of `piece`
    // to `out` and returns true, or returns false.
    bool find(std::string_view piece, uint64_t hash, std::vector<int32_t>& out) const;
    void insert(std::string_view piece, uint64_t hash, std::span<const int32_t> ids) const;

private:
    static constexpr size_t kNumShards = 32;
    static constexpr size_t kSlotsPerShard = 4096;       // power of two
    static constexpr size_t kMaxEntriesPerShard = 2048;  // load factor <= 0.5
    static constexpr size_t kMaxArenaBytes = 192 * 1024;

    struct Entry {
        uint64_t hash = 0;    // 0: empty (stored hashes are forced non-zero)
        uint32_t offset = 0;  // into the arena: key bytes, then num_ids int32 ids
        uint16_t key_length = 0;
        uint16_t num_ids = 0;
    };
    struct Shard {
        std::mutex mutex;
        std::vector<Entry> slots;  // [kSlotsPerShard], allocated on first insert
        std::string arena;
        size_t num_entries = 0;
    };
    static uint64_t stored_hash(uint64_t hash) { return hash | 1; }
    Shard& shard_for(uint64_t hash) const { return shards_[(hash >> 40) % kNumShards]; }

    mutable std::array<Shard, kNumShards> shards_;
};

}  // namespace gptoss
