// StepPlan: the host-side bookkeeping of one CudaRunner step, derived from BatchInputs: attention work
// tiles and split counts, which rows get logits, which sequences sample on the GPU, and the per-step device
// inputs packed into one host image (uploaded with a single copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "config/model_config.h"
#include "cuda/kernels/kernels.h"
#include "engine/batch_inputs.h"

namespace gptoss::cuda {

// Tiles of kAttentionTileRows (token, head-in-group) rows, sequence by sequence.
struct AttentionTiles {
    std::vector<int32_t> seq;        // [num_tiles]
    std::vector<int32_t> row_start;  // [num_tiles]
};
AttentionTiles make_attention_tiles(const std::vector<int32_t>& query_start, int group_size);

// How many blocks share one tile's keys: enough blocks to fill the GPU when a step has few tiles (decode),
// each split keeping at least 512 keys, and the partial results within `split_capacity` floats.
int choose_attention_splits(int num_tiles, int num_kv_heads, int longest_key_span, int num_sms,
                            int num_tokens, int num_heads, int head_dim, size_t split_capacity);

// The GPU sampler's row for a sequence (the uniform drawn as sampling_uniform(seed, output_index)).
SamplingRowParams gpu_sampling_row(const SamplingParams& params, int32_t output_index);

struct StepPlan {
    AttentionTiles tiles;
    int full_splits = 1;
    int window_splits = 1;
    // Logits rows, in this order: [0, num_gpu_sampled) sampled on the GPU, [num_gpu_sampled, num_sampled)
    // sampled on the host (penalties, logit_bias), then one row per logits_token_indices entry.
    std::vector<int32_t> row_token;    // [rows] flat token index of each logits row
    std::vector<int32_t> row_sampled;  // [num_sampled] BatchInputs sampled row of each logits row
    int num_gpu_sampled = 0;
    int num_sampled = 0;
    std::vector<SamplingRowParams> gpu_params;  // [num_gpu_sampled]
    bool any_logprobs = false;
};
StepPlan make_step_plan(const BatchInputs& inputs, const ModelConfig& config, int num_sms,
                        size_t split_capacity);

// Append-only host image of the step's device inputs; offsets are 256-byte aligned.
class HostImage {
public:
    template <class T>
    size_t append(const std::vector<T>& values) {
        const size_t offset = (bytes_.size() + 255) / 256 * 256;
        bytes_.resize(offset + values.size() * sizeof(T));
        if (!values.empty()) std::memcpy(bytes_.data() + offset, values.data(), values.size() * sizeof(T));
        return offset;
    }
    const std::vector<std::byte>& bytes() const { return bytes_; }

private:
    std::vector<std::byte> bytes_;
};

}  // namespace gptoss::cuda
