// The second half of a split-input GEMM: a GEMM over the [hi; lo] rows of a split bf16 pair gives two
// partial products per row; their sum (plus the bias) is the float32-accurate result.
#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

// One block per token row; float4 when the width allows (it always does for gpt-oss shapes).
__global__ void sum_split_halves_kernel(SplitSumArgs a) {
    const int t = blockIdx.x;
    float* hi = a.y + static_cast<int64_t>(t) * a.width;
    const float* lo = a.y + (static_cast<int64_t>(a.num_tokens) + t) * a.width;
    if (a.width % 4 == 0) {
        for (int i = threadIdx.x; i < a.width / 4; i += blockDim.x) {
            float4 h = reinterpret_cast<float4*>(hi)[i];
            const float4 l = reinterpret_cast<const float4*>(lo)[i];
            const float4 b = a.bias ? reinterpret_cast<const float4*>(a.bias)[i] : make_float4(0, 0, 0, 0);
            h.x += l.x + b.x;
            h.y += l.y + b.y;
            h.z += l.z + b.z;
            h.w += l.w + b.w;
            reinterpret_cast<float4*>(hi)[i] = h;
        }
    } else {
        for (int i = threadIdx.x; i < a.width; i += blockDim.x) hi[i] += lo[i] + (a.bias ? a.bias[i] : 0.0f);
    }
}

}  // namespace

void sum_split_halves(const SplitSumArgs& args, cudaStream_t stream) {
    if (args.num_tokens == 0) return;
    sum_split_halves_kernel<<<args.num_tokens, 256, 0, stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

}  // namespace gptoss::cuda
