// Shared by the chat mapping tests: the toy tokenizer, prompt text, and the toy-harmony request fixture.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/chat_mapping.h"
#include "tests/support/fixture.h"
#include "tokenizer/tokenizer.h"

namespace gptoss::testing {

inline std::shared_ptr<const Tokenizer> toy_tokenizer() {
    static const auto tokenizer = Tokenizer::from_file(toy_harmony_dir() / "tokenizer.json");
    return tokenizer;
}

// Token ids as text, special tokens by name.
inline std::string decode_text(const std::vector<int32_t>& ids) {
    return toy_tokenizer()->decode(ids);
}

inline nlohmann::ordered_json read_ordered_json_file(const std::filesystem::path& path) {
    return nlohmann::ordered_json::parse(read_file(path));
}

// The mapping options a toy-harmony request was rendered with: its harmony_current_date ("none": no line).
inline ChatMappingOptions toy_case_options(const nlohmann::ordered_json& request) {
    ChatMappingOptions options;
    const std::string date = request.value("harmony_current_date", "none");
    if (date != "none") options.current_date = date;
    return options;
}

}  // namespace gptoss::testing
