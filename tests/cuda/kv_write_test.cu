// kv_write (cuda/kernels/kv_write.cu) vs cpu::write_kv: same slots, bf16 storage.
#include <algorithm>
#include <numeric>

#include "cuda/kernels/kernels.h"
#include "engine/cpu/ops.h"
#include "tests/cuda/cuda_test_util.h"

namespace gptoss::testing {
namespace {

TEST(CudaKvWrite, ScattersBySlotAndSkipsNegativeSlots) {
    GPTOSS_SKIP_WITHOUT_GPU();
    const int Hkv = 8, D = 64, BS = 16, NB = 40, T = 77, Hq = 64;
    const int stride = (Hq + 2 * Hkv) * D, width = Hkv * D;
    std::vector<int64_t> slots(NB * BS);
    std::iota(slots.begin(), slots.end(), 0);
    std::shuffle(slots.begin(), slots.end(), std::mt19937(3));
    slots.resize(T);
    slots[5] = -1;
    slots[40] = -1;
    const std::vector<float> row = random_normal(size_t(T) * stride, 1.0f, 4);
    std::vector<float> k(size_t(T) * width), v(size_t(T) * width);
    for (int t = 0; t < T; ++t) {
        std::copy_n(&row[size_t(t) * stride + Hq * D], width, &k[size_t(t) * width]);
        std::copy_n(&row[size_t(t) * stride + Hq * D + width], width, &v[size_t(t) * width]);
    }
    const size_t cache_size = size_t(NB) * BS * width;
    std::vector<float> k_cache(cache_size, 0.0f), v_cache(cache_size, 0.0f);
    cpu::write_kv(k.data(), v.data(), slots, {k_cache.data(), v_cache.data(), BS, Hkv, D});

    auto d_row = to_device(row);
    auto d_slots = to_device(slots);
    auto d_k = to_device(std::vector<uint16_t>(cache_size, 0));
    auto d_v = to_device(std::vector<uint16_t>(cache_size, 0));
    cuda::kv_write({.k = d_row.get() + Hq * D,
                    .v = d_row.get() + Hq * D + width,
                    .row_stride = stride,
                    .slot_mapping = d_slots.get(),
                    .num_tokens = T,
                    .num_kv_heads = Hkv,
                    .head_dim = D,
                    .k_cache = d_k.get(),
                    .v_cache = d_v.get()},
                   nullptr);
    EXPECT_EQ(to_host(d_k), to_bf16(k_cache));
    EXPECT_EQ(to_host(d_v), to_bf16(v_cache));
}

}  // namespace
}  // namespace gptoss::testing
