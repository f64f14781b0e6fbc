#include "cuda/decode_inputs.h"

#include <algorithm>
#include <cstring>

namespace gptoss::cuda {
namespace {

size_t align(size_t bytes) {
    return (bytes + 255) / 256 * 256;
}

}  // namespace

DecodeInputs::DecodeInputs(int max_seqs, int max_blocks) : max_seqs_(max_seqs), max_blocks_(max_blocks) {
    const size_t B = static_cast<size_t>(max_seqs);
    size_t at = 0;
    auto field = [&](size_t bytes) {
        const size_t offset = at;
        at = align(at + bytes);
        return offset;
    };
    layout_.token_ids = field(B * 4);
    layout_.positions = field(B * 4);
    layout_.query_start = field((B + 1) * 4);
    layout_.window_first = field(B * 4);
    layout_.tile_seq = field(B * 4);
    layout_.tile_row_start = field(B * 4);
    layout_.row_token = field(B * 4);
    layout_.strides = field(2 * 4);
    layout_.full_slots = field(B * 8);
    layout_.window_slots = field(B * 8);
    layout_.sampling = field(B * sizeof(SamplingRowParams));
    layout_.full_table = field(B * max_blocks * 4);
    layout_.window_table = field(B * max_blocks * 4);
    layout_.bytes = at;
    buffer_.resize(layout_.bytes);
    staging_.reserve(layout_.bytes);

    std::byte* base = buffer_.get();
    auto at_device = [&](size_t offset) { return base + offset; };
    device_.token_ids = reinterpret_cast<const int32_t*>(at_device(layout_.token_ids));
    device_.positions = reinterpret_cast<const int32_t*>(at_device(layout_.positions));
    device_.query_start = reinterpret_cast<const int32_t*>(at_device(layout_.query_start));
    device_.window_first_block = reinterpret_cast<const int32_t*>(at_device(layout_.window_first));
    device_.tile_seq = reinterpret_cast<const int32_t*>(at_device(layout_.tile_seq));
    device_.tile_row_start = reinterpret_cast<const int32_t*>(at_device(layout_.tile_row_start));
    device_.row_token = reinterpret_cast<const int32_t*>(at_device(layout_.row_token));
    device_.full_stride = reinterpret_cast<const int32_t*>(at_device(layout_.strides));
    device_.window_stride = device_.full_stride + 1;
    device_.full_slots = reinterpret_cast<const int64_t*>(at_device(layout_.full_slots));
    device_.window_slots = reinterpret_cast<const int64_t*>(at_device(layout_.window_slots));
    device_.sampling = reinterpret_cast<const SamplingRowParams*>(at_device(layout_.sampling));
    device_.full_table = reinterpret_cast<const int32_t*>(at_device(layout_.full_table));
    device_.window_table = reinterpret_cast<const int32_t*>(at_device(layout_.window_table));

    // The fields no step changes: one token and one attention tile per row, logits row = row.
    for (int s = 0; s < max_seqs; ++s) {
        host<int32_t>(layout_.query_start)[s] = s;
        host<int32_t>(layout_.tile_seq)[s] = s;
        host<int32_t>(layout_.tile_row_start)[s] = 0;
        host<int32_t>(layout_.row_token)[s] = s;
    }
    host<int32_t>(layout_.query_start)[max_seqs] = max_seqs;
}

bool DecodeInputs::holds(const BatchInputs& in) const {
    if (in.num_seqs == 0 || in.num_seqs > max_seqs_ || in.num_tokens != in.num_seqs) return false;
    if (!in.logits_token_indices.empty() || in.full_table_stride > max_blocks_ ||
        in.window_table_stride > max_blocks_)
        return false;
    // One token and one sampled row per sequence (so row r is sequence r's token r).
    for (int s = 0; s < in.num_seqs; ++s)
        if (in.query_start[s + 1] - in.query_start[s] != 1 || in.num_sampled(s) != 1) return false;
    return true;
}

void DecodeInputs::upload(const BatchInputs& in, int bucket, const std::vector<SamplingRowParams>& params,
                          cudaStream_t stream) {
    const int S = in.num_seqs;
    std::copy(in.token_ids.begin(), in.token_ids.end(), host<int32_t>(layout_.token_ids));
    std::copy(in.positions.begin(), in.positions.end(), host<int32_t>(layout_.positions));
    std::copy(in.full_slot_mapping.begin(), in.full_slot_mapping.end(), host<int64_t>(layout_.full_slots));
    std::copy(in.window_slot_mapping.begin(), in.window_slot_mapping.end(),
              host<int64_t>(layout_.window_slots));
    if (!in.window_first_block.empty())
        std::copy(in.window_first_block.begin(), in.window_first_block.end(),
                  host<int32_t>(layout_.window_first));
    else
        std::fill_n(host<int32_t>(layout_.window_first), S, 0);
    std::copy(params.begin(), params.end(), host<SamplingRowParams>(layout_.sampling));
    const int fs = std::max(1, in.full_table_stride), ws = std::max(1, in.window_table_stride);
    int32_t* full = host<int32_t>(layout_.full_table);
    int32_t* window = host<int32_t>(layout_.window_table);
    if (in.full_table_stride > 0)
        std::copy(in.full_block_table.begin(), in.full_block_table.end(), full);
    else
        std::fill_n(full, S, -1);
    if (in.window_table_stride > 0)
        std::copy(in.window_block_table.begin(), in.window_block_table.end(), window);
    else
        std::fill_n(window, S, -1);
    // Padding rows [S, bucket).
    for (int s = S; s < bucket; ++s) {
        host<int32_t>(layout_.token_ids)[s] = 0;
        host<int32_t>(layout_.positions)[s] = 0;
        host<int64_t>(layout_.full_slots)[s] = -1;
        host<int64_t>(layout_.window_slots)[s] = -1;
        host<int32_t>(layout_.window_first)[s] = 0;
        SamplingRowParams pad;
        pad.greedy = 1;
        host<SamplingRowParams>(layout_.sampling)[s] = pad;
    }
    std::fill_n(full + static_cast<size_t>(S) * fs, static_cast<size_t>(bucket - S) * fs, -1);
    std::fill_n(window + static_cast<size_t>(S) * ws, static_cast<size_t>(bucket - S) * ws, -1);
    enqueue(bucket, fs, ws, stream);
}

void DecodeInputs::upload_padding(int bucket, cudaStream_t stream) {
    BatchInputs empty;
    upload(empty, bucket, {}, stream);
}

void DecodeInputs::enqueue(int bucket, int full_stride, int window_stride, cudaStream_t stream) {
    host<int32_t>(layout_.strides)[0] = full_stride;
    host<int32_t>(layout_.strides)[1] = window_stride;
    // The fields before the tables, the used rows of the full table, then those of the window table.
    const size_t head = layout_.full_table + static_cast<size_t>(bucket) * full_stride * 4;
    GPTOSS_CUDA_CHECK(cudaMemcpyAsync(buffer_.get(), staging_.get(), head, cudaMemcpyHostToDevice, stream));
    GPTOSS_CUDA_CHECK(
        cudaMemcpyAsync(buffer_.get() + layout_.window_table, staging_.get() + layout_.window_table,
                        static_cast<size_t>(bucket) * window_stride * 4, cudaMemcpyHostToDevice, stream));
}

}  // namespace gptoss::cuda
