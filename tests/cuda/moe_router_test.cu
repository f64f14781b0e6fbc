// router_topk (cuda/kernels/moe_router.cu) vs cpu::router_topk, ties included.
#include "cuda/kernels/kernels.h"
#include "engine/cpu/ops.h"
#include "tests/cuda/cuda_test_util.h"

namespace gptoss::testing {
namespace {

struct Case {
    int tokens, experts, k;
};

class CudaRouter : public ::testing::TestWithParam<Case> {};

TEST_P(CudaRouter, MatchesCpuIncludingTies) {
    GPTOSS_SKIP_WITHOUT_GPU();
    const auto [T, E, K] = GetParam();
    std::vector<float> logits = random_normal(size_t(T) * E, 1.0f, 7 + E);
    // Some rows with exact ties (bf16-like coarse values): the lower expert id must win.
    for (int t = 0; t < T; t += 3)
        for (int e = 0; e < E; ++e)
            logits[size_t(t) * E + e] = std::round(logits[size_t(t) * E + e] * 2.0f) / 2.0f;
    std::vector<int32_t> experts(size_t(T) * K);
    std::vector<float> weights(size_t(T) * K);
    cpu::router_topk(logits.data(), T, E, K, experts.data(), weights.data());

    auto d_logits = to_device(logits);
    auto d_experts = poisoned<int32_t>(size_t(T) * K, -1);
    auto d_weights = poisoned<float>(size_t(T) * K, NAN);
    cuda::router_topk({.logits = d_logits.get(),
                       .num_tokens = T,
                       .num_experts = E,
                       .k = K,
                       .experts = d_experts.get(),
                       .weights = d_weights.get()},
                      nullptr);
    EXPECT_EQ(to_host(d_experts), experts);
    EXPECT_LT(rel_l2(to_host(d_weights), weights), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaRouter,
                         ::testing::Values(Case{300, 32, 4}, Case{7, 128, 4}, Case{50, 8, 4},
                                           Case{20, 40, 6}));

}  // namespace
}  // namespace gptoss::testing
