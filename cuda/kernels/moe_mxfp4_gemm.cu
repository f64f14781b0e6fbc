// Grouped expert GEMMs that read the MXFP4 weights as stored (16-byte blocks of 32 e2m1 codes + an e8m0
// scale) and decode them in registers on the way into shared memory; bf16 tensor cores do the math, two
// products per weight fragment since the activations are split bf16 pairs (float32-accurate).
// Block = one tile of BM sorted (token, expert) rows of one expert x BN weight rows; k walks the input
// features BK at a time (BK / 32 MXFP4 blocks per weight row), double-buffered: the next tile's global loads
// are in flight while the current one feeds the tensor cores. BK = 64 for both tile shapes: BK = 256 on the
// 16-row decode tiles was measured slower (docs/perf-notes.md, run 3).
// Epilogues: clamped SwiGLU (gate_up; gate/up are adjacent accumulator columns of one thread) and
// bias + routing weight (down).
// Legend: BM rows per tile, BN weight rows per tile, BK input features per stage, N out_features.
#include <stdexcept>

#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

constexpr int kThreads = 128;

// e2m1 code (sign bit 3) -> float: magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6.
__device__ __forceinline__ float fp4_value(uint32_t code) {
    const uint32_t mag = code & 7u;
    uint32_t bits = mag < 2u ? (mag ? 0x3F000000u : 0u) : ((((mag >> 1) + 126u) << 23) | ((mag & 1u) << 22));
    bits |= (code & 8u) << 28;
    return __uint_as_float(bits);
}

// e8m0 -> 2^(s - 127), exactly (s = 0 is the subnormal 2^-127).
__device__ __forceinline__ float e8m0_value(uint32_t s) {
    return __uint_as_float(s == 0 ? 0x00400000u : s << 23);
}

// Sixteen code bytes of one block -> 32 bf16 values (byte j holds element 2j low, 2j+1 high): exact.
__device__ __forceinline__ void decode_block(const uint4& codes, float scale, uint4 (&out)[4]) {
    const uint32_t words[4] = {codes.x, codes.y, codes.z, codes.w};
    uint32_t packed[16];
#pragma unroll
    for (int w = 0; w < 4; ++w) {
#pragma unroll
        for (int b = 0; b < 4; ++b) {
            const uint32_t byte = (words[w] >> (8 * b)) & 0xFFu;
            packed[w * 4 + b] = pack_bf16x2(fp4_value(byte & 0xFu) * scale, fp4_value(byte >> 4) * scale);
        }
    }
#pragma unroll
    for (int i = 0; i < 4; ++i)
        out[i] = make_uint4(packed[4 * i], packed[4 * i + 1], packed[4 * i + 2], packed[4 * i + 3]);
}

__device__ __forceinline__ float swiglu(float gate, float up, float limit) {
    gate = fminf(gate, limit);
    up = fminf(fmaxf(up, -limit), limit);
    return gate / (1.0f + expf(-1.702f * gate)) * (up + 1.0f);
}

template <int BM, int BN, int WARPS_M, int WARPS_N, int BK>
struct GemmShape {
    static constexpr int kBK = BK;         // input features per stage
    static constexpr int kPitch = BK + 8;  // bf16 per smem row; the padding keeps ldmatrix conflict-free
    static_assert(WARPS_M * WARPS_N * 32 == kThreads, "four warps");
    static constexpr int kWarpRows = BM / WARPS_M;  // WTM
    static constexpr int kWarpCols = BN / WARPS_N;  // WTN
    static constexpr int kMt = kWarpRows / 16;
    static constexpr int kNt = kWarpCols / 8;
    static_assert(kNt % 2 == 0, "B fragments are loaded two n8 tiles at a time");
    static constexpr int kAChunks = BM * (kBK / 8) / kThreads;   // 16-byte A loads per thread per stage
    static constexpr int kBChunks = BN * (kBK / 32) / kThreads;  // MXFP4 blocks per thread per stage
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
    const int blocks_per_row = in / 32;

    for (int i = tid; i < BM; i += kThreads) {
        const int sorted = row_start + i;
        const bool valid = i < rows;
        out_row[i] = valid ? sorted : -1;
        a_row[i] =
            !valid ? -1 : (EPI == MoeEpilogue::kGateUpSwiglu ? a.sorted_pairs[sorted] / a.top_k : sorted);
    }
    __syncthreads();

    const uint8_t* expert_blocks = a.blocks + static_cast<int64_t>(expert) * n_total * blocks_per_row * 16;
    const uint8_t* expert_scales = a.scales + static_cast<int64_t>(expert) * n_total * blocks_per_row;

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
            const int n = n0 + cid / (kBK / 32), kb = kt * (kBK / 32) + cid % (kBK / 32);
            b_codes[i] = make_uint4(0, 0, 0, 0);
            b_scale[i] = 127;
            if (n < n_total && kb < blocks_per_row) {
                const int64_t block_index = static_cast<int64_t>(n) * blocks_per_row + kb;
                b_codes[i] = *reinterpret_cast<const uint4*>(expert_blocks + block_index * 16);
                b_scale[i] = expert_scales[block_index];
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
            const int cid = tid + i * kThreads;
            uint4 decoded[4];
            decode_block(b_codes[i], e8m0_value(b_scale[i]), decoded);
            uint4* dst =
                reinterpret_cast<uint4*>(b_s + (cid / (kBK / 32)) * kPitch + (cid % (kBK / 32)) * 32);
#pragma unroll
            for (int j = 0; j < 4; ++j) dst[j] = decoded[j];
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
    if (a.tile_rows == 16)
        launch_gemm<16, 64, 1, 4, 64, EPI>(a, stream);
    else if (a.tile_rows == 64)
        launch_gemm<64, 128, 2, 2, 64, EPI>(a, stream);
    else
        throw std::invalid_argument("moe_mxfp4_gemm: tile_rows must come from moe_gemm_tile_rows()");
}

}  // namespace

int moe_gemm_tile_rows(int num_pairs, int num_experts) {
    // Few rows per expert (decode): small tiles waste no weight traffic; many (prefill): large tiles reuse
    // each decoded weight tile across 64 rows.
    return num_pairs >= 32 * num_experts ? 64 : 16;
}

void moe_mxfp4_gemm(const MoeGemmArgs& args, cudaStream_t stream) {
    if (args.max_tiles == 0) return;
    if (args.in_features % 32 != 0)
        throw std::invalid_argument("moe_mxfp4_gemm: in_features must be a multiple of 32 (MXFP4 blocks)");
    if (args.out_features % 2 != 0) throw std::invalid_argument("moe_mxfp4_gemm: out_features must be even");
    if (args.epilogue == MoeEpilogue::kGateUpSwiglu)
        launch_for_rows<MoeEpilogue::kGateUpSwiglu>(args, stream);
    else
        launch_for_rows<MoeEpilogue::kDownWeighted>(args, stream);
}

}  // namespace gptoss::cuda
