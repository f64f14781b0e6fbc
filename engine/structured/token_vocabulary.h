// TokenVocabulary: the bytes of every token id, sorted so that a mask walks shared prefixes once.
//
// The mask computation (json_token_mask.h) visits the ordinary tokens in byte order: a token shares its first
// common_prefix(i) bytes with the one before it, so the matcher states for those bytes are reused, and when a
// prefix is rejected every following token that starts with it is skipped (an implicit token trie).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gptoss {
class Tokenizer;
}

namespace gptoss::structured {

class TokenVocabulary {
public:
    // token_bytes[id]: the bytes of id; special ids are listed in `special` (their bytes are their text).
    TokenVocabulary(std::vector<std::string> token_bytes, std::vector<int32_t> special);
    static std::shared_ptr<const TokenVocabulary> from_tokenizer(const Tokenizer& tokenizer);

    int32_t num_tokens() const { return static_cast<int32_t>(bytes_.size()); }
    std::string_view bytes(int32_t id) const { return bytes_[size_t(id)]; }
    bool is_special(int32_t id) const { return is_special_[size_t(id)] != 0; }
    // The special id whose text is `text` ("<|return|>").
    std::optional<int32_t> special_id(std::string_view text) const;

    // Ordinary (non-special, non-empty) ids in byte order, and the length of the prefix each shares with the
    // one before it (0 for the first).
    const std::vector<int32_t>& sorted_ids() const { return sorted_; }
    const std::vector<int32_t>& common_prefix() const { return common_prefix_; }
    size_t max_token_bytes() const { return max_bytes_; }

private:
    std::vector<std::string> bytes_;   // [V]
    std::vector<uint8_t> is_special_;  // [V]
    std::vector<int32_t> special_;
    std::vector<int32_t> sorted_;         // [ordinary tokens]
    std::vector<int32_t> common_prefix_;  // [ordinary tokens]
    size_t max_bytes_ = 0;
};

}  // namespace gptoss::structured
