// RankTable: token bytes -> rank (= token id) for the mergeable tokens, and rank -> bytes.
//
// The hot lookup of the encoder (every piece and every candidate merge asks it), so it is a flat
// open-addressing table of 16-byte slots that holds the first 8 bytes of each token inline: tokens of up to 8
// bytes (most of them) are found without touching the byte arena. Immutable after construction.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace gptoss {

class RankTable {
public:
    RankTable() = default;
    // tokens[rank] = the token's bytes; an empty string marks an unused rank. Throws TokenizerError on a
    // duplicate token.
    explicit RankTable(const std::vector<std::string_view>& tokens);

    // The rank of `bytes`, or -1 when they are not a token.
    int32_t find(const char* bytes, size_t length) const {
        const uint64_t head = load_head(bytes, length);
        const uint64_t hash = hash_bytes(head, bytes, length);
        for (size_t slot = hash >> shift_;; slot = (slot + 1) & mask_) {
            const Slot& s = slots_[slot];
            if (s.rank < 0) return -1;
            if (s.head == head && s.length == length &&
                (length <= 8 || std::memcmp(token_data(s.rank) + 8, bytes + 8, length - 8) == 0)) {
                return s.rank;
            }
        }
    }
    int32_t find(std::string_view bytes) const { return find(bytes.data(), bytes.size()); }

    // Bytes of `rank`; empty when the rank is unused. rank must be in [0, num_ranks()).
    std::string_view bytes(int32_t rank) const {
        return {arena_.data() + offsets_[rank], offsets_[rank + 1] - offsets_[rank]};
    }
    int32_t num_ranks() const { return static_cast<int32_t>(offsets_.empty() ? 0 : offsets_.size() - 1); }

private:
    struct Slot {
        uint64_t head;    // first min(8, length) bytes, zero-padded, little-endian
        int32_t rank;     // -1: empty slot
        uint32_t length;  // of the token, in bytes
    };

    static uint64_t load_head(const char* bytes, size_t length) {
        uint64_t head = 0;
        std::memcpy(&head, bytes, length < 8 ? length : 8);
        return head;
    }
    // Hashes all bytes; `head` holds the first 8.
    static uint64_t hash_bytes(uint64_t head, const char* bytes, size_t length) {
        uint64_t h = (head ^ (length * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
        for (size_t i = 8; i < length; i += 8) {
            uint64_t word = 0;
            std::memcpy(&word, bytes + i, length - i < 8 ? length - i : 8);
            h = ((h ^ (h >> 31)) + word) * 0x94D049BB133111EBULL;
        }
        return h ^ (h >> 29);
    }
    const char* token_data(int32_t rank) const { return arena_.data() + offsets_[rank]; }

    std::vector<Slot> slots_;
    uint64_t mask_ = 0;
    int shift_ = 64;
    std::string arena_;              // token bytes, in rank order
    std::vector<uint32_t> offsets_;  // [num_ranks + 1] into arena_
};

}  // namespace gptoss
