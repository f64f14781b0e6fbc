#include "tokenizer/piece_cache.h"

#include <cstring>

namespace gptoss {

bool PieceCache::find(std::string_view piece, uint64_t hash, std::vector<int32_t>& out) const {
    if (piece.size() > kMaxPieceBytes) return false;
    Shard& shard = shard_for(hash);
    const uint64_t h = stored_hash(hash);
    std::lock_guard lock(shard.mutex);
    if (shard.slots.empty()) return false;
    for (size_t slot = h & (kSlotsPerShard - 1);; slot = (slot + 1) & (kSlotsPerShard - 1)) {
        const Entry& e = shard.slots[slot];
        if (e.hash == 0) return false;
        if (e.hash == h && e.key_length == piece.size() &&
            std::memcmp(shard.arena.data() + e.offset, piece.data(), piece.size()) == 0) {
            const size_t before = out.size();
            out.resize(before + e.num_ids);
            std::memcpy(out.data() + before, shard.arena.data() + e.offset + e.key_length,
                        e.num_ids * sizeof(int32_t));
            return true;
        }
    }
}

void PieceCache::insert(std::string_view piece, uint64_t hash, std::span<const int32_t> ids) const {
    if (piece.size() > kMaxPieceBytes || ids.size() > piece.size()) return;
    Shard& shard = shard_for(hash);
    const uint64_t h = stored_hash(hash);
    std::lock_guard lock(shard.mutex);
    const size_t bytes = piece.size() + ids.size_bytes();
    if (shard.slots.empty() || shard.num_entries >= kMaxEntriesPerShard ||
        shard.arena.size() + bytes > kMaxArenaBytes) {
        shard.slots.assign(kSlotsPerShard, Entry{});
        shard.arena.clear();
        shard.arena.reserve(kMaxArenaBytes);
        shard.num_entries = 0;
    }
    size_t slot = h & (kSlotsPerShard - 1);
    for (;; slot = (slot + 1) & (kSlotsPerShard - 1)) {
        const Entry& e = shard.slots[slot];
        if (e.hash == 0) break;
        if (e.hash == h && e.key_length == piece.size() &&
            std::memcmp(shard.arena.data() + e.offset, piece.data(), piece.size()) == 0) {
            return;  // another thread inserted it meanwhile
        }
    }
    const auto offset = static_cast<uint32_t>(shard.arena.size());
    shard.arena.append(piece);
    shard.arena.append(reinterpret_cast<const char*>(ids.data()), ids.size_bytes());
    shard.slots[slot] =
        Entry{h, offset, static_cast<uint16_t>(piece.size()), static_cast<uint16_t>(ids.size())};
    ++shard.num_entries;
}

}  // namespace gptoss
