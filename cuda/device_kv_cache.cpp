#include "cuda/device_kv_cache.h"

namespace gptoss::cuda {
namespace {

size_t pool_layer_elements(const ModelConfig& config, int blocks, int block_size) {
    return static_cast<size_t>(blocks) * block_size * config.num_key_value_heads * config.head_dim;
}

}  // namespace

size_t DeviceKvCache::bytes_per_token_per_layer(const ModelConfig& config) {
    return 2 * sizeof(uint16_t) * static_cast<size_t>(config.num_key_value_heads) * config.head_dim;
}

size_t DeviceKvCache::required_bytes(const ModelConfig& config, const KvCacheLayout& layout) {
    const size_t full = pool_layer_elements(config, layout.num_full_blocks, layout.block_size);
    const size_t window = pool_layer_elements(config, layout.num_window_blocks, layout.block_size);
    return 2 * sizeof(uint16_t) * (full * config.num_full_layers() + window * config.num_sliding_layers());
}

DeviceKvCache::DeviceKvCache(const ModelConfig& config, const KvCacheLayout& layout)
    : config_(config), layout_(layout) {
    full_.resize(2 * pool_layer_elements(config, layout.num_full_blocks, layout.block_size) *
                 config.num_full_layers());
    window_.resize(2 * pool_layer_elements(config, layout.num_window_blocks, layout.block_size) *
                   config.num_sliding_layers());
}

size_t DeviceKvCache::layer_elements(int layer) const {
    return pool_layer_elements(
        config_, config_.is_sliding(layer) ? layout_.num_window_blocks : layout_.num_full_blocks,
        layout_.block_size);
}

uint16_t* DeviceKvCache::layer_base(int layer) const {
    uint16_t* pool = config_.is_sliding(layer) ? window_.get() : full_.get();
    return pool + 2 * layer_elements(layer) * config_.pool_layer_index(layer);
}

}  // namespace gptoss::cuda
