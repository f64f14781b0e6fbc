#include "engine/batch_validation.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace gptoss {

namespace {

[[noreturn]] void fail(const std::string& message) {
    throw std::invalid_argument("BatchInputs: " + message);
}

void check_size(const char* field, size_t actual, size_t expected) {
    if (actual != expected) fail(fmt::format("{} has {} entries, expected {}", field, actual, expected));
}

// Every block a query of sequence s can read (logical blocks [first_needed, last_needed]) must be a valid
// page.
void check_blocks(const char* pool, const std::vector<int32_t>& table, int stride, int s, int first_block,
                  int first_needed, int last_needed, int num_blocks) {
    if (first_needed < first_block) {
        fail(fmt::format("{} pool: sequence {} needs logical block {} but its table starts at block {}", pool,
                         s, first_needed, first_block));
    }
    if (last_needed - first_block >= stride) {
        fail(fmt::format("{} pool: sequence {} needs logical block {} but the table stride is {}", pool, s,
                         last_needed, stride));
    }
    for (int b = first_needed; b <= last_needed; ++b) {
        const int32_t id = table[static_cast<size_t>(s) * stride + (b - first_block)];
        if (id < 0 || id >= num_blocks) {
            fail(fmt::format("{} pool: sequence {} logical block {} maps to page {} (pool has {})", pool, s,
                             b, id, num_blocks));
        }
    }
}

void check_slots(const char* field, const std::vector<int64_t>& slots, int num_tokens, int64_t num_slots) {
    check_size(field, slots.size(), num_tokens);
    for (int t = 0; t < num_tokens; ++t) {
        if (slots[t] >= num_slots) {
            fail(fmt::format("{}[{}] = {} is outside the pool ({} slots)", field, t, slots[t], num_slots));
        }
    }
}

}  // namespace

void validate_batch_inputs(const BatchInputs& in, const ModelConfig& config, const KvCacheLayout& layout) {
    const int S = in.num_seqs, T = in.num_tokens;
    if (S < 0 || T < 0) fail("negative num_seqs or num_tokens");
    if (in.block_size != layout.block_size) {
        fail(fmt::format("block_size {} differs from the KV cache's {}", in.block_size, layout.block_size));
    }
    check_size("token_ids", in.token_ids.size(), T);
    check_size("positions", in.positions.size(), T);
    check_size("query_start", in.query_start.size(), S + 1);
    check_size("context_lens", in.context_lens.size(), S);
    if (in.query_start[0] != 0 || in.query_start[S] != T) fail("query_start must run from 0 to num_tokens");
    for (int t = 0; t < T; ++t) {
        if (in.token_ids[t] < 0 || in.token_ids[t] >= config.vocab_size) {
            fail(fmt::format("token_ids[{}] = {} is outside the vocabulary (size {})", t, in.token_ids[t],
                             config.vocab_size));
        }
        if (in.positions[t] < 0) fail(fmt::format("positions[{}] is negative", t));
    }
    const bool has_full = config.num_full_layers() > 0, has_window = config.num_sliding_layers() > 0;
    const int BS = in.block_size;
    if (has_full) {
        check_size("full_block_table", in.full_block_table.size(),
                   static_cast<size_t>(S) * in.full_table_stride);
        check_slots("full_slot_mapping", in.full_slot_mapping, T, int64_t{layout.num_full_blocks} * BS);
    }
    if (has_window) {
        check_size("window_first_block", in.window_first_block.size(), S);
        check_size("window_block_table", in.window_block_table.size(),
                   static_cast<size_t>(S) * in.window_table_stride);
        check_slots("window_slot_mapping", in.window_slot_mapping, T, int64_t{layout.num_window_blocks} * BS);
    }
    for (int s = 0; s < S; ++s) {
        const int begin = in.query_start[s], end = in.query_start[s + 1];
        if (end < begin) fail(fmt::format("query_start decreases at sequence {}", s));
        if (begin == end) continue;
        int lowest = in.positions[begin], highest = in.positions[begin];
        for (int t = begin; t < end; ++t) {
            lowest = std::min(lowest, in.positions[t]);
            highest = std::max(highest, in.positions[t]);
        }
        if (highest >= in.context_lens[s]) {
            fail(fmt::format("sequence {} has a token at position {} but context_lens is {}", s, highest,
                             in.context_lens[s]));
        }
        if (has_full) {
            check_blocks("full", in.full_block_table, in.full_table_stride, s, 0, 0, highest / BS,
                         layout.num_full_blocks);
        }
        if (has_window) {
            const int first_key = std::max(0, lowest - config.sliding_window + 1);
            check_blocks("windowed", in.window_block_table, in.window_table_stride, s,
                         in.window_first_block[s], first_key / BS, highest / BS, layout.num_window_blocks);
        }
    }
    if (!in.sample_start.empty()) {
        check_size("sample_start", in.sample_start.size(), static_cast<size_t>(S) + 1);
        check_size("sampling", in.sampling.size(), S);
        if (in.sample_start[0] != 0) fail("sample_start must start at 0");
        const int R = std::max(in.sample_start[S], 0);
        check_size("sample_seq", in.sample_seq.size(), R);
        check_size("sample_token_index", in.sample_token_index.size(), R);
        for (int s = 0; s < S; ++s) {
            const int count = in.sample_start[s + 1] - in.sample_start[s];
            const int end = in.query_start[s + 1];
            if (count < 0 || count > end - in.query_start[s]) {
                fail(fmt::format("sequence {} samples {} rows but has {} tokens", s, count,
                                 end - in.query_start[s]));
            }
            if (count > 0 && !in.sampling[s].params)
                fail(fmt::format("sequence {} samples without params", s));
            for (int j = 0; j < count; ++j) {
                const int r = in.sample_start[s] + j;
                if (in.sample_seq[r] != s || in.sample_token_index[r] != end - count + j) {
                    fail(fmt::format("sampled row {} is not row {} of sequence {}'s last {} tokens", r, j, s,
                                     count));
                }
            }
        }
    }
    for (int32_t index : in.logits_token_indices) {
        if (index < 0 || index >= T)
            fail(fmt::format("logits_token_indices holds {} (num_tokens {})", index, T));
    }
}

}  // namespace gptoss
