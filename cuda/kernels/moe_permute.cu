// Token-to-expert grouping on the device: a counting sort of the (token, expert) pairs by expert, and the
// list of row tiles the grouped expert GEMMs walk. One block; no host round trip, so a step stays capturable.
#include <algorithm>
#include <stdexcept>

#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

constexpr int kThreads = 1024;

// Shared memory: count[E], cursor[E], tile_start[E + 1].
__global__ void __launch_bounds__(kThreads) moe_group_kernel(MoeGroupArgs a) {
    extern __shared__ int smem[];
    int* count = smem;
    int* cursor = count + a.num_experts;
    int* tile_start = cursor + a.num_experts;
    for (int e = threadIdx.x; e < a.num_experts; e += kThreads) count[e] = 0;
    __syncthreads();
    for (int p = threadIdx.x; p < a.num_pairs; p += kThreads) atomicAdd(&count[a.experts[p]], 1);
    __syncthreads();
    if (threadIdx.x == 0) {
        int rows = 0, tiles = 0;
        for (int e = 0; e < a.num_experts; ++e) {
            cursor[e] = rows;
            a.expert_offsets[e] = rows;
            tile_start[e] = tiles;
            rows += count[e];
            tiles += (count[e] + a.tile_rows - 1) / a.tile_rows;
        }
        a.expert_offsets[a.num_experts] = rows;
        tile_start[a.num_experts] = tiles;
        *a.num_tiles = tiles;
    }
    __syncthreads();
    for (int e = threadIdx.x; e < a.num_experts; e += kThreads) {
        const int first_row = cursor[e];
        for (int t = tile_start[e]; t < tile_start[e + 1]; ++t) {
            a.tile_expert[t] = e;
            a.tile_row_start[t] = first_row + (t - tile_start[e]) * a.tile_rows;
        }
    }
    __syncthreads();
    for (int p = threadIdx.x; p < a.num_pairs; p += kThreads)
        a.sorted_pairs[atomicAdd(&cursor[a.experts[p]], 1)] = p;
}

}  // namespace

int moe_max_tiles(int num_pairs, int num_experts, int tile_rows) {
    return num_pairs / tile_rows + std::min(num_experts, num_pairs);
}

void moe_group(const MoeGroupArgs& args, cudaStream_t stream) {
    if (args.num_pairs == 0) return;
    if (args.max_tiles < moe_max_tiles(args.num_pairs, args.num_experts, args.tile_rows))
        throw std::invalid_argument("moe_group: tile arrays are smaller than moe_max_tiles()");
    const size_t smem = sizeof(int) * (3 * static_cast<size_t>(args.num_experts) + 1);
    moe_group_kernel<<<1, kThreads, smem, stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

}  // namespace gptoss::cuda
