// Grouped expert GEMMs over repacked MXFP4 weights (kernels.h, mxfp4_repack.cu): e2m1 codes and e8m0 scales
// are decoded to exact bf16 in registers; bf16 tensor cores do the math, two products per weight fragment
// since the activations are split bf16 pairs (float32-accurate).
//
// Decode kernel (<= 64 tokens in the step): one block = one tile of <= 8 rows of an expert x 32 weight rows
// (two 16-row tiles); the rows are the N = 8 side of m16n8k16, the weights the M side. With <= 8 tokens every
// expert is one tile and every weight byte is read once per step; with more, an expert's tiles run side by
// side and share its weights through L2. The 8 warps split K; each issues all of its weight loads (16 bytes
// per lane per tile) before any math, which keeps ~6 KB per warp in flight: the kernel is a pure weight
// stream.
//
// Tile kernel (prefill): one block = a tile of BM sorted (token, expert) rows of one expert x BN weight rows;
// k walks the input features BK = 64 at a time, double-buffered: the next tile's global loads are in flight
// while the current one feeds the tensor cores (BK = 256 was measured slower, docs/perf-notes.md, run 3).
// Epilogues: clamped SwiGLU (gate_up; gate and up are adjacent rows) and bias + routing weight (down).
// Legend: BM rows per tile, BN weight rows per tile, BK input features per stage, N out_features,
// RT = N / 16, KT = K / 64, g = lane / 4, c = lane % 4.
#include <stdexcept>

#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

constexpr int kThreads = 128;

// Register i (0..3) of a repacked code word -> bf16x2 without the scale: magnitude bits to bf16 bits 6..8 and
// 22..24, signs to 15 and 31 (mxfp4_repack.cu places them). The e2m1 magnitude (e1 e0 m) then reads as the
// bf16 2^(e - 127) (1.m), or m 2^-127 for e = 0, i.e. the e2m1 value times 2^-126; decode_scale supplies the
// 2^126 with the block scale, and bf16 arithmetic keeps the subnormals exact.
template <int I>
__device__ __forceinline__ uint32_t fp4x2_bits(uint32_t w) {
    constexpr uint32_t kMag = 0x01C001C0u, kSign = 0x80008000u;
    const uint32_t mag = I == 0 ? w << 6 : I == 1 ? w << 3 : I == 2 ? w : w >> 3;
    const uint32_t sign = I == 0 ? w << 3 : I == 1 ? w << 2 : I == 2 ? w << 1 : w;
    return (mag & kMag) | (sign & kSign);
}

__device__ __forceinline__ uint32_t bf16x2_mul(uint32_t a, uint32_t b) {
    __nv_bfloat162 r =
        __hmul2(*reinterpret_cast<const __nv_bfloat162*>(&a), *reinterpret_cast<const __nv_bfloat162*>(&b));
    return *reinterpret_cast<uint32_t*>(&r);
}

// bf16x2 value of register I of word w with e8m0 scale s: e2m1 x 2^(s - 127), exact. The factor 2^(s - 1)
// (= 2^126 x 2^(s - 127)) is a bf16 for s <= 128; larger scales take the 2^126 first.
template <int I>
__device__ __forceinline__ uint32_t decode_fp4x2(uint32_t w, uint32_t s) {
    uint32_t v = fp4x2_bits<I>(w);
    if (s > 128u) {
        v = bf16x2_mul(v, 0x7E807E80u);  // 2^126
        return bf16x2_mul(v, (s << 7) * 0x10001u);
    }
    return bf16x2_mul(v, ((s + 126u) << 7) * 0x10001u);
}

// The four A-fragment registers of k chunk j from one code word and the lane's scale word (bytes: row g
// block 2kt, row g + 8 block 2kt, row g block 2kt + 1, row g + 8 block 2kt + 1).
__device__ __forceinline__ void decode_fragment(uint32_t w, uint32_t scale_word, int j, uint32_t (&frag)[4]) {
    const int shift = (j >> 1) * 16;
    const uint32_t s_lo = (scale_word >> shift) & 0xFFu, s_hi = (scale_word >> (shift + 8)) & 0xFFu;
    frag[0] = decode_fp4x2<0>(w, s_lo);
    frag[1] = decode_fp4x2<1>(w, s_hi);
    frag[2] = decode_fp4x2<2>(w, s_lo);
    frag[3] = decode_fp4x2<3>(w, s_hi);
}

