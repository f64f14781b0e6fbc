// Paged attention with sinks, GQA and sliding windows (prefill chunks and decodes), FlashAttention-2 style:
// a block owns 64 (query token, head-in-group) rows of one sequence and one KV head, streams the visible keys
// through shared memory in tiles of 64 (cp.async, double-buffered) and keeps an online softmax in registers.
// Q K^T and P V run on tensor cores (mma.sync m16n8k16 bf16, float32 accumulators); q and the probabilities
// are split bf16 pairs (two MMAs each), so only the cached K and V carry bf16 rounding; softmax in float32.
// Long contexts are split over several blocks (blockIdx.z); attention_combine_kernel merges the splits.
// Legend: BM query rows per block (16 per warp), BN keys per tile, D head_dim, G heads per KV head.
#include <climits>
#include <stdexcept>
#include <string>

#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

constexpr int kWarps = kAttentionTileRows / 16;
constexpr int kThreads = kWarps * 32;
constexpr int kKeysPerTile = 64;  // BN
constexpr float kLog2e = 1.4426950408889634f;

template <int D>
struct AttentionSmem {
    static constexpr int kPitch = D + 8;  // bf16 per row: 16 bytes of padding keeps ldmatrix conflict-free
    static constexpr int kQ = kAttentionTileRows * kPitch;
    static constexpr int kKv = kKeysPerTile * kPitch;
    static constexpr size_t kBytes =
        sizeof(uint16_t) * (2 * kQ + 4 * kKv) + sizeof(int) * (2 * kKeysPerTile + 2);
};

// Per-thread view of its two query rows (g and g + 8 of its warp's 16).
struct RowInfo {
    int token = -1;  // flat token index, -1 when the row is padding
    int head = 0;
    int pos = -1;
    int lo = 0;
};

