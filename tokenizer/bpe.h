// Byte-level BPE of one pre-tokenized piece (tiktoken's algorithm): start from single bytes and repeatedly
// merge the adjacent pair whose concatenated bytes have the lowest rank (leftmost on ties) until no adjacent
// concatenation is a token. There is no merges list: the rank of the merged bytes is the priority.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/rank_table.h"

namespace gptoss {

// Appends the ids of `piece` (non-empty; every single byte must be a token) to `out`. Short pieces use the
// quadratic scan of tiktoken, long ones a heap, so a megabyte-long piece costs O(n log n).
void byte_pair_encode(const RankTable& ranks, std::string_view piece, std::vector<int32_t>& out);

// The merge loop alone, for tests: same ids as byte_pair_encode, via the simple (small == true) or the heap
// path regardless of the piece's length.
void byte_pair_encode_with(const RankTable& ranks, std::string_view piece, bool small, std::vector<int32_t>& out);

// Results of byte_pair_encode for recently seen pieces that were not tokens themselves (words the vocabulary
// splits, long numbers, CJK runs). Safe under concurrent encode calls: sharded, one mutex per shard; a shard
// that fills up is cleared, so memory stays bounded.
class PieceCache {
public:
    static constexpr size_t kMaxPieceBytes = 64;  // longer pieces are rare and not worth keeping

    // Appends the cached ids of `piece` to `out` and returns true, or returns false.
    bool find(std::string_view piece, std::vector<int32_t>& out) const;
    void insert(std::string_view piece, std::span<const int32_t> ids) const;

private:
    static constexpr size_t kNumShards = 32;
    static constexpr size_t kMaxEntriesPerShard = 4096;

    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    struct Shard {
        std::mutex mutex;
        std::unordered_map<std::string, std::vector<int32_t>, Hash, std::equal_to<>> entries;
    };
    Shard& shard_for(std::string_view piece, size_t& hash) const;

    mutable std::array<Shard, kNumShards> shards_;
};

}  // namespace gptoss
