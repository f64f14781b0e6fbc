#include "engine/structured/json_token_mask.h"

namespace gptoss::structured {

namespace {

bool step(const JsonMatcher& from, uint8_t byte, JsonMatcher& to) {
    to = from;
    return to.advance(byte);
}

TokenBitmask string_body_mask(const OpenString& open, const TokenVocabulary& vocabulary) {
    const StringTokenIndex& index = vocabulary.string_index();
    const int32_t budget = open.max_length < 0 ? -1 : open.max_length - open.characters;
    TokenBitmask mask = index.inside(budget);
    const int32_t least = open.min_length - open.characters;
    const auto& closing = index.closing();
    auto allow = [&](int32_t item) {
        const auto& c = closing[size_t(item)];
        if (c.characters >= least && (budget < 0 || c.characters <= budget)) mask.set(c.id);
    };
    const ByteTrie& remainders = index.remainders();
    for (int32_t item : remainders.empty_items()) allow(item);
    remainders.walk(open.after_close, step, [&](int32_t node, const JsonMatcher&) {
        for (const int32_t* it = remainders.items_begin(node); it != remainders.items_end(node); ++it)
            allow(*it);
    });
    return mask;
}

}  // namespace

TokenBitmask json_token_mask(const JsonMatcher& matcher, const TokenVocabulary& vocabulary) {
    if (auto open = matcher.open_string()) return string_body_mask(*open, vocabulary);
    TokenBitmask mask(vocabulary.num_tokens());
    const ByteTrie& trie = vocabulary.trie();
    trie.walk(matcher, step, [&](int32_t node, const JsonMatcher&) {
        for (const int32_t* it = trie.items_begin(node); it != trie.items_end(node); ++it) mask.set(*it);
    });
    return mask;
}

}  // namespace gptoss::structured
