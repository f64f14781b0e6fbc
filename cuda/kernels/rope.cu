// YaRN rotary embedding on the float32 q/k rows, in place (half-split pairs, as transformers does).
#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

// One block per token; thread (h, i) rotates the pair (x[h, i], x[h, i + D/2]). The angle is rounded to
// float32 before cos/sin, exactly like the CPU table (precise sincosf, no fast math).
__global__ void rope_kernel(RopeArgs a) {
    const int t = blockIdx.x;
    const int half = a.head_dim / 2;
    const float position = static_cast<float>(a.positions[t]);
    float* row = a.x + static_cast<int64_t>(t) * a.row_stride;
    for (int idx = threadIdx.x; idx < a.num_heads * half; idx += blockDim.x) {
        const int h = idx / half, i = idx % half;
        const float angle = a.inv_freq[i] * position;
        float s, c;
        sincosf(angle, &s, &c);
        c *= a.attention_scaling;
        s *= a.attention_scaling;
        float* x = row + h * a.head_dim;
        const float x0 = x[i], x1 = x[i + half];
        x[i] = x0 * c - x1 * s;
        x[i + half] = x1 * c + x0 * s;
    }
}

}  // namespace

void rope(const RopeArgs& args, cudaStream_t stream) {
    if (args.num_tokens == 0) return;
    rope_kernel<<<args.num_tokens, 256, 0, stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

}  // namespace gptoss::cuda
