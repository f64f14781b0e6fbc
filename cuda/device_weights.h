// DeviceWeights: the checkpoint on the GPU, uploaded once.
//
// bf16 tensors stay bf16; q/k/v are concatenated into one [Q + 2KV, H] projection so one GEMM makes all
// three; biases and sinks become float32 (they feed float32 epilogues); MXFP4 expert blocks and scales keep
// their bytes but are permuted once into the expert GEMMs' fragment-major layout (kernels.h, mxfp4_repack),
// decoded in registers at use: no dequantized copy ever exists.
// Shape legend: H hidden, Q = Hq * D, KV = Hkv * D, E experts, I intermediate, V vocab.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cuda/device_buffer.h"
#include "engine/weights/model_weights.h"

namespace gptoss::cuda {

struct DeviceLayerWeights {
    const uint16_t* input_norm = nullptr;     // [H] bf16
    const uint16_t* post_norm = nullptr;      // [H] bf16
    const uint16_t* qkv_weight = nullptr;     // [Q + 2KV, H] bf16 (q rows, then k, then v)
    const float* qkv_bias = nullptr;          // [Q + 2KV]
    const uint16_t* o_weight = nullptr;       // [H, Q] bf16
    const float* o_bias = nullptr;            // [H]
    const float* sinks = nullptr;             // [Hq]
    const uint16_t* router_weight = nullptr;  // [E, H] bf16
    const float* router_bias = nullptr;       // [E]
    const uint8_t* gate_up_blocks = nullptr;  // [E, 2I, H] MXFP4 codes, repacked (kernels.h, mxfp4_repack)
    const uint8_t* gate_up_scales = nullptr;  // [E, 2I, H/32] e8m0 scales, repacked
    const float* gate_up_bias = nullptr;      // [E, 2I]
    const uint8_t* down_blocks = nullptr;     // [E, H, I] MXFP4 codes, repacked
    const uint8_t* down_scales = nullptr;     // [E, H, I/32] e8m0 scales, repacked
    const float* down_bias = nullptr;         // [E, H]
};

class DeviceWeights {
public:
    // Bytes the upload will take on the device (one arena).
    static size_t required_bytes(const ModelWeights& weights);
    // Uploads every tensor (synchronously). Throws CudaError when an allocation or copy fails.
    explicit DeviceWeights(const ModelWeights& weights);

    const uint16_t* embed_tokens = nullptr;  // [V, H] bf16
    const uint16_t* norm = nullptr;          // [H] bf16
    const uint16_t* lm_head = nullptr;       // [V, H] bf16 (the embedding when tied)
    std::vector<DeviceLayerWeights> layers;
    size_t bytes() const { return arena_.bytes(); }

private:
    DeviceBuffer<std::byte> arena_;
};

}  // namespace gptoss::cuda
