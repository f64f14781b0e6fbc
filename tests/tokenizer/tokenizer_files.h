// The two vocabulary files of the tokenizer tests and their loaded tokenizers (loaded once per test binary).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace gptoss::testing {

enum class VocabFormat { kTiktoken, kTokenizerJson };

// ../shared/vocab/o200k_base.tiktoken
std::filesystem::path tiktoken_path();
// ../shared/vocab/tokenizer.json.xz, unpacked into the build tree at build time.
std::filesystem::path tokenizer_json_path();

const std::shared_ptr<const Tokenizer>& tokenizer_for(VocabFormat format);
std::string format_name(VocabFormat format);

// One JSON object per non-empty line of a .jsonl file.
std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path);

}  // namespace gptoss::testing
