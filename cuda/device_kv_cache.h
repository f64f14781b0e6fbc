// DeviceKvCache: bf16 K/V storage for both KV pools, sized from the engine's KvCacheLayout.
//
// Full pool: one [NB_full, BS, Hkv, D] K tensor and one V tensor per full-attention layer; windowed pool:
// the same with NB_window blocks per sliding layer. A layer finds its storage by its index among the layers
// of its own type (ModelConfig::pool_layer_index); block ids in BatchInputs index the layer's pool.
#pragma once

#include <cstdint>

#include "config/model_config.h"
#include "cuda/device_buffer.h"
#include "engine/model_runner.h"

namespace gptoss::cuda {

class DeviceKvCache {
public:
    // Bytes of K + V for one token in one layer.
    static size_t bytes_per_token_per_layer(const ModelConfig& config);
    // Bytes the layout needs on the device.
    static size_t required_bytes(const ModelConfig& config, const KvCacheLayout& layout);

    DeviceKvCache(const ModelConfig& config, const KvCacheLayout& layout);

    uint16_t* k(int layer) const { return layer_base(layer); }
    uint16_t* v(int layer) const { return layer_base(layer) + layer_elements(layer); }
    const KvCacheLayout& layout() const { return layout_; }
    size_t bytes() const { return full_.bytes() + window_.bytes(); }

private:
    uint16_t* layer_base(int layer) const;
    size_t layer_elements(int layer) const;  // of K (and of V)

    ModelConfig config_;
    KvCacheLayout layout_;
    DeviceBuffer<uint16_t> full_;    // [full layers, 2 (K, V), NB_full, BS, Hkv, D]
    DeviceBuffer<uint16_t> window_;  // [sliding layers, 2, NB_window, BS, Hkv, D]
};

}  // namespace gptoss::cuda
