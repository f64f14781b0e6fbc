#include "tokenizer/rank_table.h"

#include <bit>

#include <fmt/format.h>

#include "tokenizer/tokenizer.h"

namespace gptoss {

RankTable::RankTable(const std::vector<std::string_view>& tokens) {
    size_t total = 0;
    for (auto t : tokens) total += t.size();
    arena_.reserve(total);
    offsets_.reserve(tokens.size() + 1);
    offsets_.push_back(0);
    for (auto t : tokens) {
        arena_.append(t);
        offsets_.push_back(static_cast<uint32_t>(arena_.size()));
    }
    // Load factor <= 0.5 keeps probe sequences short; the hash's top bits pick the slot.
    const size_t capacity = std::bit_ceil(std::max<size_t>(16, tokens.size() * 2));
    slots_.assign(capacity, Slot{0, -1, 0});
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    for (size_t rank = 0; rank < tokens.size(); ++rank) {
        const std::string_view t = bytes(static_cast<int32_t>(rank));
        if (t.empty()) continue;
        if (int32_t existing = find(t); existing >= 0) {
            throw TokenizerError(
                fmt::format("vocabulary lists the same token bytes twice (ids {} and {})", existing, rank));
        }
        const uint64_t head = load_head(t.data(), t.size());
        size_t slot = hash_bytes(head, t.data(), t.size()) >> shift_;
        while (slots_[slot].rank >= 0) slot = (slot + 1) & mask_;
        slots_[slot] = Slot{head, static_cast<int32_t>(rank), static_cast<uint32_t>(t.size())};
    }
}

}  // namespace gptoss
