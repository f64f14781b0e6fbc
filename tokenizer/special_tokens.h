// Special tokens: the o200k_harmony table and a matcher that finds allowed special-token strings in text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gptoss {

struct SpecialToken {
    std::string text;
    int32_t id;
};

// o200k_harmony: 199998 mergeable ranks, specials at ids 199998..201087 (201088 ids in all).
inline constexpr int32_t kHarmonyFirstSpecialId = 199998;
inline constexpr int32_t kHarmonyVocabSize = 201088;

// Every o200k_harmony special token (tiktoken's o200k_harmony / tokenizer.md section 4), one entry per id in
// id order, plus "<|endofprompt|>" as a second string for 200018 (o200k_base's name; the first entry,
// "<|reserved_200018|>", is what 200018 decodes to, as in tiktoken's o200k_harmony).
std::vector<SpecialToken> harmony_special_tokens();

// Whether every (text, id) pair is an o200k_harmony special token (used to recognise a tokenizer.json whose
// added tokens are the harmony ones, so its reserved range can be filled in).
bool are_harmony_special_tokens(const std::vector<SpecialToken>& tokens);

// Finds special-token strings in text: leftmost occurrence first, and at one position the longest string.
class SpecialTokenMatcher {
public:
    struct Match {
        size_t begin;
        size_t length;
        int32_t id;
    };

    explicit SpecialTokenMatcher(const std::vector<SpecialToken>& tokens);

    std::optional<int32_t> find_id(std::string_view text) const;
    // The first match at or after `from` whose string `accept(text)` allows.
    template <class Accept>
    std::optional<Match> find_next(std::string_view text, size_t from, Accept&& accept) const {
        for (size_t pos = next_candidate(text, from); pos < text.size();
             pos = next_candidate(text, pos + 1)) {
            for (size_t length : lengths_) {
                if (length > text.size() - pos) continue;
                const std::string_view candidate = text.substr(pos, length);
                auto it = ids_.find(candidate);
                if (it != ids_.end() && accept(candidate)) return Match{pos, length, it->second};
            }
        }
        return std::nullopt;
    }

private:
    // The next position at or after `from` whose byte can start a special token (text.size() if none).
    size_t next_candidate(std::string_view text, size_t from) const;

    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> ids_;
    std::vector<size_t> lengths_;  // distinct string lengths, longest first
    bool first_byte_[256] = {};
    int single_first_byte_ = -1;  // the only possible first byte (memchr scan), or -1
};

}  // namespace gptoss
