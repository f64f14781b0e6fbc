#include "engine/structured/token_vocabulary.h"

#include "tokenizer/tokenizer.h"

namespace gptoss::structured {

TokenVocabulary::TokenVocabulary(std::vector<std::string> token_bytes, std::vector<int32_t> special)
    : bytes_(std::move(token_bytes)), is_special_(bytes_.size(), 0), special_(std::move(special)) {
    for (int32_t id : special_) is_special_[size_t(id)] = 1;
    std::vector<std::string_view> ordinary(bytes_.size());  // specials stay empty: not in the trie
    for (int32_t id = 0; id < num_tokens(); ++id) {
        if (!is_special_[size_t(id)]) ordinary[size_t(id)] = bytes_[size_t(id)];
    }
    trie_ = ByteTrie(ordinary);
    string_index_ = std::make_unique<const StringTokenIndex>(*this);
}

std::shared_ptr<const TokenVocabulary> TokenVocabulary::from_tokenizer(const Tokenizer& tokenizer) {
    std::vector<std::string> bytes(size_t(tokenizer.vocab_size()));
    std::vector<int32_t> special;
    for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
        if (!tokenizer.is_valid(id)) continue;  // stays empty: never allowed inside constrained text
        bytes[size_t(id)] = std::string(tokenizer.token_to_bytes(id));
        if (tokenizer.is_special(id)) special.push_back(id);
    }
    return std::make_shared<const TokenVocabulary>(std::move(bytes), std::move(special));
}

std::optional<int32_t> TokenVocabulary::special_id(std::string_view text) const {
    for (int32_t id : special_) {
        if (bytes_[size_t(id)] == text) return id;
    }
    return std::nullopt;
}

}  // namespace gptoss::structured