template <int D>
__global__ void __launch_bounds__(kThreads) attention_kernel(AttentionArgs a) {
    using Smem = AttentionSmem<D>;
    constexpr int kPitch = Smem::kPitch;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    uint16_t* q_s = reinterpret_cast<uint16_t*>(smem_raw);      // [BM][pitch] hi
    uint16_t* q_lo_s = q_s + Smem::kQ;                          // [BM][pitch] lo
    uint16_t* k_s = q_lo_s + Smem::kQ;                          // [2][BN][pitch]
    uint16_t* v_s = k_s + 2 * Smem::kKv;                        // [2][BN][pitch]
    int* key_ok = reinterpret_cast<int*>(v_s + 2 * Smem::kKv);  // [2][BN]
    int* pos_range = key_ok + 2 * kKeysPerTile;                 // [min, max] position of the tile

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int g = lane >> 2, c = lane & 3;
    const int tile = blockIdx.x, kvh = blockIdx.y, split = blockIdx.z;
    const int seq = a.tile_seq[tile];
    const int row0 = a.tile_row_start[tile];
    const int q_begin = a.query_start[seq];
    const int group = a.num_heads / a.num_kv_heads;
    const int num_rows = (a.query_start[seq + 1] - q_begin) * group;
    const int rows_here = min(kAttentionTileRows, num_rows - row0);

    // Key range of the tile: [lowest lo, highest position] over its tokens.
    if (tid == 0) {
        pos_range[0] = INT_MAX;
        pos_range[1] = -1;
    }
    __syncthreads();
    {
        const int first_token = row0 / group, last_token = (row0 + rows_here - 1) / group;
        for (int t = first_token + tid; t <= last_token; t += kThreads) {
            const int p = a.positions[q_begin + t];
            atomicMin(&pos_range[0], p);
            atomicMax(&pos_range[1], p);
        }
    }
    // Q tile -> split bf16 pair in shared memory (zeros for padding rows).
    for (int idx = tid; idx < kAttentionTileRows * (D / 8); idx += kThreads) {
        const int row = idx / (D / 8), chunk = idx % (D / 8);
        uint4 hi = make_uint4(0, 0, 0, 0), lo = make_uint4(0, 0, 0, 0);
        if (row < rows_here) {
            const int r = row0 + row;
            const int token = q_begin + r / group, head = kvh * group + r % group;
            const float4* src = reinterpret_cast<const float4*>(
                a.q + static_cast<int64_t>(token) * a.q_row_stride + head * D + chunk * 8);
            const float4 x0 = src[0], x1 = src[1];
            split_pack_bf16x2(x0.x, x0.y, hi.x, lo.x);
            split_pack_bf16x2(x0.z, x0.w, hi.y, lo.y);
            split_pack_bf16x2(x1.x, x1.y, hi.z, lo.z);
            split_pack_bf16x2(x1.z, x1.w, hi.w, lo.w);
        }
        *reinterpret_cast<uint4*>(q_s + row * kPitch + chunk * 8) = hi;
        *reinterpret_cast<uint4*>(q_lo_s + row * kPitch + chunk * 8) = lo;
    }
    __syncthreads();

    const int kv_lo = a.window > 0 ? max(0, pos_range[0] - a.window + 1) : 0;
    const int kv_hi = pos_range[1] + 1;
    const int per_split =
        ceil_div(ceil_div(max(kv_hi - kv_lo, 0), a.num_splits), kKeysPerTile) * kKeysPerTile;
    const int split_begin = kv_lo + split * per_split;
    const int split_end = min(kv_hi, split_begin + per_split);
    const int num_kv_tiles = split_end > split_begin ? ceil_div(split_end - split_begin, kKeysPerTile) : 0;

    RowInfo rows[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int r = row0 + warp * 16 + g + 8 * h;
        if (r - row0 < rows_here) {
            rows[h].token = q_begin + r / group;
            rows[h].head = kvh * group + r % group;
            rows[h].pos = a.positions[rows[h].token];
            rows[h].lo = a.window > 0 ? rows[h].pos - a.window + 1 : 0;
        }
    }
    const bool warp_active = warp * 16 < rows_here;

    // This warp's Q fragments stay in registers for the whole key loop.
    uint32_t q_frag[D / 16][4], q_lo_frag[D / 16][4];
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
        const int offset = (warp * 16 + (lane & 15)) * kPitch + kk * 16 + (lane >> 4) * 8;
        ldmatrix_x4(q_frag[kk], q_s + offset);
        ldmatrix_x4(q_lo_frag[kk], q_lo_s + offset);
    }

    // Two threads per key: each copies half of the key's K and V rows (cp.async; zero-fill when absent).
    const int first_block = a.first_block ? a.first_block[seq] : 0;
    const int table_stride = a.table_stride_device ? *a.table_stride_device : a.table_stride;
    const int* table = a.block_table + static_cast<int64_t>(seq) * table_stride;
    auto load_kv = [&](int stage, int key_base) {
        static_assert(kThreads == 2 * kKeysPerTile, "two threads per key");
        const int j = tid >> 1, half = tid & 1;
        const int key = key_base + j;
        int64_t offset = 0;
        bool ok = false;
        if (key < split_end) {
            const int b = key / a.block_size - first_block;
            if (b >= 0 && b < table_stride) {
                const int block = table[b];
                if (block >= 0) {
                    ok = true;
                    const int64_t slot = static_cast<int64_t>(block) * a.block_size + key % a.block_size;
                    offset = (slot * a.num_kv_heads + kvh) * D;
                }
            }
        }
        uint16_t* k_dst = k_s + stage * Smem::kKv + j * kPitch;
        uint16_t* v_dst = v_s + stage * Smem::kKv + j * kPitch;
#pragma unroll
        for (int chunk = half * (D / 16); chunk < (half + 1) * (D / 16); ++chunk) {
            cp_async_16(k_dst + chunk * 8, a.k_cache + offset + chunk * 8, ok ? 16 : 0);
            cp_async_16(v_dst + chunk * 8, a.v_cache + offset + chunk * 8, ok ? 16 : 0);
        }
        if (half == 0) key_ok[stage * kKeysPerTile + j] = ok;
    };

    float o[D / 8][4];