__device__ __forceinline__ float swiglu(float gate, float up, float limit) {
    gate = fminf(gate, limit);
    up = fminf(fmaxf(up, -limit), limit);
    return gate / (1.0f + expf(-1.702f * gate)) * (up + 1.0f);
}

template <int BM, int BN, int WARPS_M, int WARPS_N, int BK>
struct GemmShape {
    static_assert(BK == 64, "stages are whole 64-k tiles of the repacked weights");
    static constexpr int kBK = BK;         // input features per stage
    static constexpr int kPitch = BK + 8;  // bf16 per smem row; the padding keeps ldmatrix conflict-free
    static_assert(WARPS_M * WARPS_N * 32 == kThreads, "four warps");
    static constexpr int kWarpRows = BM / WARPS_M;  // WTM
    static constexpr int kWarpCols = BN / WARPS_N;  // WTN
    static constexpr int kMt = kWarpRows / 16;
    static constexpr int kNt = kWarpCols / 8;
    static_assert(kNt % 2 == 0, "B fragments are loaded two n8 tiles at a time");
    static constexpr int kAChunks = BM * (kBK / 8) / kThreads;  // 16-byte A loads per thread per stage
    static constexpr int kBChunks = BN / 16 * 32 / kThreads;  // 16-byte repacked chunks per thread per stage
    static_assert(kAChunks >= 1 && kBChunks >= 1, "tile too small for the block");
    static constexpr int kStageElems = (2 * BM + BN) * kPitch;  // A hi, A lo, B
    static constexpr size_t kSmemBytes = 2 * kStageElems * sizeof(uint16_t) + 2 * BM * sizeof(int);
};

template <int BM, int BN, int WARPS_M, int WARPS_N, int BK, MoeEpilogue EPI>
__global__ void __launch_bounds__(kThreads) moe_mxfp4_gemm_kernel(MoeGemmArgs a) {
    using Shape = GemmShape<BM, BN, WARPS_M, WARPS_N, BK>;
    constexpr int kBK = Shape::kBK, kPitch = Shape::kPitch;
    const int tile = blockIdx.x;
    if (tile >= *a.num_tiles) return;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    uint16_t* stage_base = reinterpret_cast<uint16_t*>(smem_raw);  // [2][(2 BM + BN) * pitch]
    int* a_row =
        reinterpret_cast<int*>(stage_base + 2 * Shape::kStageElems);  // [BM] source row of A, -1 = pad
    int* out_row = a_row + BM;                                        // [BM] sorted row, -1 = pad

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int warp_m = warp / WARPS_N, warp_n = warp % WARPS_N;
    const int expert = a.tile_expert[tile];
    const int row_start = a.tile_row_start[tile];
    const int rows = min(BM, a.expert_offsets[expert + 1] - row_start);
    const int n0 = blockIdx.y * BN;
    const int in = a.in_features, n_total = a.out_features;
    const int row_tiles = n_total / 16, k_tiles = in / 64;

    for (int i = tid; i < BM; i += kThreads) {
        const int sorted = row_start + i;
        const bool valid = i < rows;
        out_row[i] = valid ? sorted : -1;
        a_row[i] =
            !valid ? -1 : (EPI == MoeEpilogue::kGateUpSwiglu ? a.sorted_pairs[sorted] / a.top_k : sorted);
    }
    __syncthreads();

    // Register stage: raw loads of one k tile.
    uint4 a_regs[Shape::kAChunks], a_lo_regs[Shape::kAChunks];
    uint4 b_codes[Shape::kBChunks];
    uint32_t b_scale[Shape::kBChunks];
    auto load_global = [&](int kt) {
#pragma unroll
        for (int i = 0; i < Shape::kAChunks; ++i) {
            const int cid = tid + i * kThreads;
            const int row = cid / (kBK / 8), col = kt * kBK + (cid % (kBK / 8)) * 8;
            const int src = a_row[row];
            a_regs[i] = a_lo_regs[i] = make_uint4(0, 0, 0, 0);
            if (src >= 0 && col < in) {
                const uint16_t* row = a.a + static_cast<int64_t>(src) * in + col;
                a_regs[i] = *reinterpret_cast<const uint4*>(row);
                a_lo_regs[i] = *reinterpret_cast<const uint4*>(row + a.a_lo_offset);
            }
        }
#pragma unroll
        for (int i = 0; i < Shape::kBChunks; ++i) {
            const int cid = tid + i * kThreads;
            const int rt = n0 / 16 + cid / 32;  // one lane's 16 bytes of a (16-row, 64-k) tile per chunk
            b_codes[i] = make_uint4(0, 0, 0, 0);
            b_scale[i] = 0;
            if (rt < row_tiles) {
                const int64_t tile_index = (static_cast<int64_t>(expert) * row_tiles + rt) * k_tiles + kt;
                b_codes[i] = reinterpret_cast<const uint4*>(a.blocks)[tile_index * 32 + cid % 32];
                b_scale[i] = reinterpret_cast<const uint32_t*>(a.scales)[tile_index * 8 + (cid % 32) / 4];
            }
        }
    };
    auto store_smem = [&](int stage) {
        uint16_t* a_s = stage_base + stage * Shape::kStageElems;
        uint16_t* a_lo_s = a_s + BM * kPitch;
        uint16_t* b_s = a_lo_s + BM * kPitch;
#pragma unroll
        for (int i = 0; i < Shape::kAChunks; ++i) {
            const int cid = tid + i * kThreads;
            const int offset = (cid / (kBK / 8)) * kPitch + (cid % (kBK / 8)) * 8;
            *reinterpret_cast<uint4*>(a_s + offset) = a_regs[i];
            *reinterpret_cast<uint4*>(a_lo_s + offset) = a_lo_regs[i];
        }
#pragma unroll
        for (int i = 0; i < Shape::kBChunks; ++i) {
            // The chunk's fragments go back to their (row, k) places: pair i of word j is row g + (i & 1) *
            // 8, columns 16 j + 2 c + (i >> 1) * 8 and + 1 (pitch 72: the 32 lanes hit 32 banks).
            const int cid = tid + i * kThreads;
            const int l = cid % 32, g = l / 4, c = l % 4;
            uint16_t* tile_s = b_s + (cid / 32) * 16 * kPitch;
            const uint32_t words[4] = {b_codes[i].x, b_codes[i].y, b_codes[i].z, b_codes[i].w};
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                uint32_t frag[4];
                decode_fragment(words[j], b_scale[i], j, frag);
#pragma unroll
                for (int r = 0; r < 4; ++r)
                    *reinterpret_cast<uint32_t*>(tile_s + (g + (r & 1) * 8) * kPitch + 16 * j + 2 * c +
                                                 (r >> 1) * 8) = frag[r];
            }
        }
    };

    float acc[Shape::kMt][Shape::kNt][4];
