#include "engine/kv_cache_sizing.h"

#include <gtest/gtest.h>

namespace gptoss {
namespace {

// gpt-oss-20b's attention shape: 24 layers alternating sliding (window 128) and full.
ModelConfig gpt_oss_20b_layers() {
    ModelConfig m;
    m.num_hidden_layers = 24;
    for (int i = 0; i < 24; ++i) {
        m.layer_types.push_back(i % 2 == 0 ? LayerType::kSlidingAttention : LayerType::kFullAttention);
    }
    m.sliding_window = 128;
    m.max_position_embeddings = 131072;
    return m;
}

constexpr size_t kBf16BytesPerTokenPerLayer = 2 * 8 * 64 * 2;  // K + V, 8 KV heads x 64, bf16
constexpr int64_t kGiB = int64_t(1) << 30;

TEST(KvCacheSizing, WindowedPoolFollowsTheSchedulingLimits) {
    // 256 sequences each holding ceil((127 + C_i) / 16) + 1 blocks with sum C_i <= 8192.
    EXPECT_EQ(window_pool_bound(128, 16, 256, 8192, 131072), (256 * 142 + 8192) / 16 + 256);
    // One sequence decoding: ceil(127 / 16) + 1 = 9 blocks; the bound is floor((142 + 1) / 16) + 1 = 9.
    EXPECT_EQ(window_pool_bound(128, 16, 1, 1, 131072), 9);
    // Never more than max_model_len's worth per sequence.
    EXPECT_EQ(window_pool_bound(128, 16, 4, 8192, 64), 16);
    EXPECT_EQ(window_pool_bound(0, 16, 4, 8192, 64), 0);
}

TEST(KvCacheSizing, FullPoolGetsTheRestOfTheBudget) {
    EngineConfig config;  // block 16, 256 seqs, 8192 tokens
    config.kv_cache_memory_bytes = 40 * kGiB;
    const KvCachePlan plan =
        plan_kv_cache(config, gpt_oss_20b_layers(), kBf16BytesPerTokenPerLayer, 40 * kGiB);
    const int64_t block_bytes = 12 * 16 * int64_t(kBf16BytesPerTokenPerLayer);  // 384 KiB, both pools
    EXPECT_EQ(plan.layout.num_window_blocks, 3040);
    EXPECT_FALSE(plan.window_pool_capped);
    EXPECT_EQ(plan.layout.num_full_blocks, (40 * kGiB - 3040 * block_bytes) / block_bytes);
    EXPECT_EQ(plan.max_model_len, 131072);
    EXPECT_EQ(plan.capacity.max_cached_tokens, int64_t(plan.layout.num_full_blocks) * 16);
    EXPECT_EQ(plan.capacity.max_full_length_seqs, plan.layout.num_full_blocks / 8192);
}

TEST(KvCacheSizing, SmallBudgetCapsTheWindowedPoolAndLowersAnUnsetMaxModelLen) {
    EngineConfig config;
    const KvCachePlan plan =
        plan_kv_cache(config, gpt_oss_20b_layers(), kBf16BytesPerTokenPerLayer, 2 * kGiB);
    EXPECT_TRUE(plan.window_pool_capped);
    EXPECT_EQ(plan.layout.num_window_blocks, 1 * kGiB / (12 * 16 * int64_t(kBf16BytesPerTokenPerLayer)));
    EXPECT_TRUE(plan.max_model_len_lowered);
    EXPECT_EQ(plan.max_model_len, plan.layout.num_full_blocks * 16);
    EXPECT_EQ(plan.capacity.max_full_length_seqs, 1);
}

TEST(KvCacheSizing, ExplicitMaxModelLenThatDoesNotFitIsAnError) {
    EngineConfig config;
    config.max_model_len = 131072;
    try {
        plan_kv_cache(config, gpt_oss_20b_layers(), kBf16BytesPerTokenPerLayer, 2 * kGiB);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("--max-model-len 131072"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("--kv-cache-memory"), std::string::npos) << e.what();
    }
    config.max_model_len = 200000;
    EXPECT_THROW(plan_kv_cache(config, gpt_oss_20b_layers(), kBf16BytesPerTokenPerLayer, 64 * kGiB),
                 ConfigError);
}

TEST(KvCacheSizing, ModelWithoutSlidingLayersHasNoWindowedPool) {
    ModelConfig m = gpt_oss_20b_layers();
    for (auto& t : m.layer_types) t = LayerType::kFullAttention;
    EngineConfig config;
    config.max_model_len = 4096;
    const KvCachePlan plan = plan_kv_cache(config, m, kBf16BytesPerTokenPerLayer, kGiB);
    EXPECT_EQ(plan.layout.num_window_blocks, 0);
    EXPECT_EQ(plan.sliding_window, 0);
    EXPECT_EQ(plan.layout.num_full_blocks, kGiB / (24 * 16 * int64_t(kBf16BytesPerTokenPerLayer)));
}

}  // namespace
}  // namespace gptoss
