// Every CUDA launcher of the gpt-oss forward pass: one args struct per op plus a stream.
//
// Each launcher has a float32 twin in engine/cpu/ops.h (or engine/sampler.h) and a test in
// tests/cuda/<op>_test.cu that compares the two. Launchers check their launch (GPTOSS_CUDA_CHECK_LAUNCH) and
// never synchronize. bf16 tensors are passed as their bits (uint16_t), like the checkpoint views.
// Activations that feed tensor cores travel as split bf16 pairs (hi = bf16(x), lo = bf16(x - hi); see
// common.cuh): [2R, W] buffers hold the R hi rows, then the R lo rows. Only the KV cache is plain bf16.
// Shape legend: T tokens, S sequences, H hidden, Hq query heads, Hkv KV heads, G = Hq / Hkv, D head_dim,
// E experts, K experts per token, P = T * K (token, expert) pairs, I intermediate, V vocab, R logits rows,
// NB blocks of a KV pool, BS block size.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>

namespace gptoss::cuda {

// ---- embedding.cu -------------------------------------------------------------------------------------
struct EmbeddingArgs {
    const uint16_t* table = nullptr;     // [V, H] bf16
    const int32_t* token_ids = nullptr;  // [T]
    int num_tokens = 0;
    int hidden = 0;
    float* out = nullptr;  // [T, H] float32 (the residual stream)
};
void embedding(const EmbeddingArgs& args, cudaStream_t stream);

// ---- rmsnorm.cu ---------------------------------------------------------------------------------------
// Residual add fused with RMSNorm. Output row r reads source row s = row_indices ? row_indices[r] : r:
//   x = residual[s] + sum_{k < num_deltas} deltas[s, k]     (summed in order k = 0, 1, ...; float32)
//   if (update_residual) residual[s] = x
//   y = x / sqrt(mean(x^2) + eps) * weight                   (product in float32)
//   out[r] = bf16(y); with out_lo, out_lo[r] = bf16(y - out[r]) (the split pair)
// The MoE combine is this with deltas = the K weighted expert outputs of each token.
struct RmsNormArgs {
    float* residual = nullptr;      // [T, H] float32
    const float* deltas = nullptr;  // [T, num_deltas, H] float32, or null
    int num_deltas = 0;
    bool update_residual = true;
    const uint16_t* weight = nullptr;  // [H] bf16
    float eps = 1e-5f;
    const int32_t* row_indices = nullptr;  // [R] or null (then R = T)
    int num_rows = 0;                      // R
    int hidden = 0;
    uint16_t* out = nullptr;     // [R, H] bf16
    uint16_t* out_lo = nullptr;  // [R, H] bf16 or null
};
void rmsnorm(const RmsNormArgs& args, cudaStream_t stream);

// ---- gemm.cpp (cuBLASLt) ------------------------------------------------------------------------------
// y = x W^T + bias with bf16 operands, float32 accumulation and a float32 result.
struct LinearArgs {
    const uint16_t* x = nullptr;       // [T, in] bf16, rows contiguous
    const uint16_t* weight = nullptr;  // [out, in] bf16 (nn.Linear layout)
    const float* bias = nullptr;       // [out] float32, or null
    int num_tokens = 0;
    int in_features = 0;
    int out_features = 0;
    bool split_input = false;
    float* y = nullptr;  // [T, out] float32 ([2T, out] of space when split_input)
};
// Decode sizes (<= kGemvMaxTokens tokens) go to linear_gemv below; larger ones to cuBLASLt.
// Owns the cuBLASLt handle, its workspace and a cache of chosen algorithms (one per shape).
class LinearGemm {
public:
    explicit LinearGemm(size_t workspace_bytes = size_t{32} << 20);
    ~LinearGemm();
    LinearGemm(const LinearGemm&) = delete;
    LinearGemm& operator=(const LinearGemm&) = delete;
    void run(const LinearArgs& args, cudaStream_t stream);

private:
    struct Plan;
    const Plan& plan_for(const LinearArgs& args);
    cublasLtHandle_t handle_ = nullptr;
    void* workspace_ = nullptr;
    size_t workspace_bytes_ = 0;
    std::map<std::tuple<int, int, int, bool>, std::unique_ptr<Plan>> plans_;
};

// ---- gemv.cu ------------------------------------------------------------------------------------------
// The same product for at most 8 tokens as a float32 weight stream on the CUDA cores (x = hi + lo when
// split_input): y[0:T] gets the final result, bias included.
constexpr int kGemvMaxTokens = 8;
void linear_gemv(const LinearArgs& args, cudaStream_t stream);

// ---- split_bf16.cu -----------------------------------------------------------------------------------
// y[t, n] = y[t, n] + y[T + t, n] + bias[n]: the two halves of a split-input GEMM.
struct SplitSumArgs {
    float* y = nullptr;           // [2T, N]
    const float* bias = nullptr;  // [N] or null
    int num_tokens = 0;           // T
    int width = 0;                // N
};
void sum_split_halves(const SplitSumArgs& args, cudaStream_t stream);

// ---- rope.cu ------------------------------------------------------------------------------------------
// YaRN RoPE in place, half-split (NeoX) pairs (x[i], x[i + D/2]): angle = inv_freq[i] * float(position) in
// float32, C = float(cos(angle)) * scaling, S = float(sin(angle)) * scaling with cos/sin in double (the CPU
// rule of make_rope_table / apply_rope).
// Rotates heads [0, num_heads) of each row; rows are row_stride floats apart (q and k sit side by side).
// With slot_mapping set, the same launch then writes the row's K (the last num_kv_heads rotated heads) and
// V (the num_kv_heads heads after them) to the KV cache (float32 -> bf16 at slot = block * BS + offset): one
// launch, not two.
struct RopeArgs {
    float* x = nullptr;  // [T, row_stride] float32; head h of token t at x + t * row_stride + h * D
    int row_stride = 0;
    int num_tokens = 0;
    int num_heads = 0;
    int head_dim = 0;
    const int32_t* positions = nullptr;  // [T]
    const float* inv_freq = nullptr;     // [D/2]
    float attention_scaling = 1.0f;
    const int64_t* slot_mapping = nullptr;  // [T] or null (no KV write); slots < 0 are skipped
    int num_kv_heads = 0;
    uint16_t* k_cache = nullptr;  // [NB, BS, Hkv, D] bf16
    uint16_t* v_cache = nullptr;  // [NB, BS, Hkv, D] bf16
};
void rope(const RopeArgs& args, cudaStream_t stream);

// ---- attention.cu -------------------------------------------------------------------------------------
// Paged causal attention with per-head sinks, GQA and an optional sliding window, for prefill chunks and
// decode alike (FlashAttention-2 style on tensor cores; q and the probabilities as split bf16 pairs, K and V
// as cached). Work item = (tile, KV head, split): a tile is
// kAttentionTileRows consecutive (query token, head-in-group) rows of one sequence, row = token * G + g.
// The keys of a tile may be split over num_splits blocks (long decodes); the partial results go to the
// workspace and attention_combine merges them with the sink.
// Key j of sequence s is visible to a query at position p iff lo <= j <= p, lo = window > 0 ?
// p - window + 1 : 0. Logical block b of sequence s sits at block_table[s * table_stride + b -
// first_block[s]] (first_block null = all zeros); blocks before first_block or with id < 0 are treated as
// absent (masked).
constexpr int kAttentionTileRows = 64;
struct AttentionArgs {
    const float* q = nullptr;  // [T, q_row_stride]: Hq * D values at q + t * q_row_stride
    int q_row_stride = 0;
    const uint16_t* k_cache = nullptr;  // [NB, BS, Hkv, D] bf16
    const uint16_t* v_cache = nullptr;  // [NB, BS, Hkv, D] bf16
    int block_size = 0;
    const int32_t* block_table = nullptr;  // [S, table_stride]
    int table_stride = 0;
    const int32_t* table_stride_device = nullptr;  // or null; else the stride is read here (graph replays)
    const int32_t* first_block = nullptr;          // [S] or null
    const int32_t* query_start = nullptr;          // [S + 1]
    const int32_t* positions = nullptr;            // [T]
    int num_tokens = 0;
    int num_heads = 0;
    int num_kv_heads = 0;
    int head_dim = 0;              // 64 or 128
    int window = 0;                // 0 = full attention
    const float* sinks = nullptr;  // [Hq] float32 (raw logits)
    float scale = 0.125f;          // 1 / sqrt(D)
    // Work decomposition (make_attention_tiles): tile i covers rows [tile_row_start[i], +64) of
    // sequence tile_seq[i].
    const int32_t* tile_seq = nullptr;        // [num_tiles]
    const int32_t* tile_row_start = nullptr;  // [num_tiles]
    int num_tiles = 0;
    int num_splits = 1;
    float* split_out = nullptr;  // [num_splits, T, Hq, D] float32 workspace (num_splits > 1)
    float* split_max = nullptr;  // [num_splits, T, Hq] (log2 units)
    float* split_sum = nullptr;  // [num_splits, T, Hq]
    uint16_t* out = nullptr;     // [T, Hq, D] bf16
    uint16_t* out_lo = nullptr;  // [T, Hq, D] bf16 or null: the split pair's lo half
};
void attention(const AttentionArgs& args, cudaStream_t stream);

// ---- moe_router.cu ------------------------------------------------------------------------------------
// Top-k experts by logit (ties: lower expert id), softmax over the k chosen logits.
struct RouterTopkArgs {
    const float* logits = nullptr;  // [T, E]
    int num_tokens = 0;
    int num_experts = 0;
    int k = 0;                   // <= kMaxExpertsPerToken
    int32_t* experts = nullptr;  // [T, K], descending logit
    float* weights = nullptr;    // [T, K]
};
constexpr int kMaxExpertsPerToken = 16;
void router_topk(const RouterTopkArgs& args, cudaStream_t stream);

// ---- moe_permute.cu -----------------------------------------------------------------------------------
// Groups the P = T * K (token, expert) pairs by expert (counting sort; order within an expert is arbitrary,
// which changes no result since every GEMM row is computed on its own), and cuts each expert's rows into
// tiles of tile_rows for the grouped GEMMs. Runs entirely on the device (no host round trip).
struct MoeGroupArgs {
    const int32_t* experts = nullptr;  // [P] expert of pair p = t * K + k
    int num_pairs = 0;
    int num_experts = 0;
    int tile_rows = 0;
    int max_tiles = 0;                  // capacity of the tile arrays (moe_max_tiles)
    int32_t* expert_offsets = nullptr;  // [E + 1] rows of expert e are [off[e], off[e+1]) of the sorted order
    int32_t* sorted_pairs = nullptr;    // [P] pair index at each sorted position
    int32_t* tile_expert = nullptr;     // [max_tiles]
    int32_t* tile_row_start = nullptr;  // [max_tiles] first sorted row of the tile
    int32_t* num_tiles = nullptr;       // [1]
};
// An upper bound on the tiles moe_group makes: sum_e ceil(c_e / rows) <= P / rows + min(E, P).
int moe_max_tiles(int num_pairs, int num_experts, int tile_rows);
void moe_group(const MoeGroupArgs& args, cudaStream_t stream);

// ---- mxfp4_repack.cu ----------------------------------------------------------------------------------
// The expert GEMMs read MXFP4 weights in a fragment-major layout, written once at load from the checkpoint's
// [E, N, K/32, 16] blocks + [E, N, K/32] e8m0 scales (same bytes, permuted):
//   codes  [E, N/16, K/64, 32 lanes, 4 words]: lane l's 16 bytes of the (16-row, 64-k) tile hold exactly the
//          bf16 A fragments of four m16n8k16 MMAs (k chunks j = 0..3, one 32-bit word each), so a warp
//          streams a tile with one coalesced 16-byte load per lane and decodes it in registers.
//   scales [E, N/16, K/64, 8 words]: word g = the 4 scales lane (g, *) needs (rows g, g + 8; blocks 2kt,
//   2kt+1).
// Needs N % 16 == 0 and K % 64 == 0 (gpt-oss: 5760 x 2880 and 2880 x 2880; the fixtures too).
struct Mxfp4RepackArgs {
    const uint8_t* blocks = nullptr;  // [E, N, K/32, 16] device, checkpoint layout
    const uint8_t* scales = nullptr;  // [E, N, K/32]
    int experts = 0;
    int rows = 0;                      // N
    int cols = 0;                      // K
    uint8_t* packed_codes = nullptr;   // [E * N * K / 2] bytes
    uint8_t* packed_scales = nullptr;  // [E * N * K / 32] bytes
};
bool mxfp4_repackable(int rows, int cols);
void mxfp4_repack(const Mxfp4RepackArgs& args, cudaStream_t stream);

// ---- moe_mxfp4_gemm.cu --------------------------------------------------------------------------------
// Grouped GEMM over the expert tiles, weights read as repacked MXFP4 (mxfp4_repack above) and decoded in
// registers (exact in bf16); activations as split bf16 pairs, so two tensor-core products per weight
// fragment and float32 accumulation give float32-accurate results. Two kernels: with at most 64 tokens in the
// step (decode) tiles of <= 8 rows whose tokens sit on the MMA's N side (weights streamed at full width, 8
// warps splitting K); otherwise 16- or 64-row tiles on the M side (prefill).
//   kGateUpSwiglu: row i (sorted) computes g = W_gu[e] h[token(i)] + b_gu[e] (N = 2I rows, even = gate,
//                  odd = up) and writes act[i, j] = swiglu(g[2j], g[2j+1]) (clamped gpt-oss SwiGLU, limit,
//                  alpha 1.702) as a split pair (act_out, act_lo_out).
//   kDownWeighted: row i computes y = W_d[e] act[i] + b_d[e] and writes out[pair(i), :] = w[pair(i)] * y.
enum class MoeEpilogue { kGateUpSwiglu, kDownWeighted };
struct MoeGemmArgs {
    MoeEpilogue epilogue = MoeEpilogue::kGateUpSwiglu;
    const uint16_t* a = nullptr;      // kGateUpSwiglu: h [T, in]; kDownWeighted: act [P, in] (sorted order)
    int64_t a_lo_offset = 0;          // elements from a row of the hi half to the same row of the lo half
    int top_k = 0;                    // token(i) = sorted_pairs[i] / top_k
    int num_pairs = 0;                // P = T * top_k
    const uint8_t* blocks = nullptr;  // repacked codes of [E, N, in]
    const uint8_t* scales = nullptr;  // repacked scales
    const float* bias = nullptr;      // [E, N] float32
    int in_features = 0;              // multiple of 64
    int out_features = 0;             // N, multiple of 16
    const int32_t* sorted_pairs = nullptr;
    const int32_t* expert_offsets = nullptr;
    const int32_t* tile_expert = nullptr;
    const int32_t* tile_row_start = nullptr;
    const int32_t* num_tiles = nullptr;  // device scalar
    int max_tiles = 0;
    int tile_rows = 0;  // must equal moe_gemm_tile_rows(...) used for moe_group
    float swiglu_limit = 7.0f;
    const float* routing_weights = nullptr;  // [P] (kDownWeighted)
    uint16_t* act_out = nullptr;             // [P, N / 2] bf16 hi (kGateUpSwiglu)
    uint16_t* act_lo_out = nullptr;          // [P, N / 2] bf16 lo (kGateUpSwiglu)
    float* y_out = nullptr;                  // [P, N] float32 (kDownWeighted)
};
// Rows per tile the GEMM uses for a step with `num_pairs` = tokens * top_k pairs over `num_experts` experts:
// 8 (the decode kernel) when the step has at most 64 tokens, else 16 or 64.
int moe_gemm_tile_rows(int num_pairs, int num_experts, int top_k);
void moe_mxfp4_gemm(const MoeGemmArgs& args, cudaStream_t stream);

// ---- sampling.cu --------------------------------------------------------------------------------------
// engine/sampler.h on the device. Per row: logprobs of the raw logits (when num_top_logprobs >= 0), then
// the greedy argmax or the untruncated Gumbel-max draw (stream = sampling_stream(seed, output_index)), or
// temperature / top-k / top-p / min-p sampling with the uniform u the host drew as sampling_uniform(seed,
// output_index). Ties: lower token id first. probs [R, V] is scratch.
constexpr int kMaxTopLogprobs = 20;
struct SamplingRowParams {
    float temperature = 1.0f;
    int top_k = 0;
    float top_p = 1.0f;
    float min_p = 0.0f;
    float uniform = 0.0f;       // the truncated draw's u (engine/sampler.h step 6)
    uint64_t stream = 0;        // the untruncated draw's Gumbel stream (step 5)
    int greedy = 0;             // 1 = argmax
    int num_top_logprobs = -1;  // -1 = no logprobs; else 0..kMaxTopLogprobs alternatives
};
struct SamplingArgs {
    const float* logits = nullptr;  // [R, V] float32
    float* probs = nullptr;         // [R, V] scratch: the candidates' probabilities
    int num_rows = 0;
    int vocab = 0;
    const SamplingRowParams* params = nullptr;  // [R]
    int32_t* tokens = nullptr;                  // [R]
    float* token_logprobs = nullptr;            // [R]
    int32_t* top_tokens = nullptr;              // [R, kMaxTopLogprobs]
    float* top_logprobs = nullptr;              // [R, kMaxTopLogprobs]
};
void sample(const SamplingArgs& args, cudaStream_t stream);

}  // namespace gptoss::cuda