#pragma unroll
    for (int mt = 0; mt < Shape::kMt; ++mt)
#pragma unroll
        for (int nt = 0; nt < Shape::kNt; ++nt)
            acc[mt][nt][0] = acc[mt][nt][1] = acc[mt][nt][2] = acc[mt][nt][3] = 0.0f;

    const int num_k_tiles = ceil_div(in, kBK);
    load_global(0);
    store_smem(0);
    __syncthreads();
    for (int kt = 0; kt < num_k_tiles; ++kt) {
        const int stage = kt & 1;
        if (kt + 1 < num_k_tiles) load_global(kt + 1);
        const uint16_t* a_s = stage_base + stage * Shape::kStageElems;
        const uint16_t* a_lo_s = a_s + BM * kPitch;
        const uint16_t* b_s = a_lo_s + BM * kPitch;
#pragma unroll
        for (int kk = 0; kk < kBK / 16; ++kk) {
            uint32_t a_frag[Shape::kMt][4], a_lo_frag[Shape::kMt][4];
#pragma unroll
            for (int mt = 0; mt < Shape::kMt; ++mt) {
                const int offset =
                    (warp_m * Shape::kWarpRows + mt * 16 + (lane & 15)) * kPitch + kk * 16 + (lane >> 4) * 8;
                ldmatrix_x4(a_frag[mt], a_s + offset);
                ldmatrix_x4(a_lo_frag[mt], a_lo_s + offset);
            }
#pragma unroll
            for (int np = 0; np < Shape::kNt / 2; ++np) {
                uint32_t b_frag[4];
                ldmatrix_x4(
                    b_frag,
                    b_s + (warp_n * Shape::kWarpCols + np * 16 + (lane & 7) + (lane >> 4) * 8) * kPitch +
                        kk * 16 + ((lane >> 3) & 1) * 8);
#pragma unroll
                for (int mt = 0; mt < Shape::kMt; ++mt) {
                    mma_bf16_16816(acc[mt][2 * np], a_frag[mt], b_frag[0], b_frag[1]);
                    mma_bf16_16816(acc[mt][2 * np], a_lo_frag[mt], b_frag[0], b_frag[1]);
                    mma_bf16_16816(acc[mt][2 * np + 1], a_frag[mt], b_frag[2], b_frag[3]);
                    mma_bf16_16816(acc[mt][2 * np + 1], a_lo_frag[mt], b_frag[2], b_frag[3]);
                }
            }
        }
        if (kt + 1 < num_k_tiles) store_smem(stage ^ 1);
        __syncthreads();
    }

    // Epilogue. Thread holds columns n, n + 1 (n even) of rows g and g + 8 of each 16 x 8 accumulator tile.
    const int g = lane >> 2, c = lane & 3;
    const float* bias = a.bias + static_cast<int64_t>(expert) * n_total;