#pragma unroll
    for (int i = 0; i < D / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
    float m[2] = {-INFINITY, -INFINITY};  // running max, log2 units
    float l[2] = {0.0f, 0.0f};            // this thread's part of the running denominator
    const float score_scale = a.scale * kLog2e;

    if (num_kv_tiles > 0) load_kv(0, split_begin);
    cp_async_commit();
    for (int it = 0; it < num_kv_tiles; ++it) {
        const int stage = it & 1;
        const int key_base = split_begin + it * kKeysPerTile;
        if (it + 1 < num_kv_tiles) load_kv(stage ^ 1, key_base + kKeysPerTile);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();
        if (warp_active) {
            const uint16_t* k_tile = k_s + stage * Smem::kKv;
            const uint16_t* v_tile = v_s + stage * Smem::kKv;
            const int* ok_tile = key_ok + stage * kKeysPerTile;
            // S = Q K^T for 16 rows x 64 keys.
            float s[kKeysPerTile / 8][4];
#pragma unroll
            for (int nt = 0; nt < kKeysPerTile / 8; ++nt) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
#pragma unroll
            for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
                for (int np = 0; np < kKeysPerTile / 16; ++np) {
                    uint32_t kb[4];
                    ldmatrix_x4(kb, k_tile + (np * 16 + (lane & 7) + (lane >> 4) * 8) * kPitch + kk * 16 +
                                        ((lane >> 3) & 1) * 8);
                    mma_bf16_16816(s[2 * np], q_frag[kk], kb[0], kb[1]);
                    mma_bf16_16816(s[2 * np], q_lo_frag[kk], kb[0], kb[1]);
                    mma_bf16_16816(s[2 * np + 1], q_frag[kk], kb[2], kb[3]);
                    mma_bf16_16816(s[2 * np + 1], q_lo_frag[kk], kb[2], kb[3]);
                }
            }
            // Mask, scale to log2 units, online softmax.
            float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
            for (int nt = 0; nt < kKeysPerTile / 8; ++nt) {
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const int h = e >> 1;
                    const int j = nt * 8 + 2 * c + (e & 1);
                    const int key = key_base + j;
                    const bool visible =
                        ok_tile[j] && key < split_end && key <= rows[h].pos && key >= rows[h].lo;
                    s[nt][e] = visible ? s[nt][e] * score_scale : -INFINITY;
                    tile_max[h] = fmaxf(tile_max[h], s[nt][e]);
                }
            }
            float correction[2], m_use[2];
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 1));
                tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 2));
                const float m_new = fmaxf(m[h], tile_max[h]);
                m_use[h] = m_new == -INFINITY ? 0.0f : m_new;
                correction[h] = exp2f(m[h] - m_use[h]);
                m[h] = m_new;
                l[h] *= correction[h];
            }
#pragma unroll
            for (int nt = 0; nt < kKeysPerTile / 8; ++nt) {
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    s[nt][e] = exp2f(s[nt][e] - m_use[e >> 1]);
                    l[e >> 1] += s[nt][e];
                }
            }
#pragma unroll
            for (int dt = 0; dt < D / 8; ++dt) {
                o[dt][0] *= correction[0];
                o[dt][1] *= correction[0];
                o[dt][2] *= correction[1];
                o[dt][3] *= correction[1];
            }
            // O += P V: the S accumulators of two adjacent key groups form one A fragment (a split pair).
#pragma unroll
            for (int kc = 0; kc < kKeysPerTile / 16; ++kc) {
                uint32_t p_frag[4], p_lo_frag[4];
                split_pack_bf16x2(s[2 * kc][0], s[2 * kc][1], p_frag[0], p_lo_frag[0]);
                split_pack_bf16x2(s[2 * kc][2], s[2 * kc][3], p_frag[1], p_lo_frag[1]);
                split_pack_bf16x2(s[2 * kc + 1][0], s[2 * kc + 1][1], p_frag[2], p_lo_frag[2]);
                split_pack_bf16x2(s[2 * kc + 1][2], s[2 * kc + 1][3], p_frag[3], p_lo_frag[3]);
#pragma unroll
                for (int dp = 0; dp < D / 16; ++dp) {
                    uint32_t vb[4];
                    ldmatrix_x4_trans(vb, v_tile + (kc * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * kPitch +
                                              dp * 16 + (lane >> 4) * 8);
                    mma_bf16_16816(o[2 * dp], p_frag, vb[0], vb[1]);
                    mma_bf16_16816(o[2 * dp], p_lo_frag, vb[0], vb[1]);
                    mma_bf16_16816(o[2 * dp + 1], p_frag, vb[2], vb[3]);
                    mma_bf16_16816(o[2 * dp + 1], p_lo_frag, vb[2], vb[3]);
                }
            }
        }
        __syncthreads();
    }
    cp_async_wait<0>();

#pragma unroll
    for (int h = 0; h < 2; ++h) {
        l[h] += __shfl_xor_sync(0xffffffffu, l[h], 1);
        l[h] += __shfl_xor_sync(0xffffffffu, l[h], 2);
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const RowInfo& row = rows[h];
        if (row.token < 0) continue;
        const int64_t row_index = static_cast<int64_t>(row.token) * a.num_heads + row.head;
        if (a.num_splits == 1) {
            // Finish here: the sink joins the denominator with a zero value row.
            const float sink = a.sinks ? a.sinks[row.head] * kLog2e : -INFINITY;
            const float m_final = fmaxf(m[h], sink);
            const float factor = m_final == -INFINITY ? 0.0f : exp2f(m[h] - m_final);
            const float denom = l[h] * factor + (m_final == -INFINITY ? 0.0f : exp2f(sink - m_final));
            const float scale = denom > 0.0f ? factor / denom : 0.0f;
            uint32_t* dst = reinterpret_cast<uint32_t*>(a.out + row_index * D);
            uint32_t* dst_lo = a.out_lo ? reinterpret_cast<uint32_t*>(a.out_lo + row_index * D) : nullptr;
#pragma unroll
            for (int dt = 0; dt < D / 8; ++dt) {
                uint32_t hi, lo;
                split_pack_bf16x2(o[dt][2 * h] * scale, o[dt][2 * h + 1] * scale, hi, lo);
                dst[(dt * 8 + 2 * c) / 2] = hi;
                if (dst_lo) dst_lo[(dt * 8 + 2 * c) / 2] = lo;
            }
        } else {
            const int64_t split_row = static_cast<int64_t>(split) * a.num_tokens * a.num_heads + row_index;
            float2* dst = reinterpret_cast<float2*>(a.split_out + split_row * D);
#pragma unroll
            for (int dt = 0; dt < D / 8; ++dt)
                dst[(dt * 8 + 2 * c) / 2] = make_float2(o[dt][2 * h], o[dt][2 * h + 1]);
            if (c == 0) {
                a.split_max[split_row] = m[h];
                a.split_sum[split_row] = l[h];
            }
        }
    }
}

