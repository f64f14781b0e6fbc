// The CUDA backend's public header: a factory for the ModelRunner that runs gpt-oss on one NVIDIA GPU.
// Only the gptoss executable includes this (the engine library never links cuda/).
#pragma once

#include <memory>

#include "config/engine_config.h"
#include "engine/model_runner.h"
#include "engine/weights/model_weights.h"

namespace gptoss {

// Uploads the weights (bf16 as stored, MXFP4 experts kept packed) to the current GPU. Throws
// std::runtime_error with a clear message when there is no usable GPU (none, older than sm_90, or too little
// memory for the weights plus a minimal KV cache).
std::unique_ptr<ModelRunner> make_cuda_runner(std::shared_ptr<const ModelWeights> weights,
                                              const EngineConfig& config);

// Device memory of the current GPU (cudaMemGetInfo): what the benchmark reports as the process's footprint.
struct GpuMemory {
    size_t used_bytes = 0;
    size_t total_bytes = 0;
};
GpuMemory gpu_memory();

// The current GPU's measured ceilings (a few seconds): what benchmark bounds are computed from.
struct GpuCeilings {
    double copy_bytes_per_second = 0;  // device-to-device copy of 1 GiB, bytes read + written
    double bf16_flops_per_second = 0;  // cuBLASLt bf16 GEMM 8192^3, float32 accumulation
};
GpuCeilings measure_gpu_ceilings();

}  // namespace gptoss
