// ModelRunner: the narrow interface between the engine and a backend (CpuRunner in engine/cpu, CudaRunner in
// cuda/). The engine owns scheduling and KV page bookkeeping; the runner owns weights, KV storage and math.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/engine_config.h"
#include "config/model_config.h"
#include "engine/batch_inputs.h"

namespace gptoss {

struct KvCacheLayout {
    int block_size = 16;
    int num_full_blocks = 0;    // pages of the full-attention pool (shared by all full layers)
    int num_window_blocks = 0;  // pages of the windowed pool (shared by all sliding layers)
};

class ModelRunner {
public:
    virtual ~ModelRunner() = default;

    virtual const ModelConfig& config() const = 0;
    virtual std::string_view backend_name() const = 0;  // "cpu" | "cuda"
    // Bytes of K + V for one token in one layer (the runner picks the element type).
    virtual size_t kv_bytes_per_token_per_layer() const = 0;
    // KV budget when the user gives no --kv-cache-memory (CUDA: from free memory and the utilization target).
    virtual int64_t default_kv_cache_bytes(const EngineConfig& config) const = 0;
    // Called once before the first step.
    virtual void allocate_kv_cache(const KvCacheLayout& layout) = 0;
    // One forward pass over the batch, then sampling. Must not depend on which other sequences share the
    // batch.
    virtual StepOutput execute(const BatchInputs& inputs) = 0;
};

}  // namespace gptoss
