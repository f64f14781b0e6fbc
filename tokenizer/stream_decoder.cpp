#include <fmt/format.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace gptoss {

StreamDecoder::StreamDecoder(std::shared_ptr<const Tokenizer> tokenizer, bool skip_special)
    : tokenizer_(std::move(tokenizer)), skip_special_(skip_special) {
    if (!tokenizer_) throw TokenizerError("StreamDecoder needs a tokenizer");
}

std::string StreamDecoder::push(int32_t id) {
    std::string out;
    if (!tokenizer_->is_valid(id)) {
        // Like an invalid byte: whatever was pending can no longer complete.
        utf8::append_lossy(pending_, out);
        pending_.clear();
        out += utf8::kReplacementCharacter;
        return out;
    }
    // A skipped special token is invisible: pending bytes may still be completed by the next token.
    if (skip_special_ && tokenizer_->is_special(id)) return out;
    pending_ += tokenizer_->token_to_bytes(id);
    const size_t consumed = utf8::append_complete(pending_, out);
    pending_.erase(0, consumed);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out;
    utf8::append_lossy(pending_, out);
    pending_.clear();
    return out;
}

}  // namespace gptoss
