// Token embedding gather: bf16 table rows -> the float32 residual stream.
#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

// One block per token; each thread converts pairs of bf16.   table [V, H] -> out [T, H]
__global__ void embedding_kernel(const uint16_t* __restrict__ table, const int32_t* __restrict__ token_ids,
                                 int hidden, float* __restrict__ out) {
    const int t = blockIdx.x;
    const uint16_t* row = table + static_cast<int64_t>(token_ids[t]) * hidden;
    float* dst = out + static_cast<int64_t>(t) * hidden;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = bf16_bits_to_float(row[i]);
}

}  // namespace

void embedding(const EmbeddingArgs& args, cudaStream_t stream) {
    if (args.num_tokens == 0) return;
    embedding_kernel<<<args.num_tokens, 256, 0, stream>>>(args.table, args.token_ids, args.hidden, args.out);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

}  // namespace gptoss::cuda
