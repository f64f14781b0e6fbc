// RMSNorm fused with the residual add (and with the MoE combine: the deltas are the K weighted expert rows).
#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

// 1024 threads: a decode step normalises one row, so the row's loads must be spread wide to hide latency
// (run 7: 256 threads took 13.7 us per row on an H100, 49 rows per step).
constexpr int kThreads = 1024;
constexpr int kMaxPerThread = 4;  // hidden <= kThreads * kMaxPerThread = 4096 keeps x in registers

// out[r, i] = bf16(y), and the lo half of the split pair when asked for.
__device__ __forceinline__ void store(const RmsNormArgs& a, int r, int i, float y) {
    const int64_t at = static_cast<int64_t>(r) * a.hidden + i;
    if (a.out_lo) {
        split_bf16(y, a.out[at], a.out_lo[at]);
    } else {
        a.out[at] = float_to_bf16_bits(y);
    }
}

// One block per output row. Every load of the row (residual, then each delta) is issued before the first
// store, so they overlap instead of waiting on the residual write; x stays in registers between the sum of
// squares and the scaling.
template <int PER_THREAD>
__global__ void __launch_bounds__(kThreads) rmsnorm_kernel(RmsNormArgs a) {
    __shared__ float scratch[32];
    const int r = blockIdx.x;
    const int64_t s = a.row_indices ? a.row_indices[r] : r;
    float* res = a.residual + s * a.hidden;
    const float* __restrict__ delta = a.deltas ? a.deltas + s * a.num_deltas * a.hidden : nullptr;
    float x[PER_THREAD];
#pragma unroll
    for (int j = 0; j < PER_THREAD; ++j) {
        const int i = threadIdx.x + j * kThreads;
        x[j] = i < a.hidden ? res[i] : 0.0f;
    }
    for (int k = 0; k < a.num_deltas; ++k) {
        const float* __restrict__ d = delta + static_cast<int64_t>(k) * a.hidden;
#pragma unroll
        for (int j = 0; j < PER_THREAD; ++j) {
            const int i = threadIdx.x + j * kThreads;
            if (i < a.hidden) x[j] += __ldg(d + i);
        }
    }
    float sum_sq = 0.0f;
#pragma unroll
    for (int j = 0; j < PER_THREAD; ++j) {
        const int i = threadIdx.x + j * kThreads;
        if (a.update_residual && i < a.hidden) res[i] = x[j];
        sum_sq += x[j] * x[j];
    }
    const float total = block_sum(sum_sq, scratch);
    const float inv_rms = 1.0f / sqrtf(total / static_cast<float>(a.hidden) + a.eps);
#pragma unroll
    for (int j = 0; j < PER_THREAD; ++j) {
        const int i = threadIdx.x + j * kThreads;
        if (i < a.hidden) store(a, r, i, x[j] * inv_rms * bf16_bits_to_float(a.weight[i]));
    }
}

// Any hidden size: two passes over the (already updated) residual row.
__global__ void __launch_bounds__(kThreads) rmsnorm_wide_kernel(RmsNormArgs a) {
    __shared__ float scratch[32];
    const int r = blockIdx.x;
    const int64_t s = a.row_indices ? a.row_indices[r] : r;
    float* res = a.residual + s * a.hidden;
    const float* delta = a.deltas ? a.deltas + s * a.num_deltas * a.hidden : nullptr;
    float sum_sq = 0.0f;
    for (int i = threadIdx.x; i < a.hidden; i += kThreads) {
        float v = res[i];
        for (int k = 0; k < a.num_deltas; ++k) v += delta[static_cast<int64_t>(k) * a.hidden + i];
        if (a.update_residual) res[i] = v;
        sum_sq += v * v;
    }
    const float total = block_sum(sum_sq, scratch);
    const float inv_rms = 1.0f / sqrtf(total / static_cast<float>(a.hidden) + a.eps);
    for (int i = threadIdx.x; i < a.hidden; i += kThreads) {
        float v = res[i];
        if (!a.update_residual)
            for (int k = 0; k < a.num_deltas; ++k) v += delta[static_cast<int64_t>(k) * a.hidden + i];
        store(a, r, i, v * inv_rms * bf16_bits_to_float(a.weight[i]));
    }
}

}  // namespace

void rmsnorm(const RmsNormArgs& args, cudaStream_t stream) {
    if (args.num_rows == 0) return;
    const int per_thread = ceil_div(args.hidden, kThreads);
    if (per_thread <= 1)
        rmsnorm_kernel<1><<<args.num_rows, kThreads, 0, stream>>>(args);
    else if (per_thread <= 2)
        rmsnorm_kernel<2><<<args.num_rows, kThreads, 0, stream>>>(args);
    else if (per_thread <= kMaxPerThread)
        rmsnorm_kernel<kMaxPerThread><<<args.num_rows, kThreads, 0, stream>>>(args);
    else
        rmsnorm_wide_kernel<<<args.num_rows, kThreads, 0, stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

}  // namespace gptoss::cuda
