// Workspace: the activation buffers of one step, sized for a token and logits-row capacity (grown on demand).
// Split bf16 pairs (kernels.h) take twice the rows: [2T, W] = hi rows then lo rows.
// Shape legend: T tokens, H hidden, Q = Hq * D, KV = Hkv * D, E experts, K experts per token, P = T * K,
// I intermediate, R logits rows, V vocab.
#pragma once

#include <cstddef>
#include <cstdint>

#include "config/model_config.h"
#include "cuda/device_buffer.h"

namespace gptoss::cuda {

struct Workspace {
    // Bytes ensure(config, tokens, rows) would allocate.
    static size_t required_bytes(const ModelConfig& config, int tokens, int rows);
    // Grows the buffers (dropping their contents) when the step does not fit; true when any moved.
    bool ensure(const ModelConfig& config, int tokens, int rows);
    size_t bytes() const;

    int token_capacity = 0;
    int row_capacity = 0;
    size_t split_capacity = 0;  // floats of split_out

    DeviceBuffer<float> x;                 // [T, H] residual stream
    DeviceBuffer<uint16_t> h;              // [2T, H] normed activations, split pair (GEMM input)
    DeviceBuffer<float> qkv;               // [2T, Q + 2KV] (a split GEMM's two halves; the sum in [0, T))
    DeviceBuffer<uint16_t> attn;           // [2T, Q] split pair
    DeviceBuffer<float> o;                 // [2T, H]
    DeviceBuffer<float> router_logits;     // [2T, E]
    DeviceBuffer<int32_t> experts;         // [P]
    DeviceBuffer<float> routing_weights;   // [P]
    DeviceBuffer<int32_t> sorted_pairs;    // [P]
    DeviceBuffer<int32_t> expert_offsets;  // [E + 1]
    DeviceBuffer<int32_t> tile_expert;     // [moe_max_tiles(P, E, 8)]
    DeviceBuffer<int32_t> tile_row_start;  // [moe_max_tiles(P, E, 8)]
    DeviceBuffer<int32_t> num_tiles;       // [1]
    DeviceBuffer<uint16_t> act;            // [2P, I] split pair
    DeviceBuffer<float> y;                 // [P, H] = [T, K, H] weighted expert outputs
    DeviceBuffer<float> split_out;         // [splits, T, Hq, D]
    DeviceBuffer<float> split_max;         // [splits, T, Hq]
    DeviceBuffer<float> split_sum;         // [splits, T, Hq]
    DeviceBuffer<uint16_t> final_h;        // [R, H]
    DeviceBuffer<float> logits;            // [R, V]
    DeviceBuffer<float> probs;             // [R, V] sampling scratch
    DeviceBuffer<int32_t> sampled_tokens;  // [R]
    DeviceBuffer<float> token_logprobs;    // [R]
    DeviceBuffer<int32_t> top_tokens;      // [R, kMaxTopLogprobs]
    DeviceBuffer<float> top_logprobs;      // [R, kMaxTopLogprobs]
};

}  // namespace gptoss::cuda
