// RankTable: token bytes -> rank (= token id) for the mergeable tokens, and rank -> bytes.
//
// The hot lookup of the encoder (every piece and every candidate merge asks it), so it is a flat
// open-addressing table of 16-byte slots that holds the first 8 bytes of each token inline: tokens of up to 8
// bytes (most of them) are found without touching the byte arena. Immutable after construction.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gptoss {

class RankTable {
public:
    // tokens[rank] = the token's bytes; an empty string marks an unused rank. Throws TokenizerError on a
    // duplicate token.
    explicit RankTable(const std::vector<std::string_view>& tokens);

    // The rank of `bytes`, or -1 when they are not a token.
    int32_t find(const char* bytes, size_t length) const {
        const uint64_t head = load_head(bytes, length);
        return find_hashed(bytes, length, head, hash_bytes(head, bytes, length));
    }
    int32_t find(std::string_view bytes) const { return find(bytes.data(), bytes.size()); }

    // Batched lookups: prepare() hashes a key and prefetches its slot, find(Key) resolves it later, so the
    // memory latency of many lookups overlaps (the table is far larger than the CPU caches).
    struct Key {
        const char* bytes;
        size_t length;
        uint64_t head;
        uint64_t hash;
    };
    Key prepare(std::string_view bytes) const {
        const uint64_t head = load_head(bytes.data(), bytes.size());
        const Key key{bytes.data(), bytes.size(), head, hash_bytes(head, bytes.data(), bytes.size())};
        __builtin_prefetch(&slots_[key.hash >> shift_]);
        return key;
    }
    int32_t find(const Key& key) const { return find_hashed(key.bytes, key.length, key.head, key.hash); }

    // The rank of a two-byte token (a dense 64K table: the first step of every BPE looks up all byte pairs).
    int32_t find_pair(char first, char second) const {
        return pair_ranks_[static_cast<unsigned char>(first) << 8 | static_cast<unsigned char>(second)];
    }

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

    // Up to 8 bytes as a little-endian word, zero-padded, without a variable-length memcpy call and without
    // reading past the end (overlapping loads OR the same bytes into the same places).
    static uint64_t load_partial(const char* p, size_t n) {
        if (n >= 8) return load64(p);
        if (n >= 4) return load32(p) | (static_cast<uint64_t>(load32(p + n - 4)) << (8 * (n - 4)));
        if (n == 0) return 0;
        const auto byte = [&](size_t i) { return static_cast<uint64_t>(static_cast<unsigned char>(p[i])); };
        return byte(0) | (byte(n / 2) << (8 * (n / 2))) | (byte(n - 1) << (8 * (n - 1)));
    }
    static uint64_t load64(const char* p) {
        uint64_t v;
        std::memcpy(&v, p, 8);
        return v;
    }
    static uint32_t load32(const char* p) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
    }
    static uint64_t load_head(const char* bytes, size_t length) {
        return load_partial(bytes, length < 8 ? length : 8);
    }
    // Hashes all bytes; `head` holds the first 8.
    static uint64_t hash_bytes(uint64_t head, const char* bytes, size_t length) {
        uint64_t h = (head ^ (length * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
        for (size_t i = 8; i < length; i += 8) {
            h = ((h ^ (h >> 31)) + load_partial(bytes + i, length - i < 8 ? length - i : 8)) *
                0x94D049BB133111EBULL;
        }
        return h ^ (h >> 29);
    }
    int32_t find_hashed(const char* bytes, size_t length, uint64_t head, uint64_t hash) const {
        for (size_t slot = hash >> shift_;; slot = (slot + 1) & mask_) {
            const Slot& s = slots_[slot];
            if (s.rank < 0) return -1;
            if (s.head == head && s.length == length &&
                (length <= 8 || std::memcmp(token_data(s.rank) + 8, bytes + 8, length - 8) == 0)) {
                return s.rank;
            }
        }
    }
    const char* token_data(int32_t rank) const { return arena_.data() + offsets_[rank]; }

    // The slots are page-aligned and, on Linux, backed by transparent huge pages where the system allows it:
    // lookups land on random slots of a multi-megabyte table, and 4 KiB pages would make most of them TLB
    // misses.
    struct FreeSlots {
        void operator()(Slot* p) const { std::free(p); }
    };
    std::unique_ptr<Slot[], FreeSlots> slots_;
    static std::unique_ptr<Slot[], FreeSlots> allocate_slots(size_t capacity);
    std::vector<int32_t> pair_ranks_;  // [65536] rank of bytes (i >> 8, i & 255), or -1
    uint64_t mask_ = 0;
    int shift_ = 64;
    std::string arena_;              // token bytes, in rank order
    std::vector<uint32_t> offsets_;  // [num_ranks + 1] into arena_
};

}  // namespace gptoss
