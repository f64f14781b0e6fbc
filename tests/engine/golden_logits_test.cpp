// The CPU engine against transformers' float32 logits on ../shared/fixtures/tiny-gptoss: every case of
// golden.safetensors at every position, their greedy continuations, and the 9,000-token golden_long prompt.
#include <gtest/gtest.h>

#include <cstdio>

#include "engine/cpu/cpu_runner.h"
#include "engine/single_sequence_driver.h"
#include "tests/engine/golden_test_util.h"
#include "tests/support/fixture.h"

namespace gptoss {
namespace {

constexpr double kTolerance = 1e-4;

std::shared_ptr<const ModelWeights> tiny_weights() {
    static std::shared_ptr<const ModelWeights> weights = [] {
        auto dir = testing::tiny_gptoss_dir();
        return std::shared_ptr<const ModelWeights>(ModelWeights::load(dir, ModelConfig::from_file(dir)));
    }();
    return weights;
}

TEST(GoldenLogits, EveryCaseEveryPosition) {
    testing::GoldenFile golden(testing::tiny_gptoss_dir() / "golden.safetensors");
    const auto cases = golden.cases();
    ASSERT_FALSE(cases.empty());
    const int V = tiny_weights()->config().vocab_size;
    for (const auto& name : cases) {
        auto ids = golden.read<int32_t>(name + ".input_ids");
        std::vector<int64_t> shape;
        auto expected = golden.read<float>(name + ".logits_f32", &shape);
        ASSERT_EQ(shape, (std::vector<int64_t>{int64_t(ids.size()), V}));
        auto runner = make_cpu_runner(tiny_weights(), 1);
        SingleSequenceDriver driver(*runner, static_cast<int>(ids.size()));
        auto logits = driver.score(ids);
        double worst = 0;
        int worst_pos = 0;
        for (size_t p = 0; p < ids.size(); ++p) {
            double err = testing::relative_l2(&logits[p * V], &expected[p * V], V);
            if (err > worst) worst = err, worst_pos = static_cast<int>(p);
            EXPECT_LE(err, kTolerance) << name << " position " << p;
        }
        std::printf("case %-10s T=%4zu worst relative L2 %.3e at position %d\n", name.c_str(), ids.size(),
                    worst, worst_pos);
    }
}

TEST(GoldenLogits, GreedyContinuations) {
    testing::GoldenFile golden(testing::tiny_gptoss_dir() / "golden.safetensors");
    for (const auto& name : golden.cases()) {
        if (!golden.has(name + ".greedy_f32")) continue;
        auto ids = golden.read<int32_t>(name + ".input_ids");
        auto expected = golden.read<int32_t>(name + ".greedy_f32");
        auto runner = make_cpu_runner(tiny_weights(), 1);
        SingleSequenceDriver driver(*runner, static_cast<int>(ids.size() + expected.size()));
        SamplingParams greedy;
        greedy.temperature = 0;
        auto generated = driver.generate(ids, static_cast<int>(expected.size()), greedy);  // no EOS stop
        EXPECT_EQ(generated, expected) << name;
    }
}

TEST(GoldenLogits, LongPromptPastTheOriginalContext) {
    testing::GoldenFile golden(testing::tiny_gptoss_dir() / "golden_long.safetensors");
    const int V = tiny_weights()->config().vocab_size;
    for (const auto& name : golden.cases()) {
        auto ids = golden.read<int32_t>(name + ".input_ids");
        auto positions = golden.read<int32_t>(name + ".positions");
        auto expected = golden.read<float>(name + ".logits_f32");
        ASSERT_EQ(expected.size(), positions.size() * V);
        auto runner = make_cpu_runner(tiny_weights(), 1);
        SingleSequenceDriver driver(*runner, static_cast<int>(ids.size()),
                                    {.block_size = 16, .prefill_chunk = 2048});
        auto logits = driver.score(ids, positions);
        double worst = 0;
        for (size_t i = 0; i < positions.size(); ++i) {
            double err = testing::relative_l2(&logits[i * V], &expected[i * V], V);
            worst = std::max(worst, err);
            EXPECT_LE(err, kTolerance) << name << " position " << positions[i];
            std::printf("case %s position %5d relative L2 %.3e\n", name.c_str(), positions[i], err);
        }
        std::printf("case %s T=%zu worst relative L2 %.3e (%.1f s)\n", name.c_str(), ids.size(), worst,
                    driver.last_prefill_seconds());
    }
}

}  // namespace
}  // namespace gptoss
