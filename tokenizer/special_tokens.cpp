#include "tokenizer/special_tokens.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace gptoss {

namespace {

constexpr int32_t kEndOfPromptId = 200018;

// The named (non-reserved) o200k_harmony ids; every other id in the range is "<|reserved_N|>".
std::string_view harmony_name(int32_t id) {
    switch (id) {
        case 199998:
            return "<|startoftext|>";
        case 199999:
            return "<|endoftext|>";
        case 200002:
            return "<|return|>";
        case 200003:
            return "<|constrain|>";
        case 200005:
            return "<|channel|>";
        case 200006:
            return "<|start|>";
        case 200007:
            return "<|end|>";
        case 200008:
            return "<|message|>";
        case 200012:
            return "<|call|>";
        default:
            return {};
    }
}

std::string harmony_text(int32_t id) {
    const std::string_view name = harmony_name(id);
    return name.empty() ? fmt::format("<|reserved_{}|>", id) : std::string(name);
}

}  // namespace

std::vector<SpecialToken> harmony_special_tokens() {
    std::vector<SpecialToken> tokens;
    tokens.reserve(kHarmonyVocabSize - kHarmonyFirstSpecialId + 1);
    for (int32_t id = kHarmonyFirstSpecialId; id < kHarmonyVocabSize; ++id)
        tokens.push_back({harmony_text(id), id});
    tokens.push_back({"<|endofprompt|>", kEndOfPromptId});
    return tokens;
}

bool are_harmony_special_tokens(const std::vector<SpecialToken>& tokens) {
    return std::all_of(tokens.begin(), tokens.end(), [](const SpecialToken& t) {
        if (t.id < kHarmonyFirstSpecialId || t.id >= kHarmonyVocabSize) return false;
        return t.text == harmony_text(t.id) || (t.id == kEndOfPromptId && t.text == "<|endofprompt|>");
    });
}

SpecialTokenMatcher::SpecialTokenMatcher(const std::vector<SpecialToken>& tokens) {
    for (const auto& t : tokens) {
        if (t.text.empty()) continue;
        ids_.try_emplace(t.text, t.id);
        if (std::find(lengths_.begin(), lengths_.end(), t.text.size()) == lengths_.end()) {
            lengths_.push_back(t.text.size());
        }
        first_byte_[static_cast<unsigned char>(t.text[0])] = true;
    }
    std::sort(lengths_.rbegin(), lengths_.rend());
    if (std::count(std::begin(first_byte_), std::end(first_byte_), true) == 1) {
        single_first_byte_ = static_cast<int>(
            std::find(std::begin(first_byte_), std::end(first_byte_), true) - std::begin(first_byte_));
    }
}

std::optional<int32_t> SpecialTokenMatcher::find_id(std::string_view text) const {
    auto it = ids_.find(text);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
}

size_t SpecialTokenMatcher::next_candidate(std::string_view text, size_t from) const {
    if (from >= text.size() || ids_.empty()) return text.size();
    if (single_first_byte_ >= 0) {
        const void* hit = std::memchr(text.data() + from, single_first_byte_, text.size() - from);
        return hit ? static_cast<const char*>(hit) - text.data() : text.size();
    }
    for (size_t pos = from; pos < text.size(); ++pos) {
        if (first_byte_[static_cast<unsigned char>(text[pos])]) return pos;
    }
    return text.size();
}

}  // namespace gptoss