// One warp per (token, head): merges the splits' partial (max, sum, unnormalised O) with the sink.
template <int D>
__global__ void attention_combine_kernel(AttentionArgs a) {
    const int lane = threadIdx.x & 31;
    const int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + (threadIdx.x >> 5);
    const int64_t num_rows = static_cast<int64_t>(a.num_tokens) * a.num_heads;
    if (row >= num_rows) return;
    const int head = static_cast<int>(row % a.num_heads);
    const float sink = a.sinks ? a.sinks[head] * kLog2e : -INFINITY;
    float m_final = sink;
    for (int s = 0; s < a.num_splits; ++s) m_final = fmaxf(m_final, a.split_max[s * num_rows + row]);
    float denom = m_final == -INFINITY ? 0.0f : exp2f(sink - m_final);
    float acc[D / 32];
#pragma unroll
    for (int i = 0; i < D / 32; ++i) acc[i] = 0.0f;
    for (int s = 0; s < a.num_splits; ++s) {
        const float ms = a.split_max[s * num_rows + row];
        const float f = ms == -INFINITY ? 0.0f : exp2f(ms - m_final);
        denom += a.split_sum[s * num_rows + row] * f;
        const float* src = a.split_out + (s * num_rows + row) * D;
#pragma unroll
        for (int i = 0; i < D / 32; ++i) acc[i] += src[lane + 32 * i] * f;
    }
    const float inv = denom > 0.0f ? 1.0f / denom : 0.0f;
#pragma unroll
    for (int i = 0; i < D / 32; ++i) {
        const int64_t at = row * D + lane + 32 * i;
        if (a.out_lo) {
            split_bf16(acc[i] * inv, a.out[at], a.out_lo[at]);
        } else {
            a.out[at] = float_to_bf16_bits(acc[i] * inv);
        }
    }
}

template <int D>
void launch_attention(const AttentionArgs& a, cudaStream_t stream) {
    static const bool configured = [] {
        GPTOSS_CUDA_CHECK(cudaFuncSetAttribute(attention_kernel<D>,
                                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(AttentionSmem<D>::kBytes)));
        return true;
    }();
    (void)configured;
    const dim3 grid(a.num_tiles, a.num_kv_heads, a.num_splits);
    attention_kernel<D><<<grid, kThreads, AttentionSmem<D>::kBytes, stream>>>(a);
    GPTOSS_CUDA_CHECK_LAUNCH();
    if (a.num_splits > 1) {
        const int64_t rows = static_cast<int64_t>(a.num_tokens) * a.num_heads;
        constexpr int kRowsPerBlock = 8;
        attention_combine_kernel<D><<<static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock),
                                      32 * kRowsPerBlock, 0, stream>>>(a);
        GPTOSS_CUDA_CHECK_LAUNCH();
    }
}

}  // namespace

void attention(const AttentionArgs& a, cudaStream_t stream) {
    if (a.num_tiles == 0) return;
    if (a.num_kv_heads <= 0 || a.num_heads % a.num_kv_heads != 0)
        throw std::invalid_argument("attention: num_heads must be a multiple of num_kv_heads");
    if (a.q_row_stride % 4 != 0)
        throw std::invalid_argument("attention: q_row_stride must be a multiple of 4 floats");
    if (a.num_splits < 1 || (a.num_splits > 1 && !a.split_out))
        throw std::invalid_argument("attention: num_splits > 1 needs the split workspace");
    switch (a.head_dim) {
        case 64:
            launch_attention<64>(a, stream);
            break;
        case 128:
            launch_attention<128>(a, stream);
            break;
        default:
            throw std::invalid_argument("attention: head_dim " + std::to_string(a.head_dim) +
                                        " is not supported by the CUDA kernels (64 or 128)");
    }
}

}  // namespace gptoss::cuda
