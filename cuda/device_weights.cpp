#include "cuda/device_weights.h"

#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "cuda/cuda_check.h"
#include "cuda/device_buffer.h"
#include "cuda/kernels/kernels.h"
#include "engine/weights/dtype.h"

namespace gptoss::cuda {
namespace {

constexpr size_t kAlign = 256;

size_t aligned(size_t bytes) {
    return (bytes + kAlign - 1) / kAlign * kAlign;
}

// Walks the tensors in upload order. With a null base it only counts bytes; otherwise it copies each
// tensor to the next aligned offset of the arena and reports where it went.
class ArenaWriter {
public:
    explicit ArenaWriter(std::byte* base) : base_(base) {}
    size_t used() const { return offset_; }

    const void* copy(const void* src, size_t bytes) {
        std::byte* dst = reserve(bytes);
        if (dst) GPTOSS_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
        return dst;
    }
    const uint16_t* bf16(const TensorView& t) { return static_cast<const uint16_t*>(copy(t.data, t.nbytes)); }
    // bf16 tensor -> float32 on the device.
    const float* f32(const TensorView& t) {
        if (!t.data) return nullptr;  // an optional tensor the checkpoint lacks (e.g. attention_bias false)
        const size_t n = static_cast<size_t>(t.numel());
        std::byte* dst = reserve(n * sizeof(float));
        if (dst) {
            std::vector<float> host(n);
            for (size_t i = 0; i < n; ++i) host[i] = bf16_to_float(t.bf16()[i]);
            GPTOSS_CUDA_CHECK(cudaMemcpy(dst, host.data(), n * sizeof(float), cudaMemcpyHostToDevice));
        }
        return reinterpret_cast<const float*>(dst);
    }
    // Several bf16 tensors of the same row width, concatenated along rows.
    const uint16_t* concat_bf16(std::initializer_list<const TensorView*> parts) {
        size_t total = 0;
        for (const TensorView* p : parts) total += p->nbytes;
        std::byte* dst = reserve(total);
        if (dst) {
            size_t at = 0;
            for (const TensorView* p : parts) {
                GPTOSS_CUDA_CHECK(cudaMemcpy(dst + at, p->data, p->nbytes, cudaMemcpyHostToDevice));
                at += p->nbytes;
            }
        }
        return reinterpret_cast<const uint16_t*>(dst);
    }
    // MXFP4 expert weights [E, N, K/32, 16] + scales [E, N, K/32], repacked on the device into the expert
    // GEMMs' fragment-major layout (kernels.h, mxfp4_repack): the checkpoint's bytes go to a staging buffer,
    // the repack kernel writes the arena. Returns {codes, scales}.
    std::pair<const uint8_t*, const uint8_t*> mxfp4(const TensorView& blocks, const TensorView& scales,
                                                    int experts, int rows, int cols) {
        std::byte* codes = reserve(blocks.nbytes);
        std::byte* packed_scales = reserve(scales.nbytes);
        if (codes) {
            if (!mxfp4_repackable(rows, cols))
                throw std::runtime_error(
                    "the CUDA backend needs expert matrices with rows a multiple of 16 and "
                    "input features a multiple of 64; got " +
                    std::to_string(rows) + " x " + std::to_string(cols));
            staging_.reserve(blocks.nbytes + scales.nbytes);
            GPTOSS_CUDA_CHECK(cudaMemcpy(staging_.get(), blocks.data, blocks.nbytes, cudaMemcpyHostToDevice));
            GPTOSS_CUDA_CHECK(cudaMemcpy(staging_.get() + blocks.nbytes, scales.data, scales.nbytes,
                                         cudaMemcpyHostToDevice));
            mxfp4_repack({.blocks = staging_.get(),
                          .scales = staging_.get() + blocks.nbytes,
                          .experts = experts,
                          .rows = rows,
                          .cols = cols,
                          .packed_codes = reinterpret_cast<uint8_t*>(codes),
                          .packed_scales = reinterpret_cast<uint8_t*>(packed_scales)},
                         nullptr);
            GPTOSS_CUDA_CHECK(cudaDeviceSynchronize());  // the staging buffer is reused by the next tensor
        }
        return {reinterpret_cast<const uint8_t*>(codes), reinterpret_cast<const uint8_t*>(packed_scales)};
    }
    const float* concat_f32(std::initializer_list<const TensorView*> parts) {
        for (const TensorView* p : parts)
            if (!p->data) return nullptr;
        size_t n = 0;
        for (const TensorView* p : parts) n += static_cast<size_t>(p->numel());
        std::byte* dst = reserve(n * sizeof(float));
        if (dst) {
            std::vector<float> host;
            host.reserve(n);
            for (const TensorView* p : parts)
                for (int64_t i = 0; i < p->numel(); ++i) host.push_back(bf16_to_float(p->bf16()[i]));
            GPTOSS_CUDA_CHECK(cudaMemcpy(dst, host.data(), n * sizeof(float), cudaMemcpyHostToDevice));
        }
        return reinterpret_cast<const float*>(dst);
    }

private:
    std::byte* reserve(size_t bytes) {
        std::byte* dst = base_ ? base_ + offset_ : nullptr;
        offset_ += aligned(bytes);
        return dst;
    }
    std::byte* base_;
    size_t offset_ = 0;
    DeviceBuffer<uint8_t> staging_;
};

// The one upload order, used both to size the arena and to fill it.
void walk(const ModelWeights& w, ArenaWriter& out, DeviceWeights* dst) {
    const uint16_t* embed = out.bf16(w.embed_tokens);
    const uint16_t* norm = out.bf16(w.norm);
    const uint16_t* lm_head = w.lm_head.data == w.embed_tokens.data ? embed : out.bf16(w.lm_head);
    if (dst) {
        dst->embed_tokens = embed;
        dst->norm = norm;
        dst->lm_head = lm_head;
        dst->layers.clear();
    }
    for (const LayerWeights& l : w.layers) {
        DeviceLayerWeights d;
        d.input_norm = out.bf16(l.input_layernorm);
        d.post_norm = out.bf16(l.post_attention_layernorm);
        d.qkv_weight = out.concat_bf16({&l.q_proj_weight, &l.k_proj_weight, &l.v_proj_weight});
        d.qkv_bias = out.concat_f32({&l.q_proj_bias, &l.k_proj_bias, &l.v_proj_bias});
        d.o_weight = out.bf16(l.o_proj_weight);
        d.o_bias = out.f32(l.o_proj_bias);
        d.sinks = out.f32(l.sinks);
        d.router_weight = out.bf16(l.router_weight);
        d.router_bias = out.f32(l.router_bias);
        const ModelConfig& c = w.config();
        const int E = c.num_local_experts, H = c.hidden_size, I = c.intermediate_size;
        std::tie(d.gate_up_blocks, d.gate_up_scales) =
            out.mxfp4(l.gate_up_blocks, l.gate_up_scales, E, 2 * I, H);
        d.gate_up_bias = out.f32(l.gate_up_bias);
        std::tie(d.down_blocks, d.down_scales) = out.mxfp4(l.down_blocks, l.down_scales, E, H, I);
        d.down_bias = out.f32(l.down_bias);
        if (dst) dst->layers.push_back(d);
    }
}

}  // namespace

size_t DeviceWeights::required_bytes(const ModelWeights& weights) {
    ArenaWriter counter(nullptr);
    walk(weights, counter, nullptr);
    return counter.used();
}

DeviceWeights::DeviceWeights(const ModelWeights& weights) : arena_(required_bytes(weights)) {
    ArenaWriter writer(arena_.get());
    walk(weights, writer, this);
}

}  // namespace gptoss::cuda