#pragma unroll
    for (int mt = 0; mt < Shape::kMt; ++mt) {
#pragma unroll
        for (int nt = 0; nt < Shape::kNt; ++nt) {
            const int n = n0 + warp_n * Shape::kWarpCols + nt * 8 + 2 * c;
            if (n >= n_total) continue;
            const float b0 = bias[n], b1 = bias[n + 1];
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const int sorted = out_row[warp_m * Shape::kWarpRows + mt * 16 + g + 8 * h];
                if (sorted < 0) continue;
                const float v0 = acc[mt][nt][2 * h] + b0, v1 = acc[mt][nt][2 * h + 1] + b1;
                if constexpr (EPI == MoeEpilogue::kGateUpSwiglu) {
                    const int64_t at = static_cast<int64_t>(sorted) * (n_total / 2) + n / 2;
                    split_bf16(swiglu(v0, v1, a.swiglu_limit), a.act_out[at], a.act_lo_out[at]);
                } else {
                    const int pair = a.sorted_pairs[sorted];
                    const float w = a.routing_weights[pair];
                    *reinterpret_cast<float2*>(a.y_out + static_cast<int64_t>(pair) * n_total + n) =
                        make_float2(w * v0, w * v1);
                }
            }
        }
    }
}

// ---- decode kernel -------------------------------------------------------------------------------------
constexpr int kDecodeWarps = 8;
constexpr int kDecodeThreads = kDecodeWarps * 32;
constexpr int kDecodeRowTiles = 2;      // 16-row tiles per block (all warps share them, each a slice of K)
constexpr int kDecodeMaxKtPerWarp = 6;  // K <= 8 warps x 6 x 64 = 3072 (gpt-oss: 45 k tiles of 2880)
constexpr int kDecodeMaxRows = 8;       // the MMA's N: rows per tile
constexpr int kDecodeMaxTokens = 64;    // steps up to this many tokens take the decode kernel

// Shared memory: the activations of each warp's K slice as B fragments, [warp][kt][j][CAP][c] uint4 =
// {b0 hi, b1 hi, b0 lo, b1 lo} of (token slot, k chunk j), then the per-warp partial sums for the reduction.
template <int CAP>
struct DecodeSmem {
    static constexpr int kActPerWarp = kDecodeMaxKtPerWarp * 4 * CAP * 4;  // uint4
    static constexpr size_t kActBytes = sizeof(uint4) * kDecodeWarps * kActPerWarp;
    static constexpr size_t kBytes = kActBytes + sizeof(float4) * kDecodeWarps * kDecodeRowTiles * 32;
};

