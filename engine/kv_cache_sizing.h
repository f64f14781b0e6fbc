// How many pages each KV pool gets, from the KV byte budget and the scheduling limits.
//
// Bytes per block of a pool = (layers of that type) * block_size * runner.kv_bytes_per_token_per_layer().
// The windowed pool is sized from the scheduling limits, not the budget: max_num_seqs running sequences, each
// computing a chunk C_i with sum C_i <= max_num_batched_tokens, hold at most
//   sum_i (ceil((W - 1 + C_i) / B) + 1) <= floor((S * (W + B - 2) + T) / B) + S   windowed blocks,
// (and never more than max_model_len's worth each), so with that many the windowed pool never runs out. When
// that bound would take more than half the budget it is capped there (preemption then covers the rare peak).
// The full pool gets the rest of the budget.
#pragma once

#include <cstddef>
#include <cstdint>

#include "config/engine_config.h"
#include "config/model_config.h"
#include "engine/engine.h"
#include "engine/model_runner.h"

namespace gptoss {

// The windowed-pool bound above.
int window_pool_bound(int sliding_window, int block_size, int max_num_seqs, int max_num_batched_tokens,
                      int max_model_len);

struct KvCachePlan {
    KvCacheLayout layout;
    int max_model_len = 0;  // config's, or (when unset) the model's limit lowered to what fits
    bool max_model_len_lowered = false;
    bool window_pool_capped = false;
    int sliding_window = 0;  // 0 when the model has no sliding layers
    bool has_full_layers = true;
    KvCapacity capacity;
};

// Throws ConfigError (naming --kv-cache-memory / --max-model-len) when one max-length sequence cannot fit.
KvCachePlan plan_kv_cache(const EngineConfig& config, const ModelConfig& model,
                          size_t kv_bytes_per_token_per_layer, int64_t budget_bytes);

}  // namespace gptoss
