// How a GPU's memory divides between weights, activations and the KV cache, decided before anything is
// uploaded, so a checkpoint that cannot fit is a clear error at start instead of an allocation failure.
//
// target = gpu_memory_utilization * total (vLLM's meaning: the share of the whole card this process may end
// up holding); KV budget = target - memory in use before the upload (CUDA context, other processes) - weights
// - activations. The budget then goes to plan_kv_cache (engine/kv_cache_sizing.h).
#pragma once

#include <cstdint>

namespace gptoss {

struct DeviceMemoryPlan {
    int64_t total_bytes = 0;       // the card's memory
    int64_t target_bytes = 0;      // gpu_memory_utilization * total_bytes
    int64_t in_use_bytes = 0;      // held before the upload (context, other processes)
    int64_t weight_bytes = 0;      // the uploaded checkpoint
    int64_t activation_bytes = 0;  // the runner's workspace at the configured token and sequence limits
    int64_t kv_budget_bytes = 0;   // what is left for the KV cache
};

// Throws ConfigError, naming the sizes and the flags that change them, when the weights exceed the card's
// free memory or the weights and activations leave no KV budget under the target.
DeviceMemoryPlan plan_device_memory(int64_t total_bytes, int64_t free_bytes, double gpu_memory_utilization,
                                    int64_t weight_bytes, int64_t activation_bytes);

}  // namespace gptoss
