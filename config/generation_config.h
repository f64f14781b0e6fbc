// GenerationConfig: a checkpoint's generation_config.json (EOS ids and default sampling values).
// Values a request leaves out come from here; the file is optional.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace gptoss {

struct GenerationConfig {
    std::vector<int> eos_token_ids;  // gpt-oss: <|return|>, <|endoftext|>, <|call|>
    std::optional<int> bos_token_id;
    std::optional<int> pad_token_id;
    std::optional<bool> do_sample;
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::optional<int> top_k;
    std::optional<double> min_p;
    std::optional<double> repetition_penalty;

    static GenerationConfig from_json_text(std::string_view text,
                                           std::string_view source_name = "generation_config.json");
    // Reads <dir>/generation_config.json; returns an empty config when the file does not exist.
    static GenerationConfig from_model_dir(const std::filesystem::path& dir);
};

}  // namespace gptoss
