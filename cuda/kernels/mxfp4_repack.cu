// MXFP4 expert weights from the checkpoint layout into the fragment-major layout the expert GEMMs read
// (kernels.h, "mxfp4_repack.cu"). Run once per tensor at load; every output word is a gather of eight
// nibbles, so one thread writes one 32-bit word.
// Legend: E experts, N rows, K columns (input features), RT = N / 16 row tiles, KT = K / 64 k tiles,
// g = lane / 4, c = lane % 4.
#include <stdexcept>
#include <string>

#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

// Nibble (sign bit 3) of element (row, k) of one expert's [N, K/32, 16] blocks: byte k/2 of the row's block
// k/32, low nibble for even k.
__device__ __forceinline__ uint32_t nibble(const uint8_t* expert_blocks, int row, int k, int blocks_per_row) {
    const uint8_t byte =
        expert_blocks[(static_cast<int64_t>(row) * blocks_per_row + k / 32) * 16 + (k % 32) / 2];
    return (k & 1) ? byte >> 4 : byte & 0xFu;
}

// Code word j of lane l of tile (e, rt, kt): registers i = 0..3 are the A-fragment pairs
// (row g, k0), (row g + 8, k0), (row g, k0 + 8), (row g + 8, k0 + 8) with k0 = 64 kt + 16 j + 2 c; each
// pair's first element (k) has its magnitude at bits 3i..3i+2 and sign at 12 + i, its second (k + 1) at 16 +
// 3i and 28 + i (decode_fp4x2 in moe_mxfp4_gemm.cu undoes this with two shifts and two masks).
__global__ void repack_codes_kernel(Mxfp4RepackArgs a) {
    const int64_t word = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int RT = a.rows / 16, KT = a.cols / 64;
    const int64_t total = static_cast<int64_t>(a.experts) * RT * KT * 32 * 4;
    if (word >= total) return;
    const int j = word % 4, lane = (word / 4) % 32;
    const int64_t tile = word / 128;  // (e * RT + rt) * KT + kt
    const int kt = tile % KT, rt = (tile / KT) % RT,
              e = static_cast<int>(tile / (static_cast<int64_t>(KT) * RT));
    const int g = lane / 4, c = lane % 4;
    const int blocks_per_row = a.cols / 32;
    const uint8_t* expert_blocks = a.blocks + static_cast<int64_t>(e) * a.rows * blocks_per_row * 16;
    uint32_t out = 0;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int row = rt * 16 + g + (i & 1) * 8;
        const int k = kt * 64 + j * 16 + 2 * c + (i >> 1) * 8;
        const uint32_t first = nibble(expert_blocks, row, k, blocks_per_row);
        const uint32_t second = nibble(expert_blocks, row, k + 1, blocks_per_row);
        out |= (first & 7u) << (3 * i) | (first >> 3) << (12 + i);
        out |= (second & 7u) << (16 + 3 * i) | (second >> 3) << (28 + i);
    }
    reinterpret_cast<uint32_t*>(a.packed_codes)[word] = out;
}

// Scale word g of tile (e, rt, kt): bytes scale(16 rt + g, 2 kt), scale(16 rt + g + 8, 2 kt),
// scale(16 rt + g, 2 kt + 1), scale(16 rt + g + 8, 2 kt + 1).
__global__ void repack_scales_kernel(Mxfp4RepackArgs a) {
    const int64_t word = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int RT = a.rows / 16, KT = a.cols / 64;
    const int64_t total = static_cast<int64_t>(a.experts) * RT * KT * 8;
    if (word >= total) return;
    const int g = word % 8;
    const int64_t tile = word / 8;
    const int kt = tile % KT, rt = (tile / KT) % RT,
              e = static_cast<int>(tile / (static_cast<int64_t>(KT) * RT));
    const int blocks_per_row = a.cols / 32;
    const uint8_t* expert_scales = a.scales + static_cast<int64_t>(e) * a.rows * blocks_per_row;
    uint32_t out = 0;
#pragma unroll
    for (int b = 0; b < 4; ++b) {
        const int row = rt * 16 + g + (b & 1) * 8, kb = 2 * kt + (b >> 1);
        out |= static_cast<uint32_t>(expert_scales[static_cast<int64_t>(row) * blocks_per_row + kb])
               << (8 * b);
    }
    reinterpret_cast<uint32_t*>(a.packed_scales)[word] = out;
}

}  // namespace

bool mxfp4_repackable(int rows, int cols) {
    return rows > 0 && cols > 0 && rows % 16 == 0 && cols % 64 == 0;
}

void mxfp4_repack(const Mxfp4RepackArgs& args, cudaStream_t stream) {
    if (!mxfp4_repackable(args.rows, args.cols))
        throw std::invalid_argument("mxfp4_repack: rows must be a multiple of 16 and columns of 64, got " +
                                    std::to_string(args.rows) + " x " + std::to_string(args.cols));
    const int64_t tiles = static_cast<int64_t>(args.experts) * (args.rows / 16) * (args.cols / 64);
    constexpr int kThreads = 256;
    repack_codes_kernel<<<static_cast<unsigned>((tiles * 128 + kThreads - 1) / kThreads), kThreads, 0,
                          stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
    repack_scales_kernel<<<static_cast<unsigned>((tiles * 8 + kThreads - 1) / kThreads), kThreads, 0,
                           stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

}  // namespace gptoss::cuda
