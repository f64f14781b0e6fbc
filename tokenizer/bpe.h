// Byte-level BPE of one pre-tokenized piece (tiktoken's algorithm): start from single bytes and repeatedly
// merge the adjacent pair whose concatenated bytes have the lowest rank (leftmost on ties) until no adjacent
// concatenation is a token. There is no merges list: the rank of the merged bytes is the priority.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/rank_table.h"

namespace gptoss {

// Appends the ids of `piece` (non-empty; every single byte must be a token) to `out`. Short pieces use the
// quadratic scan of tiktoken, long ones a heap, so a megabyte-long piece costs O(n log n).
void byte_pair_encode(const RankTable& ranks, std::string_view piece, std::vector<int32_t>& out);

// The merge loop alone, for tests: same ids as byte_pair_encode, via the simple (small == true) or the heap
// path regardless of the piece's length.
void byte_pair_encode_with(const RankTable& ranks, std::string_view piece, bool small,
                           std::vector<int32_t>& out);

}  // namespace gptoss
