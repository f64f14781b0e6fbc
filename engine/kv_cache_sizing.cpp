#include "engine/kv_cache_sizing.h"

#include <algorithm>

#include <fmt/format.h>

namespace gptoss {
namespace {

int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

}  // namespace

int window_pool_bound(int sliding_window, int block_size, int max_num_seqs, int max_num_batched_tokens,
                      int max_model_len) {
    if (sliding_window <= 0) return 0;
    const int64_t W = sliding_window, B = block_size, S = max_num_seqs, T = max_num_batched_tokens;
    const int64_t bound = (S * (W + B - 2) + T) / B + S;
    return static_cast<int>(std::min(bound, S * ceil_div(max_model_len, B)));
}

KvCachePlan plan_kv_cache(const EngineConfig& config, const ModelConfig& model,
                          size_t kv_bytes_per_token_per_layer, int64_t budget_bytes) {
    KvCachePlan plan;
    const int B = config.block_size;
    const int64_t bpt = static_cast<int64_t>(kv_bytes_per_token_per_layer);
    const int num_full_layers = model.num_full_layers();
    const int num_sliding_layers = model.num_sliding_layers();
    plan.has_full_layers = num_full_layers > 0;
    plan.sliding_window = num_sliding_layers > 0 ? model.sliding_window : 0;
    const int64_t full_block_bytes = int64_t(num_full_layers) * B * bpt;
    const int64_t window_block_bytes = int64_t(num_sliding_layers) * B * bpt;

    if (config.max_model_len && *config.max_model_len > model.max_position_embeddings) {
        throw ConfigError(fmt::format("--max-model-len {} exceeds the model's max_position_embeddings {}",
                                      *config.max_model_len, model.max_position_embeddings));
    }
    int max_model_len = config.max_model_len.value_or(model.max_position_embeddings);
    const std::string budget_text =
        fmt::format("the KV-cache budget of {} bytes (--kv-cache-memory)", budget_bytes);

    // Windowed pool: the scheduling bound, capped at half the budget but never below one sequence's
    // largest chunk.
    int64_t num_window = 0;
    if (plan.sliding_window > 0) {
        const int64_t W = plan.sliding_window;
        const int64_t largest_chunk = std::min(config.max_num_batched_tokens, max_model_len);
        const int64_t window_min = ceil_div(W - 1 + largest_chunk, B) + 1;
        num_window = window_pool_bound(plan.sliding_window, B, config.max_num_seqs,
                                       config.max_num_batched_tokens, max_model_len);
        if (num_window * window_block_bytes > budget_bytes / 2) {
            num_window = std::max(window_min, budget_bytes / 2 / window_block_bytes);
            plan.window_pool_capped = true;
        }
        if (num_window * window_block_bytes > budget_bytes) {
            throw ConfigError(
                fmt::format("{} cannot hold the sliding-window layers of one {}-token prefill chunk; raise "
                            "--kv-cache-memory "
                            "or lower --max-num-batched-tokens",
                            budget_text, largest_chunk));
        }
    }
    // Full pool: the rest.
    int64_t num_full = 0;
    if (plan.has_full_layers) {
        num_full = (budget_bytes - num_window * window_block_bytes) / full_block_bytes;
        const int64_t fits = num_full * B;
        if (fits < max_model_len) {
            if (config.max_model_len) {
                throw ConfigError(
                    fmt::format("{} holds {} tokens of context, fewer than --max-model-len {}; raise "
                                "--kv-cache-memory or "
                                "lower --max-model-len",
                                budget_text, fits, max_model_len));
            }
            if (fits == 0) throw ConfigError(fmt::format("{} cannot hold a single token", budget_text));
            max_model_len = static_cast<int>(fits);
            plan.max_model_len_lowered = true;
        }
    }
    plan.max_model_len = max_model_len;
    plan.layout = KvCacheLayout{B, static_cast<int>(num_full), static_cast<int>(num_window)};

    KvCapacity& cap = plan.capacity;
    cap.block_size = B;
    cap.num_full_blocks = plan.layout.num_full_blocks;
    cap.num_window_blocks = plan.layout.num_window_blocks;
    cap.max_model_len = max_model_len;
    cap.max_cached_tokens =
        plan.has_full_layers ? num_full * B : int64_t(max_model_len) * config.max_num_seqs;
    int64_t seqs = config.max_num_seqs;
    if (plan.has_full_layers) seqs = std::min(seqs, num_full / ceil_div(max_model_len, B));
    if (plan.sliding_window > 0) {
        const int64_t per_seq = std::min(ceil_div(plan.sliding_window, B) + 1, ceil_div(max_model_len, B));
        seqs = std::min(seqs, num_window / per_seq);
    }
    cap.max_full_length_seqs = static_cast<int>(seqs);
    return plan;
}

}  // namespace gptoss
