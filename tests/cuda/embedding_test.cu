// embedding (cuda/kernels/embedding.cu) vs cpu::embedding: an exact gather.
#include "cuda/kernels/kernels.h"
#include "engine/cpu/ops.h"
#include "tests/cuda/cuda_test_util.h"

namespace gptoss::testing {
namespace {

TEST(CudaEmbedding, GathersRowsExactly) {
    GPTOSS_SKIP_WITHOUT_GPU();
    const int vocab = 5000, hidden = 2880, tokens = 67;
    const std::vector<uint16_t> table = to_bf16(random_normal(size_t(vocab) * hidden, 1.0f, 1));
    std::vector<int32_t> ids(tokens);
    std::mt19937 rng(2);
    for (int32_t& id : ids) id = static_cast<int32_t>(rng() % vocab);
    ids[0] = vocab - 1;

    auto d_table = to_device(table);
    auto d_ids = to_device(ids);
    auto d_out = poisoned<float>(size_t(tokens) * hidden, NAN);
    cuda::embedding({.table = d_table.get(),
                     .token_ids = d_ids.get(),
                     .num_tokens = tokens,
                     .hidden = hidden,
                     .out = d_out.get()},
                    nullptr);
    std::vector<float> expected(size_t(tokens) * hidden);
    cpu::embedding(table.data(), ids, hidden, expected.data());
    EXPECT_EQ(to_host(d_out), expected);
}

}  // namespace
}  // namespace gptoss::testing
