#include "tools/serve_bench/bench_dataset.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace gptoss::serve_bench {

std::vector<DatasetPrompt> random_dataset(const RandomSpec& spec) {
    if (spec.input_len < 1 || spec.output_len < 1) throw std::invalid_argument("lengths must be positive");
    if (spec.range_ratio < 0.0 || spec.range_ratio >= 1.0)
        throw std::invalid_argument("range ratio must be in [0, 1)");
    std::mt19937_64 rng(spec.seed);
    auto lengths = [&](int center) {
        const int lo = std::max(1, static_cast<int>(std::floor(center * (1.0 - spec.range_ratio))));
        const int hi = std::max(lo, static_cast<int>(std::ceil(center * (1.0 + spec.range_ratio))));
        return std::uniform_int_distribution<int>(lo, hi);
    };
    auto input = lengths(spec.input_len), output = lengths(spec.output_len);
    std::uniform_int_distribution<int32_t> token(0, kOrdinaryVocab - 1);
    std::vector<DatasetPrompt> prompts(spec.num_prompts);
    for (DatasetPrompt& p : prompts) {
        p.prompt_tokens = input(rng);
        p.output_tokens = output(rng);
        p.token_ids.resize(p.prompt_tokens);
        for (int32_t& t : p.token_ids) t = token(rng);
    }
    return prompts;
}

std::vector<DatasetPrompt> sharegpt_dataset(const std::filesystem::path& file, int num_prompts,
                                            std::optional<int> output_len, uint64_t seed,
                                            const std::function<int(const std::string&)>& count_tokens) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error(fmt::format("cannot read the ShareGPT file {}", file.string()));
    const nlohmann::json data = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!data.is_array())
        throw std::runtime_error(fmt::format("{}: not a JSON array of conversations", file.string()));
    std::vector<std::pair<std::string, std::string>> pairs;  // (prompt, completion)
    for (const nlohmann::json& entry : data) {
        if (!entry.is_object()) continue;
        auto turns = entry.find("conversations");
        if (turns == entry.end()) turns = entry.find("conversation");
        if (turns == entry.end() || !turns->is_array() || turns->size() < 2) continue;
        const nlohmann::json &first = (*turns)[0], &second = (*turns)[1];
        if (!first.is_object() || !second.is_object()) continue;
        auto value = [](const nlohmann::json& turn) {
            auto v = turn.find("value");
            return v != turn.end() && v->is_string() ? v->get<std::string>() : std::string();
        };
        pairs.emplace_back(value(first), value(second));
    }
    std::shuffle(pairs.begin(), pairs.end(), std::mt19937_64(seed));
    std::vector<DatasetPrompt> prompts;
    for (const auto& [prompt, completion] : pairs) {
        if (static_cast<int>(prompts.size()) == num_prompts) break;
        if (prompt.empty() || completion.empty()) continue;
        DatasetPrompt p;
        p.text = prompt;
        p.prompt_tokens = count_tokens(prompt);
        p.output_tokens = output_len ? *output_len : count_tokens(completion);
        const bool too_short = p.prompt_tokens < 4 || (!output_len && p.output_tokens < 4);
        const bool too_long =
            p.prompt_tokens > 1024 || (!output_len && p.prompt_tokens + p.output_tokens > 2048);
        if (!too_short && !too_long) prompts.push_back(std::move(p));
    }
    if (static_cast<int>(prompts.size()) < num_prompts) {
        throw std::runtime_error(fmt::format("{} holds only {} usable conversations ({} asked for)",
                                             file.string(), prompts.size(), num_prompts));
    }
    return prompts;
}

}  // namespace gptoss::serve_bench
