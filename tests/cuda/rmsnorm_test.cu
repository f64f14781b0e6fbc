// rmsnorm (cuda/kernels/rmsnorm.cu: residual add + RMSNorm + bf16 output) vs cpu::rmsnorm after the same
// adds.
#include "cuda/kernels/kernels.h"
#include "engine/cpu/ops.h"
#include "tests/cuda/cuda_test_util.h"

namespace gptoss::testing {
namespace {

struct Case {
    int tokens, hidden, num_deltas;
};

class CudaRmsNorm : public ::testing::TestWithParam<Case> {};

TEST_P(CudaRmsNorm, MatchesCpuAfterResidualAdd) {
    GPTOSS_SKIP_WITHOUT_GPU();
    const auto [T, H, K] = GetParam();
    const std::vector<float> x = random_normal(size_t(T) * H, 3.0f, 10 + H);
    const std::vector<float> deltas = random_normal(size_t(T) * std::max(K, 1) * H, 1.0f, 20 + H);
    std::vector<float> weight_f = random_normal(H, 0.1f, 30 + H);
    for (float& w : weight_f) w += 1.0f;
    const std::vector<uint16_t> weight = to_bf16(weight_f);

    std::vector<float> summed(x);  // [T, H] residual after the adds, in order k = 0, 1, ...
    for (int t = 0; t < T; ++t)
        for (int k = 0; k < K; ++k)
            for (int i = 0; i < H; ++i) summed[size_t(t) * H + i] += deltas[(size_t(t) * K + k) * H + i];
    std::vector<float> expected(size_t(T) * H);
    cpu::rmsnorm(summed.data(), weight.data(), 1e-5f, T, H, expected.data());

    auto d_x = to_device(x);
    auto d_deltas = to_device(deltas);
    auto d_weight = to_device(weight);
    auto d_out = poisoned<uint16_t>(size_t(T) * H, 0x7fc0);
    cuda::rmsnorm({.residual = d_x.get(),
                   .deltas = K > 0 ? d_deltas.get() : nullptr,
                   .num_deltas = K,
                   .weight = d_weight.get(),
                   .eps = 1e-5f,
                   .num_rows = T,
                   .hidden = H,
                   .out = d_out.get()},
                  nullptr);
    EXPECT_EQ(to_host(d_x), summed);  // the same float adds in the same order
    const double err = rel_l2(from_bf16(to_host(d_out)), expected);
    EXPECT_LT(err, 3e-3) << "bf16 output rounding only";
    RecordProperty("rel_l2", std::to_string(err));

    // As a split pair (the runner's form): hi + lo is float32-accurate.
    auto d_x2 = to_device(x);
    auto d_pair = poisoned<uint16_t>(size_t(2) * T * H, 0x7fc0);
    cuda::rmsnorm({.residual = d_x2.get(),
                   .deltas = K > 0 ? d_deltas.get() : nullptr,
                   .num_deltas = K,
                   .weight = d_weight.get(),
                   .eps = 1e-5f,
                   .num_rows = T,
                   .hidden = H,
                   .out = d_pair.get(),
                   .out_lo = d_pair.get() + size_t(T) * H},
                  nullptr);
    EXPECT_LT(rel_l2(from_split_bf16(to_host(d_pair)), expected), 1e-5) << "split pair: ~2^-17 per value";
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaRmsNorm,
                         ::testing::Values(Case{45, 2880, 4}, Case{45, 2880, 1}, Case{3, 2880, 0},
                                           Case{9, 128, 4}, Case{5, 256, 2}, Case{4, 6000, 4}));

TEST(CudaRmsNorm, SelectedRowsLeaveTheResidualAlone) {
    GPTOSS_SKIP_WITHOUT_GPU();
    const int T = 20, H = 2880, K = 4;
    const std::vector<float> x = random_normal(size_t(T) * H, 2.0f, 1);
    const std::vector<float> deltas = random_normal(size_t(T) * K * H, 1.0f, 2);
    const std::vector<uint16_t> weight = to_bf16(random_normal(H, 1.0f, 3));
    const std::vector<int32_t> rows = {19, 0, 7, 7};
    std::vector<float> gathered(rows.size() * H), expected(rows.size() * H);
    for (size_t r = 0; r < rows.size(); ++r)
        for (int i = 0; i < H; ++i) {
            float v = x[size_t(rows[r]) * H + i];
            for (int k = 0; k < K; ++k) v += deltas[(size_t(rows[r]) * K + k) * H + i];
            gathered[r * H + i] = v;
        }
    cpu::rmsnorm(gathered.data(), weight.data(), 1e-5f, static_cast<int>(rows.size()), H, expected.data());

    auto d_x = to_device(x);
    auto d_deltas = to_device(deltas);
    auto d_weight = to_device(weight);
    auto d_rows = to_device(rows);
    auto d_out = poisoned<uint16_t>(rows.size() * H, 0x7fc0);
    cuda::rmsnorm({.residual = d_x.get(),
                   .deltas = d_deltas.get(),
                   .num_deltas = K,
                   .update_residual = false,
                   .weight = d_weight.get(),
                   .eps = 1e-5f,
                   .row_indices = d_rows.get(),
                   .num_rows = static_cast<int>(rows.size()),
                   .hidden = H,
                   .out = d_out.get()},
                  nullptr);
    EXPECT_EQ(to_host(d_x), x);
    EXPECT_LT(rel_l2(from_bf16(to_host(d_out)), expected), 3e-3);
}

}  // namespace
}  // namespace gptoss::testing
