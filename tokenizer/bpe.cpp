#include "tokenizer/bpe.h"

#include <algorithm>
#include <limits>
#include <queue>
#include <unordered_map>

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

// The same merges for long pieces, in O(n log n) even for runs like a megabyte of 'a': candidate pairs are
// grouped by rank, ranks are taken lowest first (a small heap of distinct ranks) and a rank's candidates are
// merged left to right. A merge only creates pairs of byte strings longer than the one just merged, so never
// a candidate of the rank being merged; a new candidate of a lower rank interrupts the group (the rest waits
// for its turn). Together this is tiktoken's order: lowest rank first, leftmost on ties. Parts form a linked
// list over byte positions; a candidate is stale once its left part no longer ends where it says.
void encode_large(const RankTable& ranks, std::string_view piece, std::vector<int32_t>& out) {
    struct Candidate {
        uint32_t left;       // start of the left part
        uint32_t right_end;  // end of the right part
    };
    const uint32_t n = static_cast<uint32_t>(piece.size());
    std::vector<uint32_t> next(n), prev(n);  // [n] neighbour part starts, valid where is_start
    std::vector<int32_t> part_rank(n);       // [n] rank of the part starting here
    std::vector<bool> is_start(n, true);
    std::unordered_map<int32_t, std::vector<Candidate>> groups;  // rank -> candidates
    std::priority_queue<int32_t, std::vector<int32_t>, std::greater<>>
        ranks_to_merge;  // ranks of non-empty groups
    int32_t lowest_added = kNoRank;
    auto add = [&](int32_t rank, uint32_t left, uint32_t right_end) {
        auto& group = groups[rank];
        if (group.empty()) ranks_to_merge.push(rank);
        group.push_back({left, right_end});
        lowest_added = std::min(lowest_added, rank);
    };
    for (uint32_t i = 0; i < n; ++i) {
        next[i] = i + 1;
        prev[i] = i - 1;  // prev[0] is never read
        part_rank[i] = ranks.find(piece.data() + i, 1);
        if (i + 1 < n) {
            if (int32_t r = ranks.find_pair(piece[i], piece[i + 1]); r >= 0) add(r, i, i + 2);
        }
    }
    std::vector<Candidate> group;
    while (!ranks_to_merge.empty()) {
        const int32_t rank = ranks_to_merge.top();
        ranks_to_merge.pop();
        auto it = groups.find(rank);
        if (it == groups.end() || it->second.empty()) continue;  // already merged under an earlier entry
        group.swap(it->second);
        std::sort(group.begin(), group.end(),
                  [](const Candidate& a, const Candidate& b) { return a.left < b.left; });
        lowest_added = kNoRank;
        size_t k = 0;
        for (; k < group.size() && lowest_added > rank; ++k) {
            const Candidate c = group[k];
            if (!is_start[c.left]) continue;
            const uint32_t right = next[c.left];
            if (right >= n || next[right] != c.right_end) continue;  // stale
            // Merge right into left.
            is_start[right] = false;
            next[c.left] = c.right_end;
            if (c.right_end < n) prev[c.right_end] = c.left;
            part_rank[c.left] = rank;
            if (c.left > 0) {
                const uint32_t p = prev[c.left];
                if (int32_t r = ranks.find(piece.data() + p, c.right_end - p); r >= 0) add(r, p, c.right_end);
            }
            if (c.right_end < n) {
                const uint32_t e = next[c.right_end];
                if (int32_t r = ranks.find(piece.data() + c.left, e - c.left); r >= 0) add(r, c.left, e);
            }
        }
        if (k < group.size()) {  // interrupted by a lower rank: the rest of the group waits
            auto& rest = groups[rank];
            if (rest.empty()) ranks_to_merge.push(rank);
            rest.insert(rest.end(), group.begin() + static_cast<std::ptrdiff_t>(k), group.end());
        }
        group.clear();
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
