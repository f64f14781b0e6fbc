#include "tokenizer/rank_table.h"

#include <bit>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <fmt/format.h>

#include "tokenizer/tokenizer.h"

namespace gptoss {

namespace {

constexpr size_t kHugePageBytes = 2 << 20;

}  // namespace

std::unique_ptr<RankTable::Slot[], RankTable::FreeSlots> RankTable::allocate_slots(size_t capacity) {
    const size_t bytes = (capacity * sizeof(Slot) + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void* memory = nullptr;
    if (posix_memalign(&memory, kHugePageBytes, bytes) != 0) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE)
    madvise(memory, bytes, MADV_HUGEPAGE);  // a hint: without huge pages the table works the same
#endif
    auto* slots = static_cast<Slot*>(memory);
    std::uninitialized_fill_n(slots, capacity, Slot{0, -1, 0});
    return std::unique_ptr<Slot[], FreeSlots>(slots);
}

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
    slots_ = allocate_slots(capacity);
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    for (size_t rank = 0; rank < tokens.size(); ++rank) {
        const std::string_view t = bytes(static_cast<int32_t>(rank));
        if (t.empty()) continue;
        // A duplicate would sit on the same probe sequence, before the first empty slot.
        const uint64_t head = load_head(t.data(), t.size());
        size_t slot = hash_bytes(head, t.data(), t.size()) >> shift_;
        for (; slots_[slot].rank >= 0; slot = (slot + 1) & mask_) {
            const Slot& s = slots_[slot];
            if (s.head == head && s.length == t.size() && bytes(s.rank) == t) {
                throw TokenizerError(
                    fmt::format("vocabulary lists the same token bytes twice (ids {} and {})", s.rank, rank));
            }
        }
        slots_[slot] = Slot{head, static_cast<int32_t>(rank), static_cast<uint32_t>(t.size())};
    }
    pair_ranks_.assign(65536, -1);
    for (size_t rank = 0; rank < tokens.size(); ++rank) {
        const std::string_view t = bytes(static_cast<int32_t>(rank));
        if (t.size() == 2)
            pair_ranks_[static_cast<unsigned char>(t[0]) << 8 | static_cast<unsigned char>(t[1])] =
                static_cast<int32_t>(rank);
    }
}

}  // namespace gptoss
