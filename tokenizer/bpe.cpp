#include "tokenizer/bpe.h"

#include <limits>
#include <queue>

namespace gptoss {

namespace {

constexpr int32_t kNoRank = std::numeric_limits<int32_t>::max();
constexpr size_t kSmallPiece = 64;  // pieces up to this many bytes take the quadratic path

int32_t rank_or_none(const RankTable& ranks, std::string_view piece, size_t begin, size_t end) {
    const int32_t r = ranks.find(piece.data() + begin, end - begin);
    return r < 0 ? kNoRank : r;
}

// tiktoken's loop: parts[i] = {start of part i, rank of merging part i with part i+1}; each step merges the
// lowest-ranked pair and recomputes the two pair ranks that changed.
void encode_small(const RankTable& ranks, std::string_view piece, std::vector<int32_t>& out) {
    struct Part {
        uint32_t start;
        int32_t pair_rank;
    };
    const size_t n = piece.size();
    std::vector<Part> heap_parts;
    Part stack_parts[kSmallPiece + 1];
    Part* parts = stack_parts;
    if (n > kSmallPiece) {
        heap_parts.resize(n + 1);
        parts = heap_parts.data();
    }
    for (size_t i = 0; i + 1 < n; ++i) {
        const int32_t r = ranks.find_pair(piece[i], piece[i + 1]);
        parts[i] = {static_cast<uint32_t>(i), r < 0 ? kNoRank : r};
    }
    parts[n - 1] = {static_cast<uint32_t>(n - 1), kNoRank};
    parts[n] = {static_cast<uint32_t>(n), kNoRank};
    size_t num_parts = n + 1;  // includes the end sentinel

    // Rank of merging part i with part i+1 once part i+1 has absorbed part i+2 (i.e. the span i .. i+3).
    auto pair_rank_after_merge = [&](size_t i) {
        return i + 3 < num_parts ? rank_or_none(ranks, piece, parts[i].start, parts[i + 3].start) : kNoRank;
    };
    while (num_parts > 2) {
        int32_t best = kNoRank;
        size_t best_index = 0;
        for (size_t i = 0; i + 1 < num_parts; ++i) {
            if (parts[i].pair_rank < best) {
                best = parts[i].pair_rank;
                best_index = i;
            }
        }
        if (best == kNoRank) break;
        const size_t i = best_index;
        if (i > 0) parts[i - 1].pair_rank = pair_rank_after_merge(i - 1);
        parts[i].pair_rank = pair_rank_after_merge(i);
        for (size_t j = i + 1; j + 1 < num_parts; ++j) parts[j] = parts[j + 1];
        --num_parts;
    }
    for (size_t i = 0; i + 1 < num_parts; ++i)
        out.push_back(ranks.find(piece.data() + parts[i].start, parts[i + 1].start - parts[i].start));
}

// The same merges with a min-heap of candidate pairs keyed by (rank, start): O(n log n). Parts form a linked
// list over byte positions; a heap entry is stale once its left part no longer ends where it says.
void encode_large(const RankTable& ranks, std::string_view piece, std::vector<int32_t>& out) {
    struct Candidate {
        int32_t rank;
        uint32_t left;       // start of the left part
        uint32_t right_end;  // end of the right part
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    const uint32_t n = static_cast<uint32_t>(piece.size());
    std::vector<uint32_t> next(n), prev(n);  // [n] neighbour part starts, valid where is_start
    std::vector<int32_t> part_rank(n);       // [n] rank of the part starting here
    std::vector<bool> is_start(n, true);
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    for (uint32_t i = 0; i < n; ++i) {
        next[i] = i + 1;
        prev[i] = i - 1;  // prev[0] is never read
        part_rank[i] = ranks.find(piece.data() + i, 1);
        if (i + 1 < n) {
            if (int32_t r = ranks.find_pair(piece[i], piece[i + 1]); r >= 0) heap.push({r, i, i + 2});
        }
    }
    auto end_of = [&](uint32_t start) { return next[start]; };
    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        if (!is_start[c.left]) continue;
        const uint32_t right = next[c.left];
        if (right >= n || end_of(right) != c.right_end) continue;  // stale
        // Merge right into left.
        is_start[right] = false;
        next[c.left] = c.right_end;
        if (c.right_end < n) prev[c.right_end] = c.left;
        part_rank[c.left] = c.rank;
        if (c.left > 0) {
            const uint32_t p = prev[c.left];
            if (int32_t r = ranks.find(piece.data() + p, c.right_end - p); r >= 0)
                heap.push({r, p, c.right_end});
        }
        if (c.right_end < n) {
            const uint32_t e = end_of(c.right_end);
            if (int32_t r = ranks.find(piece.data() + c.left, e - c.left); r >= 0) heap.push({r, c.left, e});
        }
    }
    for (uint32_t i = 0; i < n; i = next[i]) out.push_back(part_rank[i]);
}

}  // namespace

void byte_pair_encode_with(const RankTable& ranks, std::string_view piece, bool small,
                           std::vector<int32_t>& out) {
    if (piece.size() == 1) {
        out.push_back(ranks.find(piece.data(), 1));
    } else if (small) {
        encode_small(ranks, piece, out);
    } else {
        encode_large(ranks, piece, out);
    }
}

void byte_pair_encode(const RankTable& ranks, std::string_view piece, std::vector<int32_t>& out) {
    byte_pair_encode_with(ranks, piece, piece.size() <= kSmallPiece, out);
}

}  // namespace gptoss