template <int CAP, MoeEpilogue EPI>
__global__ void __launch_bounds__(kDecodeThreads) moe_mxfp4_decode_kernel(MoeGemmArgs a) {
    const int slot = blockIdx.x;  // tile of <= 8 rows of one expert
    if (slot >= *a.num_tiles) return;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    uint4* act_s = reinterpret_cast<uint4*>(smem_raw);
    float4* partial_s = reinterpret_cast<float4*>(smem_raw + DecodeSmem<CAP>::kActBytes);
    __shared__ int src_row[CAP];

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, c = lane & 3;
    const int expert = a.tile_expert[slot], row_start = a.tile_row_start[slot];
    const int rows = min(CAP, a.expert_offsets[expert + 1] - row_start);
    const int K = a.in_features, N = a.out_features, KT = K / 64, RT = N / 16;
    const int rt0 = blockIdx.y * kDecodeRowTiles;
    const int kt_begin = warp * KT / kDecodeWarps, num_kt = (warp + 1) * KT / kDecodeWarps - kt_begin;

    // Every weight load of this warp first: they do not depend on the activations.
    uint4 codes[kDecodeMaxKtPerWarp][kDecodeRowTiles];
    uint32_t scales[kDecodeMaxKtPerWarp][kDecodeRowTiles];
#pragma unroll
    for (int t = 0; t < kDecodeMaxKtPerWarp; ++t) {
#pragma unroll
        for (int r = 0; r < kDecodeRowTiles; ++r) {
            codes[t][r] = make_uint4(0, 0, 0, 0);
            scales[t][r] = 0;
            if (t < num_kt && rt0 + r < RT) {
                const int64_t tile = (static_cast<int64_t>(expert) * RT + rt0 + r) * KT + kt_begin + t;
                codes[t][r] = __ldg(reinterpret_cast<const uint4*>(a.blocks) + tile * 32 + lane);
                scales[t][r] = __ldg(reinterpret_cast<const uint32_t*>(a.scales) + tile * 8 + g);
            }
        }
    }

    if (tid < CAP) {
        const int sorted = row_start + tid;
        src_row[tid] = tid >= rows                         ? -1
                       : EPI == MoeEpilogue::kGateUpSwiglu ? a.sorted_pairs[sorted] / a.top_k
                                                           : sorted;
    }
    __syncthreads();
    // This warp's K slice of the activations, as B fragments (zeros for empty slots).
    uint4* my_act = act_s + warp * DecodeSmem<CAP>::kActPerWarp;
    for (int item = lane; item < num_kt * 4 * CAP * 4; item += 32) {
        const int ci = item % 4, s = (item / 4) % CAP, j = (item / (4 * CAP)) % 4, t = item / (16 * CAP);
        uint4 v = make_uint4(0, 0, 0, 0);
        if (src_row[s] >= 0) {
            const uint16_t* hi =
                a.a + static_cast<int64_t>(src_row[s]) * K + (kt_begin + t) * 64 + 16 * j + 2 * ci;
            const uint16_t* lo = hi + a.a_lo_offset;
            v.x = *reinterpret_cast<const uint32_t*>(hi);
            v.y = *reinterpret_cast<const uint32_t*>(hi + 8);
            v.z = *reinterpret_cast<const uint32_t*>(lo);
            v.w = *reinterpret_cast<const uint32_t*>(lo + 8);
        }
        my_act[item] = v;
    }
    __syncwarp();

    float acc[kDecodeRowTiles][4] = {};
#pragma unroll
    for (int t = 0; t < kDecodeMaxKtPerWarp; ++t) {
        if (t >= num_kt) break;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const uint4 b = g < CAP ? my_act[((t * 4 + j) * CAP + g) * 4 + c] : make_uint4(0, 0, 0, 0);
#pragma unroll
            for (int r = 0; r < kDecodeRowTiles; ++r) {
                const uint32_t w = j == 0   ? codes[t][r].x
                                   : j == 1 ? codes[t][r].y
                                   : j == 2 ? codes[t][r].z
                                            : codes[t][r].w;
                uint32_t frag[4];
                decode_fragment(w, scales[t][r], j, frag);
                mma_bf16_16816(acc[r], frag, b.x, b.y);
                mma_bf16_16816(acc[r], frag, b.z, b.w);
            }
        }
    }

    // Sum the warps' K slices in a fixed order (deterministic), one warp per row tile, then the epilogue.
#pragma unroll
    for (int r = 0; r < kDecodeRowTiles; ++r)
        partial_s[(warp * kDecodeRowTiles + r) * 32 + lane] =
            make_float4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
    __syncthreads();
    if (warp >= kDecodeRowTiles) return;
    const int rt = rt0 + warp;
    if (rt >= RT) return;
    float v[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int w = 0; w < kDecodeWarps; ++w) {
        const float4 p = partial_s[(w * kDecodeRowTiles + warp) * 32 + lane];
        v[0] += p.x;
        v[1] += p.y;
        v[2] += p.z;
        v[3] += p.w;
    }
    // v[0], v[1]: row 16 rt + g, token slots 2c, 2c + 1; v[2], v[3]: row 16 rt + g + 8.
    const float* bias = a.bias + static_cast<int64_t>(expert) * N;
    if constexpr (EPI == MoeEpilogue::kGateUpSwiglu) {
        // Gate rows are even, up rows odd: the up value of row n + 1 lives in lane + 4 (g + 1).
        float up[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) up[i] = __shfl_xor_sync(0xffffffffu, v[i], 4);
        if (g & 1) return;
        const int I = N / 2;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int n = rt * 16 + g + 8 * h, j = n / 2;
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int s = 2 * c + e;
                if (s >= rows) continue;
                const int64_t at = static_cast<int64_t>(row_start + s) * I + j;
                split_bf16(swiglu(v[2 * h + e] + bias[n], up[2 * h + e] + bias[n + 1], a.swiglu_limit),
                           a.act_out[at], a.act_lo_out[at]);
            }
        }
    } else {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int n = rt * 16 + g + 8 * h;
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int s = 2 * c + e;
                if (s >= rows) continue;
                const int pair = a.sorted_pairs[row_start + s];
                a.y_out[static_cast<int64_t>(pair) * N + n] =
                    a.routing_weights[pair] * (v[2 * h + e] + bias[n]);
            }
        }
    }
}

