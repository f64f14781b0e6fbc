// TokenVocabulary: the bytes of every token id, indexed for token masks.
//
// The mask computation (json_token_mask.h) walks the ordinary tokens as a trie (byte_trie.h): the matcher
// states of shared prefixes are computed once, and a rejected prefix skips every token under it. Inside
// string bodies it uses the precomputed StringTokenIndex instead.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/structured/byte_trie.h"
#include "engine/structured/string_token_index.h"

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
    const std::vector<int32_t>& special_ids() const { return special_; }
    // The special id whose text is `text` ("<|return|>").
    std::optional<int32_t> special_id(std::string_view text) const;

    // The ordinary (non-special, non-empty) tokens; a trie item is the token id.
    const ByteTrie& trie() const { return trie_; }
    const StringTokenIndex& string_index() const { return *string_index_; }

private:
    std::vector<std::string> bytes_;   // [V]
    std::vector<uint8_t> is_special_;  // [V]
    std::vector<int32_t> special_;
    ByteTrie trie_;
    std::unique_ptr<const StringTokenIndex> string_index_;
};

}  // namespace gptoss::structured
