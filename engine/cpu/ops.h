// Reference operators of the gpt-oss forward pass, float32 on the CPU.
//
// CpuRunner composes these; every CUDA kernel in cuda/kernels has its twin here and is tested against it.
// Written for clarity: fixed reduction order per output element, so a row's result never depends on the
// other rows in the batch. Weights come as stored in the checkpoint (bf16 bits, MXFP4 blocks + scales).
// Shape legend: T tokens, H hidden, Hq query heads, Hkv KV heads, D head_dim, E experts, K experts per
// token, I intermediate, V vocab, NB blocks of a KV pool, BS block size.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "config/model_config.h"
#include "engine/weights/model_weights.h"

namespace gptoss::cpu {

// out[t, :] = table[ids[t], :]                                       table [V, H] bf16 -> out [T, H]
void embedding(const uint16_t* table, std::span<const int32_t> ids, int hidden, float* out);

// out = x / sqrt(mean(x^2) + eps) * weight (product in float32)     x [T, H], weight [H] bf16 -> out [T, H]
void rmsnorm(const float* x, const uint16_t* weight, float eps, int num_tokens, int hidden, float* out);

// y = x W^T + b   x [T, in] f32, w [out, in] bf16, bias [out] bf16 or null -> y [T, out] f32
void linear(const float* x, const uint16_t* weight, const uint16_t* bias, int num_tokens, int in_features,
            int out_features, float* y);

// Several projections of the same input in one parallel pass (q, k and v): y_i = x W_i^T + b_i.
// x [T, in], each weight [out_i, in] bf16, bias [out_i] bf16 or null -> y_i [T, out_i]
struct LinearOutput {
    const uint16_t* weight = nullptr;
    const uint16_t* bias = nullptr;
    int out_features = 0;
    float* y = nullptr;
};
void linear_many(const float* x, int num_tokens, int in_features, std::span<const LinearOutput> outputs);

// YaRN RoPE, computed the way transformers does in float32: inv_freq from the config, angle = inv_freq * pos
// rounded to float32, cos/sin of that angle times the attention scaling ("concentration").
struct RopeTable {
    std::vector<float> inv_freq;  // [D/2]
    float attention_scaling = 1.0f;
};
RopeTable make_rope_table(const ModelConfig& config);
// Rotates pairs (x[i], x[i + D/2]) of every head in place (half-split / NeoX style).   x [T, heads, D]
void apply_rope(float* x, std::span<const int32_t> positions, int num_heads, int head_dim,
                const RopeTable& rope);

// One layer's K or V storage in a KV pool: [NB, BS, Hkv, D] float32.
struct KvLayerView {
    float* k = nullptr;
    float* v = nullptr;
    int block_size = 0;
    int num_kv_heads = 0;
    int head_dim = 0;
};

// Writes each token's K/V row to its slot (block * BS + offset); slots < 0 are skipped.   k, v [T, Hkv, D]
void write_kv(const float* k, const float* v, std::span<const int64_t> slot_mapping,
              const KvLayerView& cache);

// Which pages of a pool a sequence owns (see BatchInputs): logical block b of sequence s sits at
// table[s * stride + b - first_block[s]] (first_block null = all zeros).
struct BlockTableView {
    const int32_t* table = nullptr;
    int stride = 0;
    const int32_t* first_block = nullptr;
};

// Causal attention with per-head sinks over the paged cache. For a token at position p of sequence s, keys
// are positions j with lo <= j <= p, lo = window > 0 ? max(0, p - window + 1) : 0; query head n reads KV head
// n / (Hq / Hkv). Scores are q.k / sqrt(D); the sink S[n] joins the softmax denominator as exp(S[n]) with a
// zero value.    q [T, Hq, D] -> out [T, Hq, D]
void attention(const float* q, const KvLayerView& cache, const BlockTableView& blocks,
               std::span<const int32_t> query_start, std::span<const int32_t> positions, int num_heads,
               int window, const uint16_t* sinks, float* out);

// Top-k of each row by logit (ties: lower expert id), then softmax over those k.
// logits [T, E] -> experts [T, K] (int32, descending logit), weights [T, K]
void router_topk(const float* logits, int num_tokens, int num_experts, int k, int32_t* experts,
                 float* weights);

// gpt-oss SwiGLU on interleaved gate/up rows: gate = min(g, limit), up = clamp(u, -limit, limit),
// out = gate * sigmoid(1.702 * gate) * (up + 1).     gate_up [T, 2I] (even gate, odd up) -> out [T, I]
void swiglu(const float* gate_up, int num_tokens, int intermediate, float limit, float* out);

// y = W x + b for one expert, W decoded from MXFP4 on the fly.
// blocks [R, C/32, 16], scales [R, C/32] of one expert, bias [R] bf16; x [T, C] -> y [T, R]
void mxfp4_linear(const float* x, const uint8_t* blocks, const uint8_t* scales, const uint16_t* bias,
                  int num_tokens, int in_features, int out_features, float* y);

// The whole MoE block: for each token, sum over its K experts of weight * down(swiglu(gate_up(h))).
// h [T, H], experts/weights [T, K] -> out [T, H]
void moe(const float* h, const int32_t* experts, const float* weights, int num_tokens,
         const LayerWeights& layer, const ModelConfig& config, float* out);

}  // namespace gptoss::cpu
