// StringTokenIndex: how every token of a vocabulary reads inside a JSON string body, precomputed once.
//
// Inside a string body most of the vocabulary is allowed, so a trie walk would visit nearly every token.
// But the tokens that stay inside the body depend only on how many characters the string may still take,
// and the tokens that close it depend on the state after the quote only through the bytes that follow the
// quote. So a string body's mask is a precomputed mask (by character budget) plus a walk of the distinct
// remainders after the quote (a small trie, pruned by the state after the close).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/structured/byte_trie.h"
#include "engine/structured/token_bitmask.h"

namespace gptoss::structured {

class TokenVocabulary;

class StringTokenIndex {
public:
    explicit StringTokenIndex(const TokenVocabulary& vocabulary);

    // Tokens read wholly inside the body using at most `budget` characters (-1: unbounded); a token that
    // stops within a character counts that character.
    const TokenBitmask& inside(int32_t budget) const {
        return budget < 0 || size_t(budget) >= inside_.size() ? inside_.back() : inside_[size_t(budget)];
    }

    // Tokens that close the string: the characters before the quote, and the bytes after it as an item of
    // remainders() (item i is closing token i).
    struct Closing {
        int32_t id;
        int32_t characters;
    };
    const std::vector<Closing>& closing() const { return closing_; }
    const ByteTrie& remainders() const { return remainders_; }

private:
    std::vector<TokenBitmask> inside_;  // [max characters + 1]: cumulative by characters needed
    std::vector<Closing> closing_;
    ByteTrie remainders_;
};

}  // namespace gptoss::structured