template <int CAP, MoeEpilogue EPI>
void launch_decode(const MoeGemmArgs& a, cudaStream_t stream) {
    auto* kernel = moe_mxfp4_decode_kernel<CAP, EPI>;
    static const bool configured = [kernel] {
        GPTOSS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(DecodeSmem<CAP>::kBytes)));
        return true;
    }();
    (void)configured;
    const dim3 grid(a.max_tiles, ceil_div(a.out_features / 16, kDecodeRowTiles));
    kernel<<<grid, kDecodeThreads, DecodeSmem<CAP>::kBytes, stream>>>(a);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

template <int BM, int BN, int WARPS_M, int WARPS_N, int BK, MoeEpilogue EPI>
void launch_gemm(const MoeGemmArgs& a, cudaStream_t stream) {
    using Shape = GemmShape<BM, BN, WARPS_M, WARPS_N, BK>;
    auto* kernel = moe_mxfp4_gemm_kernel<BM, BN, WARPS_M, WARPS_N, BK, EPI>;
    static const bool configured = [kernel] {
        GPTOSS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(Shape::kSmemBytes)));
        return true;
    }();
    (void)configured;
    const dim3 grid(a.max_tiles, ceil_div(a.out_features, BN));
    kernel<<<grid, kThreads, Shape::kSmemBytes, stream>>>(a);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

template <MoeEpilogue EPI>
void launch_for_rows(const MoeGemmArgs& a, cudaStream_t stream) {
    if (a.tile_rows == kDecodeMaxRows) {
        const int tokens = a.num_pairs / a.top_k;
        if (a.in_features > kDecodeWarps * kDecodeMaxKtPerWarp * 64)
            throw std::invalid_argument(
                "moe_mxfp4_gemm: the decode kernel takes at most 3072 input features");
        if (tokens <= 1)
            launch_decode<1, EPI>(a, stream);
        else if (tokens <= 2)
            launch_decode<2, EPI>(a, stream);
        else if (tokens <= 4)
            launch_decode<4, EPI>(a, stream);
        else
            launch_decode<8, EPI>(a, stream);
    } else if (a.tile_rows == 16) {
        launch_gemm<16, 64, 1, 4, 64, EPI>(a, stream);
    } else if (a.tile_rows == 64) {
        launch_gemm<64, 128, 2, 2, 64, EPI>(a, stream);
    } else {
        throw std::invalid_argument("moe_mxfp4_gemm: tile_rows must come from moe_gemm_tile_rows()");
    }
}

}  // namespace

int moe_gemm_tile_rows(int num_pairs, int num_experts, int top_k) {
    // Up to 64 tokens: the decode kernel, 8 rows per tile. An expert with more rows gets several tiles; they
    // are adjacent in the grid (same blockIdx.y), so they run together and their repeated weight reads hit
    // L2. Many rows per expert (prefill): large tiles reuse each decoded weight tile across 64 rows.
    if (num_pairs <= kDecodeMaxTokens * top_k) return kDecodeMaxRows;
    return num_pairs >= 32 * num_experts ? 64 : 16;
}

void moe_mxfp4_gemm(const MoeGemmArgs& args, cudaStream_t stream) {
    if (args.max_tiles == 0) return;
    if (!mxfp4_repackable(args.out_features, args.in_features))
        throw std::invalid_argument(
            "moe_mxfp4_gemm: in_features must be a multiple of 64 and out_features of 16 (repacked MXFP4)");
    if (args.top_k < 1 || args.num_pairs < 1)
        throw std::invalid_argument("moe_mxfp4_gemm: top_k and num_pairs must be set");
    if (args.epilogue == MoeEpilogue::kGateUpSwiglu)
        launch_for_rows<MoeEpilogue::kGateUpSwiglu>(args, stream);
    else
        launch_for_rows<MoeEpilogue::kDownWeighted>(args, stream);
}

}  // namespace gptoss::cuda
