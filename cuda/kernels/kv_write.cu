// Scatter of each new token's K/V rows into a paged KV pool (float32 -> bf16), by slot mapping.
#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

// One block per token; each thread writes one bf16 pair of K and of V. Slot layout [NB * BS, Hkv, D].
__global__ void kv_write_kernel(KvWriteArgs a) {
    const int t = blockIdx.x;
    const int64_t slot = a.slot_mapping[t];
    if (slot < 0) return;
    const int width = a.num_kv_heads * a.head_dim;  // even (head_dim is)
    const float* k = a.k + static_cast<int64_t>(t) * a.row_stride;
    const float* v = a.v + static_cast<int64_t>(t) * a.row_stride;
    uint32_t* k_dst = reinterpret_cast<uint32_t*>(a.k_cache + slot * width);
    uint32_t* v_dst = reinterpret_cast<uint32_t*>(a.v_cache + slot * width);
    for (int i = threadIdx.x; i < width / 2; i += blockDim.x) {
        k_dst[i] = pack_bf16x2(k[2 * i], k[2 * i + 1]);
        v_dst[i] = pack_bf16x2(v[2 * i], v[2 * i + 1]);
    }
}

}  // namespace

void kv_write(const KvWriteArgs& args, cudaStream_t stream) {
    if (args.num_tokens == 0) return;
    kv_write_kernel<<<args.num_tokens, 256, 0, stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

}  // namespace gptoss::cuda
