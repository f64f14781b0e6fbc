#include "cuda/step_plan.h"

#include <algorithm>

#include "engine/sampler.h"

namespace gptoss::cuda {

AttentionTiles make_attention_tiles(const std::vector<int32_t>& query_start, int group_size) {
    AttentionTiles tiles;
    for (size_t s = 0; s + 1 < query_start.size(); ++s) {
        const int rows = (query_start[s + 1] - query_start[s]) * group_size;
        for (int r = 0; r < rows; r += kAttentionTileRows) {
            tiles.seq.push_back(static_cast<int32_t>(s));
            tiles.row_start.push_back(r);
        }
    }
    return tiles;
}

int choose_attention_splits(int num_tiles, int num_kv_heads, int longest_key_span, int num_sms,
                            int num_tokens, int num_heads, int head_dim, size_t split_capacity) {
    constexpr int kMinKeysPerSplit = 512, kMaxSplits = 32;
    const int blocks = num_tiles * num_kv_heads;
    if (blocks == 0 || blocks >= num_sms) return 1;
    int splits = std::min(
        {(2 * num_sms + blocks - 1) / blocks, std::max(1, longest_key_span / kMinKeysPerSplit), kMaxSplits});
    const size_t per_split = static_cast<size_t>(num_tokens) * num_heads * head_dim;
    while (splits > 1 && per_split * splits > split_capacity) --splits;
    return std::max(1, splits);
}

SamplingRowParams gpu_sampling_row(const SamplingParams& params, int32_t output_index) {
    SamplingRowParams p;
    p.temperature = params.temperature;
    p.top_k = params.top_k;
    p.top_p = params.top_p;
    p.min_p = params.min_p;
    p.greedy = params.is_greedy() ? 1 : 0;
    p.uniform = sampling_uniform(params.seed, output_index);
    p.stream = sampling_stream(params.seed, output_index);
    p.num_top_logprobs = params.logprobs ? std::clamp(params.top_logprobs, 0, kMaxTopLogprobs) : -1;
    return p;
}

StepPlan make_step_plan(const BatchInputs& in, const ModelConfig& config, int num_sms,
                        size_t split_capacity) {
    StepPlan plan;
    plan.tiles = make_attention_tiles(in.query_start, config.gqa_group_size());
    int longest_full = 0, longest_window = 0;
    for (int s = 0; s < in.num_seqs; ++s) {
        const int q_len = in.query_start[s + 1] - in.query_start[s];
        longest_full = std::max(longest_full, in.context_lens[s]);
        longest_window =
            std::max(longest_window, std::min(in.context_lens[s], config.sliding_window + q_len - 1));
    }
    const int num_tiles = static_cast<int>(plan.tiles.seq.size());
    plan.full_splits =
        choose_attention_splits(num_tiles, config.num_key_value_heads, longest_full, num_sms, in.num_tokens,
                                config.num_attention_heads, config.head_dim, split_capacity);
    plan.window_splits =
        choose_attention_splits(num_tiles, config.num_key_value_heads, longest_window, num_sms, in.num_tokens,
                                config.num_attention_heads, config.head_dim, split_capacity);

    // Sampled rows: GPU ones first, then host ones, each at its BatchInputs row's token.
    std::vector<int32_t> host_tokens, host_rows;
    for (int r = 0; r < in.num_sampled_rows(); ++r) {
        const SamplingParams& params = *in.sampling[in.sample_seq[r]].params;
        plan.any_logprobs |= params.logprobs;
        const int32_t token = in.sample_token_index[r];
        if (params.needs_host_sampler()) {
            host_tokens.push_back(token);
            host_rows.push_back(r);
            continue;
        }
        plan.gpu_params.push_back(gpu_sampling_row(params, in.row_output_index(r)));
        plan.row_token.push_back(token);
        plan.row_sampled.push_back(r);
    }
    plan.num_gpu_sampled = static_cast<int>(plan.row_token.size());
    plan.row_token.insert(plan.row_token.end(), host_tokens.begin(), host_tokens.end());
    plan.row_sampled.insert(plan.row_sampled.end(), host_rows.begin(), host_rows.end());
    plan.num_sampled = static_cast<int>(plan.row_token.size());
    plan.row_token.insert(plan.row_token.end(), in.logits_token_indices.begin(),
                          in.logits_token_indices.end());
    return plan;
}

}  // namespace gptoss::cuda
