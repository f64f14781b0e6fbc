// rope (cuda/kernels/rope.cu) vs cpu::apply_rope, on q and k heads that sit side by side in one row, and its
// fused KV write vs cpu::write_kv.
#include <algorithm>
#include <numeric>

#include "config/model_config.h"
#include "cuda/kernels/kernels.h"
#include "engine/cpu/ops.h"
#include "tests/cuda/cuda_test_util.h"

namespace gptoss::testing {
namespace {

ModelConfig yarn_config(int head_dim) {
    ModelConfig c;
    c.head_dim = head_dim;
    c.rope_theta = 150000.0;
    c.rope_scaling = RopeScaling{};  // yarn, factor 32, beta 32/1, 4096, truncate false
    return c;
}

TEST(CudaRope, MatchesCpuAtLongPositions) {
    GPTOSS_SKIP_WITHOUT_GPU();
    const int D = 64, Hq = 64, Hkv = 8, T = 40;
    const int stride = (Hq + 2 * Hkv) * D;
    const cpu::RopeTable table = cpu::make_rope_table(yarn_config(D));
    std::vector<int32_t> positions(T);
    std::mt19937 rng(5);
    for (int t = 0; t < T; ++t) positions[t] = static_cast<int32_t>(rng() % 131072);
    positions[0] = 0;
    positions[1] = 4095;
    positions[2] = 4096;
    positions[3] = 131071;
    const std::vector<float> row = random_normal(size_t(T) * stride, 1.0f, 6);

    std::vector<float> q(size_t(T) * Hq * D), k(size_t(T) * Hkv * D);
    for (int t = 0; t < T; ++t) {
        std::copy_n(&row[size_t(t) * stride], Hq * D, &q[size_t(t) * Hq * D]);
        std::copy_n(&row[size_t(t) * stride + Hq * D], Hkv * D, &k[size_t(t) * Hkv * D]);
    }
    cpu::apply_rope(q.data(), positions, Hq, D, table);
    cpu::apply_rope(k.data(), positions, Hkv, D, table);

    auto d_x = to_device(row);
    auto d_pos = to_device(positions);
    auto d_freq = to_device(table.inv_freq);
    cuda::rope({.x = d_x.get(),
                .row_stride = stride,
                .num_tokens = T,
                .num_heads = Hq + Hkv,
                .head_dim = D,
                .positions = d_pos.get(),
                .inv_freq = d_freq.get(),
                .attention_scaling = table.attention_scaling},
               nullptr);
    const std::vector<float> got = to_host(d_x);
    std::vector<float> got_q(q.size()), got_k(k.size()), v_in(size_t(T) * Hkv * D), v_out(v_in.size());
    for (int t = 0; t < T; ++t) {
        std::copy_n(&got[size_t(t) * stride], Hq * D, &got_q[size_t(t) * Hq * D]);
        std::copy_n(&got[size_t(t) * stride + Hq * D], Hkv * D, &got_k[size_t(t) * Hkv * D]);
        std::copy_n(&row[size_t(t) * stride + (Hq + Hkv) * D], Hkv * D, &v_in[size_t(t) * Hkv * D]);
        std::copy_n(&got[size_t(t) * stride + (Hq + Hkv) * D], Hkv * D, &v_out[size_t(t) * Hkv * D]);
    }
    EXPECT_LT(rel_l2(got_q, q), 1e-6);
    EXPECT_LT(rel_l2(got_k, k), 1e-6);
    EXPECT_EQ(v_out, v_in) << "v is not rotated";
}

// With a slot mapping, the same launch scatters each token's rotated K and its V into the pages as bf16,
// exactly as cpu::write_kv stores the rotated row (slots < 0 skipped).
TEST(CudaRope, WritesRotatedKAndVBySlot) {
    GPTOSS_SKIP_WITHOUT_GPU();
    const int D = 64, Hq = 64, Hkv = 8, T = 77, BS = 16, NB = 40;
    const int stride = (Hq + 2 * Hkv) * D, width = Hkv * D;
    const cpu::RopeTable table = cpu::make_rope_table(yarn_config(D));
    std::vector<int32_t> positions(T);
    for (int t = 0; t < T; ++t) positions[t] = 3 * t + 1000;
    std::vector<int64_t> slots(NB * BS);
    std::iota(slots.begin(), slots.end(), 0);
    std::shuffle(slots.begin(), slots.end(), std::mt19937(3));
    slots.resize(T);
    slots[5] = -1;
    slots[40] = -1;
    const std::vector<float> row = random_normal(size_t(T) * stride, 1.0f, 4);
    const size_t cache_size = size_t(NB) * BS * width;
    auto d_x = to_device(row);
    auto d_pos = to_device(positions);
    auto d_freq = to_device(table.inv_freq);
    auto d_slots = to_device(slots);
    auto d_k = to_device(std::vector<uint16_t>(cache_size, 0));
    auto d_v = to_device(std::vector<uint16_t>(cache_size, 0));
    cuda::rope({.x = d_x.get(),
                .row_stride = stride,
                .num_tokens = T,
                .num_heads = Hq + Hkv,
                .head_dim = D,
                .positions = d_pos.get(),
                .inv_freq = d_freq.get(),
                .attention_scaling = table.attention_scaling,
                .slot_mapping = d_slots.get(),
                .num_kv_heads = Hkv,
                .k_cache = d_k.get(),
                .v_cache = d_v.get()},
               nullptr);
    const std::vector<float> rotated = to_host(d_x);
    std::vector<float> k(size_t(T) * width), v(size_t(T) * width);
    for (int t = 0; t < T; ++t) {
        std::copy_n(&rotated[size_t(t) * stride + Hq * D], width, &k[size_t(t) * width]);
        std::copy_n(&rotated[size_t(t) * stride + Hq * D + width], width, &v[size_t(t) * width]);
    }
    std::vector<float> k_cache(cache_size, 0.0f), v_cache(cache_size, 0.0f);
    cpu::write_kv(k.data(), v.data(), slots, {k_cache.data(), v_cache.data(), BS, Hkv, D});
    EXPECT_EQ(to_host(d_k), to_bf16(k_cache));
    EXPECT_EQ(to_host(d_v), to_bf16(v_cache));
}

}  // namespace
}  // namespace gptoss::testing
