// LinearGemm (cuda/kernels/gemm.cpp, cuBLASLt) vs cpu::linear on the same bf16 inputs.
#include "cuda/kernels/kernels.h"
#include "engine/cpu/ops.h"
#include "tests/cuda/cuda_test_util.h"

namespace gptoss::testing {
namespace {

struct Case {
    int tokens, in, out;
    bool bias;
};

class CudaLinear : public ::testing::TestWithParam<Case> {};

TEST_P(CudaLinear, MatchesCpu) {
    GPTOSS_SKIP_WITHOUT_GPU();
    const auto [T, in, out, with_bias] = GetParam();
    const std::vector<uint16_t> x = to_bf16(random_normal(size_t(T) * in, 1.0f, 1 + T));
    const std::vector<uint16_t> w =
        to_bf16(random_normal(size_t(out) * in, 1.0f / std::sqrt(float(in)), 2 + out));
    const std::vector<uint16_t> b = to_bf16(random_normal(out, 0.1f, 3));
    std::vector<float> expected(size_t(T) * out);
    cpu::linear(from_bf16(x).data(), w.data(), with_bias ? b.data() : nullptr, T, in, out, expected.data());

    auto d_x = to_device(x);
    auto d_w = to_device(w);
    auto d_b = to_device(from_bf16(b));
    auto d_y = poisoned<float>(size_t(T) * out, NAN);
    cuda::LinearGemm gemm;
    gemm.run({.x = d_x.get(),
              .weight = d_w.get(),
              .bias = with_bias ? d_b.get() : nullptr,
              .num_tokens = T,
              .in_features = in,
              .out_features = out,
              .y = d_y.get()},
             nullptr);
    const double err = rel_l2(to_host(d_y), expected);
    EXPECT_LT(err, 1e-5) << "float32 accumulation of the same products";
}

TEST_P(CudaLinear, SplitInputIsFloat32Accurate) {
    GPTOSS_SKIP_WITHOUT_GPU();
    const auto [T, in, out, with_bias] = GetParam();
    const std::vector<float> x = random_normal(size_t(T) * in, 1.0f, 11 + T);  // not bf16-exact
    const std::vector<uint16_t> w =
        to_bf16(random_normal(size_t(out) * in, 1.0f / std::sqrt(float(in)), 2 + out));
    const std::vector<uint16_t> b = to_bf16(random_normal(out, 0.1f, 3));
    std::vector<float> expected(size_t(T) * out);
    cpu::linear(x.data(), w.data(), with_bias ? b.data() : nullptr, T, in, out, expected.data());

    auto d_x = to_device(to_split_bf16(x));
    auto d_w = to_device(w);
    auto d_b = to_device(from_bf16(b));
    auto d_y = poisoned<float>(size_t(2) * T * out, NAN);
    cuda::LinearGemm gemm;
    gemm.run({.x = d_x.get(),
              .weight = d_w.get(),
              .bias = with_bias ? d_b.get() : nullptr,
              .num_tokens = T,
              .in_features = in,
              .out_features = out,
              .split_input = true,
              .y = d_y.get()},
             nullptr);
    std::vector<float> got = to_host(d_y);
    got.resize(size_t(T) * out);
    EXPECT_LT(rel_l2(got, expected), 2e-5) << "split bf16 keeps the activations to ~2^-17";
}

// qkv, o, router and lm_head shapes of gpt-oss-20b, and the fixtures' small widths; <= 8 tokens take the
// CUDA-core weight stream (gemv.cu), more take cuBLASLt.
INSTANTIATE_TEST_SUITE_P(Shapes, CudaLinear,
                         ::testing::Values(Case{1, 2880, 5120, true}, Case{2, 2880, 5120, true},
                                           Case{8, 4096, 2880, true}, Case{6, 256, 1024, true},
                                           Case{1, 2880, 201088, false}, Case{37, 2880, 5120, true},
                                           Case{300, 4096, 2880, true}, Case{64, 2880, 32, true},
                                           Case{3, 2880, 201088, false}, Case{11, 128, 256, true},
                                           Case{5, 256, 1024, false}));

}  // namespace
}  // namespace gptoss::testing
