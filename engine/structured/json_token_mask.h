// The tokens whose bytes a JsonMatcher can read next: the constrained part of a harmony message.
#pragma once

#include "engine/structured/json_matcher.h"
#include "engine/structured/token_bitmask.h"
#include "engine/structured/token_vocabulary.h"

namespace gptoss::structured {

// Bit t is set when every byte of ordinary token t is accepted from `matcher`'s state. Special tokens are
// never set (the caller adds the stop tokens once the document is complete). Inside a string body
// (JsonMatcher::open_string) it combines the precomputed StringTokenIndex with a walk of the bytes after
// the closing quote; elsewhere it walks the vocabulary trie, skipping every token under a rejected prefix.
TokenBitmask json_token_mask(const JsonMatcher& matcher, const TokenVocabulary& vocabulary);

}  // namespace gptoss::structured
