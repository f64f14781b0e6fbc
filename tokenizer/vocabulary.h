// Vocabulary: what a file loader produces and the tokenizer is built from, whatever the file format.
#pragma once

#include <string>
#include <vector>

#include "tokenizer/special_tokens.h"

namespace gptoss {

struct Vocabulary {
    std::vector<std::string>
        tokens;  // [num_ranks] bytes of each mergeable token, by rank (= id); "" = unused
    std::vector<SpecialToken> specials;  // every string that encodes to a special id; the first one listed
                                         // for an id is the text it decodes to
    std::string pattern;                 // pre-tokenization regex, Rust regex syntax
};

// Loads a tiktoken rank file (lines "<base64 of the token bytes> <rank>") and adds the o200k_harmony special
// tokens and pattern. `source` names the file in error messages.
Vocabulary load_tiktoken_file(std::string_view contents, const std::string& source);

// Loads a Hugging Face tokenizer.json (byte-level BPE: model.vocab, the Split pre-tokenizer's regex,
// added_tokens). Ranks are the vocab ids; the merges list is not read (for a vocabulary converted from
// tiktoken ranks, merge order is id order). When the added tokens are o200k_harmony ones, the whole harmony
// special range is filled in, so the file behaves exactly like the tiktoken rank file.
Vocabulary load_hf_tokenizer_json(std::string_view contents, const std::string& source);

}  // namespace gptoss
