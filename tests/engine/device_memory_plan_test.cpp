// plan_device_memory: the KV budget left under --gpu-memory-utilization, clear errors when the weights cannot
// fit, and gpt-oss-120b on one H100 80 GB at 0.92 (the figure docs/DEPLOYMENT.md gives).
#include "engine/device_memory_plan.h"

#include <gtest/gtest.h>

#include "config/model_config.h"
#include "engine/kv_cache_sizing.h"
#include "engine/weights/model_weights.h"

namespace gptoss {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

// The message of the ConfigError `f` throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(DeviceMemoryPlan, KvGetsWhatIsLeftUnderTheTarget) {
    const DeviceMemoryPlan plan = plan_device_memory(80 * kGiB, 79 * kGiB, 0.9, 40 * kGiB, 2 * kGiB);
    EXPECT_EQ(plan.target_bytes, 72 * kGiB);
    EXPECT_EQ(plan.in_use_bytes, 1 * kGiB);
    EXPECT_EQ(plan.kv_budget_bytes, 72 * kGiB - 1 * kGiB - 40 * kGiB - 2 * kGiB);
}

TEST(DeviceMemoryPlan, WeightsLargerThanTheFreeMemoryAreAClearError) {
    const std::string e =
        error_of([] { plan_device_memory(80 * kGiB, 79 * kGiB, 0.9, 81 * kGiB, 2 * kGiB); });
    EXPECT_NE(e.find("the weights need 81.00 GiB but the GPU has 79.00 GiB free of 80.00 GiB"),
              std::string::npos)
        << e;
}

TEST(DeviceMemoryPlan, ATargetBelowTheWeightsNamesTheFlag) {
    const std::string e =
        error_of([] { plan_device_memory(80 * kGiB, 79 * kGiB, 0.5, 39 * kGiB, 2 * kGiB); });
    EXPECT_NE(e.find("--gpu-memory-utilization 0.5 allows 40.00 GiB"), std::string::npos) << e;
    EXPECT_NE(e.find("the weights need 39.00 GiB and the activations 2.00 GiB"), std::string::npos) << e;
}

// gpt-oss-120b's config.json, the fields the planners read.
ModelConfig gpt_oss_120b() {
    ModelConfig m;
    m.num_hidden_layers = 36;
    m.hidden_size = m.intermediate_size = 2880;
    m.num_attention_heads = 64;
    m.num_key_value_heads = 8;
    m.head_dim = 64;
    m.num_local_experts = 128;
    m.num_experts_per_tok = 4;
    m.vocab_size = 201088;
    m.sliding_window = 128;
    m.max_position_embeddings = 131072;
    for (int i = 0; i < 36; ++i)
        m.layer_types.push_back(i % 2 == 0 ? LayerType::kSlidingAttention : LayerType::kFullAttention);
    return m;
}

// The defaults (256 sequences, 8192 batched tokens, block 16) on an H100 80 GB HBM3 with the CUDA runner's
// sizes: DeviceWeights::required_bytes (the checkpoint, its biases widened to float32, 256-byte aligned) and
// Workspace::required_bytes(8192 tokens, 256 rows), both computed from cuda/ for this config. The card's side
// is assumed, not measured here: cudaMemGetInfo's total taken as 79.1 GiB (the lowest total PyTorch reports
// for this card in public logs; nvidia-smi shows 81,559 MiB), 0.6 GiB in use before the upload (context,
// cuBLAS).
TEST(DeviceMemoryPlan, Gpt120bOnOneH100At092) {
    const ModelConfig model = gpt_oss_120b();
    constexpr int64_t kTotal = 791 * kGiB / 10, kFree = kTotal - 6 * kGiB / 10;
    const int64_t weights = static_cast<int64_t>(checkpoint_tensor_bytes(model)) + 80'225'408;
    constexpr int64_t kActivations = 2'093'592'072;
    const DeviceMemoryPlan memory = plan_device_memory(kTotal, kFree, 0.92, weights, kActivations);
    EngineConfig engine;
    const size_t bf16_kv_bytes_per_token_per_layer = 2 * 8 * 64 * 2;
    const KvCachePlan kv =
        plan_kv_cache(engine, model, bf16_kv_bytes_per_token_per_layer, memory.kv_budget_bytes);
    std::printf(
        "weights %.2f GiB, activations %.2f GiB, KV budget %.2f GiB: %lld tokens, %d full-length sequences\n",
        weights / double(kGiB), kActivations / double(kGiB), memory.kv_budget_bytes / double(kGiB),
        static_cast<long long>(kv.capacity.max_cached_tokens), kv.capacity.max_full_length_seqs);
    EXPECT_EQ(kv.layout.num_window_blocks, 3040);       // the scheduling bound: sliding layers never run out
    EXPECT_EQ(kv.max_model_len, 131072);                // one full-length conversation fits
    EXPECT_GE(kv.capacity.max_cached_tokens, 200'000);  // docs/DEPLOYMENT.md: about 220,000
    EXPECT_EQ(kv.capacity.max_full_length_seqs, 1);
}

}  // namespace
}  // namespace gptoss
