// ModelWeights: typed, zero-copy views of every gpt-oss tensor of a Hugging Face checkpoint.
//
// The checkpoint files are memory-mapped; views point into the mappings, which live as long as the
// ModelWeights object. Expert weights stay MXFP4-packed (blocks + e8m0 scales) exactly as stored.
// Shape legend: H hidden, Q = heads*head_dim, KV = kv_heads*head_dim, E experts, I intermediate, V vocab,
// G = columns/32 (MXFP4 blocks per row).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/model_config.h"
#include "engine/weights/dtype.h"

namespace gptoss {

class SafetensorsArchive;

struct TensorView {
    std::string name;
    DType dtype = DType::kU8;
    std::vector<int64_t> shape;
    const void* data = nullptr;  // little-endian, row-major
    size_t nbytes = 0;

    int64_t numel() const;
    const uint16_t* bf16() const { return static_cast<const uint16_t*>(data); }  // DType::kBF16 only
    const uint8_t* u8() const { return static_cast<const uint8_t*>(data); }      // DType::kU8 only
};

struct LayerWeights {
    TensorView input_layernorm;             // [H] bf16
    TensorView q_proj_weight, q_proj_bias;  // [Q, H], [Q]
    TensorView k_proj_weight, k_proj_bias;  // [KV, H], [KV]
    TensorView v_proj_weight, v_proj_bias;  // [KV, H], [KV]
    TensorView o_proj_weight, o_proj_bias;  // [H, Q], [H]
    TensorView sinks;                       // [heads]
    TensorView post_attention_layernorm;    // [H]
    TensorView router_weight, router_bias;  // [E, H], [E]
    TensorView gate_up_blocks;              // [E, 2I, H/32, 16] u8; rows alternate gate (even) / up (odd)
    TensorView gate_up_scales;              // [E, 2I, H/32] u8 (e8m0)
    TensorView gate_up_bias;                // [E, 2I] bf16
    TensorView down_blocks;                 // [E, H, I/32, 16] u8
    TensorView down_scales;                 // [E, H, I/32] u8
    TensorView down_bias;                   // [E, H] bf16
};

class ModelWeights {
public:
    // Opens <dir>/model.safetensors or the shards listed in <dir>/model.safetensors.index.json, checks every
    // tensor's presence, dtype and shape against `config`, and throws WeightsError naming the tensor and
    // file. With show_progress, prints size and MB/s to stderr when it is a terminal.
    static std::unique_ptr<ModelWeights> load(const std::filesystem::path& dir, const ModelConfig& config,
                                              bool show_progress = false);
    ~ModelWeights();

    const ModelConfig& config() const { return config_; }
    TensorView embed_tokens;  // [V, H] bf16
    TensorView norm;          // [H] bf16
    TensorView lm_head;       // [V, H] bf16 (embed_tokens when tie_word_embeddings)
    std::vector<LayerWeights> layers;
    uint64_t total_bytes() const { return total_bytes_; }

private:
    ModelWeights() = default;
    ModelConfig config_;
    std::vector<std::unique_ptr<SafetensorsArchive>> archives_;
    uint64_t total_bytes_ = 0;
};

// Bytes of tensor data in a checkpoint of this configuration as the release stores it (bf16, MXFP4 experts):
// what ModelWeights::load maps, computed from config.json alone (for memory planning before any load).
// gpt-oss-20b: 13,761,264,768; gpt-oss-120b: 65,248,815,744.
uint64_t checkpoint_tensor_bytes(const ModelConfig& config);

class WeightsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace gptoss
