#include "engine/block_pool.h"

#include <stdexcept>

#include <fmt/format.h>

namespace gptoss {

BlockPool::BlockPool(int num_blocks)
    : num_blocks_(num_blocks), num_free_(num_blocks), blocks_(size_t(num_blocks) + 1) {
    if (num_blocks < 0) throw std::invalid_argument("BlockPool: negative block count");
    const int32_t sentinel = num_blocks_;
    blocks_[size_t(sentinel)].prev = blocks_[size_t(sentinel)].next = sentinel;
    for (int32_t id = 0; id < num_blocks_; ++id) link_before(id, sentinel);
}

void BlockPool::unlink(int32_t id) {
    Block& b = blocks_[size_t(id)];
    blocks_[size_t(b.prev)].next = b.next;
    blocks_[size_t(b.next)].prev = b.prev;
    b.prev = b.next = -1;
}

void BlockPool::link_before(int32_t id, int32_t at) {
    Block& b = blocks_[size_t(id)];
    Block& after = blocks_[size_t(at)];
    b.prev = after.prev;
    b.next = at;
    blocks_[size_t(after.prev)].next = id;
    after.prev = id;
}

void BlockPool::allocate(int n, std::vector<int32_t>& out) {
    if (n < 0 || n > num_free_) {
        throw std::logic_error(fmt::format("BlockPool::allocate: {} blocks asked, {} free", n, num_free_));
    }
    const int32_t sentinel = num_blocks_;
    for (int i = 0; i < n; ++i) {
        const int32_t id = blocks_[size_t(sentinel)].next;
        unlink(id);
        Block& b = blocks_[size_t(id)];
        if (b.has_hash) {
            index_.erase(b.hash);
            b.has_hash = false;
        }
        b.ref_count = 1;
        out.push_back(id);
    }
    num_free_ -= n;
}

void BlockPool::touch(int32_t id) {
    Block& b = blocks_.at(size_t(id));
    if (b.ref_count == 0) {
        unlink(id);
        --num_free_;
    }
    ++b.ref_count;
}

void BlockPool::release(int32_t id) {
    Block& b = blocks_.at(size_t(id));
    if (b.ref_count <= 0) throw std::logic_error(fmt::format("BlockPool::release: block {} is free", id));
    if (--b.ref_count > 0) return;
    const int32_t sentinel = num_blocks_;
    link_before(id, b.has_hash ? sentinel : blocks_[size_t(sentinel)].next);
    ++num_free_;
}

std::optional<int32_t> BlockPool::lookup(uint64_t hash) const {
    auto it = index_.find(hash);
    if (it == index_.end()) return std::nullopt;
    return it->second;
}

void BlockPool::register_hash(int32_t id, uint64_t hash) {
    Block& b = blocks_.at(size_t(id));
    if (b.has_hash || index_.count(hash) != 0) return;
    b.has_hash = true;
    b.hash = hash;
    index_.emplace(hash, id);
}

std::string BlockPool::verify(std::span<const int> expected_ref_counts) const {
    if (expected_ref_counts.size() != size_t(num_blocks_)) return "expected_ref_counts has the wrong size";
    int num_free = 0;
    for (int32_t id = 0; id < num_blocks_; ++id) {
        const Block& b = blocks_[size_t(id)];
        if (b.ref_count != expected_ref_counts[size_t(id)]) {
            return fmt::format("block {}: ref_count {} but {} holders", id, b.ref_count,
                               expected_ref_counts[size_t(id)]);
        }
        if (b.ref_count == 0) ++num_free;
        if ((b.ref_count == 0) != (b.prev >= 0))
            return fmt::format("block {}: free-queue membership wrong", id);
        if (b.has_hash) {
            auto it = index_.find(b.hash);
            if (it == index_.end() || it->second != id) return fmt::format("block {}: hash not indexed", id);
        }
    }
    if (num_free != num_free_)
        return fmt::format("num_free {} but {} blocks have ref_count 0", num_free_, num_free);
    // Walk the queue: it must hold exactly the free blocks.
    int walked = 0;
    for (int32_t id = blocks_[size_t(num_blocks_)].next; id != num_blocks_; id = blocks_[size_t(id)].next) {
        if (id < 0 || id >= num_blocks_ || ++walked > num_free_) return "free queue is corrupt";
        if (blocks_[size_t(blocks_[size_t(id)].next)].prev != id) return "free queue links are inconsistent";
    }
    if (walked != num_free_) return fmt::format("free queue holds {} blocks, {} free", walked, num_free_);
    for (const auto& [hash, id] : index_) {
        const Block& b = blocks_[size_t(id)];
        if (!b.has_hash || b.hash != hash) return fmt::format("index entry for block {} is stale", id);
    }
    return {};
}

}  // namespace gptoss
