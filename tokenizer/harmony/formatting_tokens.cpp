#include "tokenizer/harmony/formatting_tokens.h"

#include <string>

#include "tokenizer/tokenizer.h"

namespace gptoss::harmony {

namespace {

int32_t lookup(const Tokenizer& tokenizer, const char* name) {
    auto id = tokenizer.special_token_id(name);
    if (!id) throw TokenizerError(std::string("the tokenizer has no harmony token ") + name);
    return *id;
}

}  // namespace

FormattingTokens FormattingTokens::from_tokenizer(const Tokenizer& tokenizer) {
    FormattingTokens tokens;
    tokens.start = lookup(tokenizer, "<|start|>");
    tokens.channel = lookup(tokenizer, "<|channel|>");
    tokens.constrain = lookup(tokenizer, "<|constrain|>");
    tokens.message = lookup(tokenizer, "<|message|>");
    tokens.end = lookup(tokenizer, "<|end|>");
    tokens.call = lookup(tokenizer, "<|call|>");
    tokens.return_ = lookup(tokenizer, "<|return|>");
    return tokens;
}

}  // namespace gptoss::harmony
