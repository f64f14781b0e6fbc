// The prompts of a serving benchmark, as vLLM's `bench serve` datasets make them.
//  random: prompt lengths uniform in [input_len * (1 - r), input_len * (1 + r)] (output lengths likewise),
//          each prompt that many random ordinary token ids, so it is exactly that many tokens when sent as
//          ids to /v1/completions.
//  sharegpt: a ShareGPT-format JSON file ([{"conversations": [{"from", "value"}, ...]}]), shuffled with the
//          seed; the first turn is the prompt and the second's token count the output length; pairs with
//          fewer than 4 tokens on either side, or more than 1024 prompt / 2048 total tokens, are skipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gptoss::serve_bench {

// o200k_harmony's ordinary tokens are ids [0, 199998); the rest are special.
constexpr int kOrdinaryVocab = 199998;

struct DatasetPrompt {
    std::vector<int32_t> token_ids;  // random dataset
    std::string text;                // sharegpt, or the ids as text for the chat endpoint
    int prompt_tokens = 0;
    int output_tokens = 0;
};

struct RandomSpec {
    int num_prompts = 1000;
    int input_len = 1024;
    int output_len = 128;
    double range_ratio = 0.0;
    uint64_t seed = 0;
};
std::vector<DatasetPrompt> random_dataset(const RandomSpec& spec);

// count_tokens: the server's tokenizer (POST /tokenize).
std::vector<DatasetPrompt> sharegpt_dataset(const std::filesystem::path& file, int num_prompts,
                                            std::optional<int> output_len, uint64_t seed,
                                            const std::function<int(const std::string&)>& count_tokens);

}  // namespace gptoss::serve_bench
