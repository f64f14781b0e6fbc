// Router top-k + softmax: one warp per token picks the k largest logits (lower expert id on ties) and
// normalises their softmax.
#include <stdexcept>

#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

__global__ void router_topk_kernel(RouterTopkArgs a) {
    const int lane = threadIdx.x & 31;
    const int t = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
    if (t >= a.num_tokens) return;
    const float* logits = a.logits + static_cast<int64_t>(t) * a.num_experts;
    int chosen[kMaxExpertsPerToken];
    float chosen_logit[kMaxExpertsPerToken];
    for (int k = 0; k < a.k; ++k) {
        // Best remaining expert of this lane, then of the warp: larger logit, then lower id.
        float best = -INFINITY;
        int best_id = INT_MAX;
        for (int e = lane; e < a.num_experts; e += 32) {
            bool taken = false;
            for (int j = 0; j < k; ++j) taken |= chosen[j] == e;
            const float v = logits[e];
            if (!taken && (v > best || (v == best && e < best_id) || best_id == INT_MAX)) {
                best = v;
                best_id = e;
            }
        }
#pragma unroll
        for (int offset = 16; offset > 0; offset >>= 1) {
            const float other = __shfl_xor_sync(0xffffffffu, best, offset);
            const int other_id = __shfl_xor_sync(0xffffffffu, best_id, offset);
            if (other_id != INT_MAX &&
                (best_id == INT_MAX || other > best || (other == best && other_id < best_id))) {
                best = other;
                best_id = other_id;
            }
        }
        chosen[k] = best_id;
        chosen_logit[k] = best;
    }
    if (lane != 0) return;
    float sum = 0.0f;
    for (int k = 0; k < a.k; ++k) sum += expf(chosen_logit[k] - chosen_logit[0]);
    for (int k = 0; k < a.k; ++k) {
        a.experts[static_cast<int64_t>(t) * a.k + k] = chosen[k];
        a.weights[static_cast<int64_t>(t) * a.k + k] = expf(chosen_logit[k] - chosen_logit[0]) / sum;
    }
}

}  // namespace

void router_topk(const RouterTopkArgs& args, cudaStream_t stream) {
    if (args.num_tokens == 0) return;
    if (args.k < 1 || args.k > kMaxExpertsPerToken || args.k > args.num_experts)
        throw std::invalid_argument("router_topk: experts per token must be in [1, min(16, num_experts)]");
    const int blocks = ceil_div(args.num_tokens, kWarpsPerBlock);
    router_topk_kernel<<<blocks, 32 * kWarpsPerBlock, 0, stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

}  // namespace gptoss::cuda
