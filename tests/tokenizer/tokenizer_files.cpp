#include "tests/tokenizer/tokenizer_files.h"

#include <sstream>

#include "tests/support/fixture.h"

namespace gptoss::testing {

std::filesystem::path tiktoken_path() {
    return shared_dir() / "vocab" / "o200k_base.tiktoken";
}

std::filesystem::path tokenizer_json_path() {
    return GPTOSS_TEST_TOKENIZER_JSON;
}

const std::shared_ptr<const Tokenizer>& tokenizer_for(VocabFormat format) {
    static const auto tiktoken = Tokenizer::from_file(tiktoken_path());
    static const auto json = Tokenizer::from_file(tokenizer_json_path());
    return format == VocabFormat::kTiktoken ? tiktoken : json;
}

std::string format_name(VocabFormat format) {
    return format == VocabFormat::kTiktoken ? "tiktoken" : "tokenizer_json";
}

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
    std::istringstream in(read_file(path));
    std::vector<nlohmann::json> out;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
}

}  // namespace gptoss::testing
