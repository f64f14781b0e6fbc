// The trained toy checkpoint (real 201088-token vocabulary, sharded, generation_config.json): for every case
// of its golden.json, greedy generation from prompt_ids reproduces transformers' greedy_ids exactly, stopping
// at the EOS ids of generation_config.json (<|return|>, <|endoftext|>, <|call|>).
#include <gtest/gtest.h>

#include <algorithm>

#include "config/generation_config.h"
#include "engine/cpu/cpu_runner.h"
#include "engine/single_sequence_driver.h"
#include "tests/support/fixture.h"

namespace gptoss {
namespace {

TEST(ToyHarmony, GreedyGenerationMatchesEveryGoldenCase) {
    const auto dir = testing::toy_harmony_dir();
    const ModelConfig config = ModelConfig::from_file(dir);
    const GenerationConfig generation = GenerationConfig::from_model_dir(dir);
    ASSERT_FALSE(generation.eos_token_ids.empty());
    const std::vector<int32_t> stop(generation.eos_token_ids.begin(), generation.eos_token_ids.end());
    std::shared_ptr<const ModelWeights> weights = ModelWeights::load(dir, config);

    const auto golden = testing::read_json(dir / "golden.json");
    ASSERT_GT(golden["cases"].size(), 0u);
    size_t longest = 0;
    for (const auto& c : golden["cases"]) {
        longest = std::max(longest, c["prompt_ids"].size() + c["greedy_ids"].size());
    }
    auto runner = make_cpu_runner(weights, 1);
    SingleSequenceDriver driver(*runner, static_cast<int>(longest) + 1);
    SamplingParams greedy;
    greedy.temperature = 0;
    int matched = 0, index = 0;
    for (const auto& c : golden["cases"]) {
        const auto prompt = c["prompt_ids"].get<std::vector<int32_t>>();
        const auto expected = c["greedy_ids"].get<std::vector<int32_t>>();
        // One token more than the golden answer: generation must stop by itself at its last token.
        const auto generated = driver.generate(prompt, static_cast<int>(expected.size()) + 1, greedy, stop);
        EXPECT_EQ(generated, expected) << "case " << index << ": " << c["prompt_text"].get<std::string>();
        matched += generated == expected;
        ++index;
    }
    std::printf("toy-harmony: %d of %d cases match transformers' greedy ids\n", matched, index);
}

}  // namespace
}  // namespace gptoss
