// OutputProcessor: turns one request's sampled tokens into the TokenEvents its stream receives.
//
// Text is detokenized incrementally (StreamDecoder: special tokens skipped, only complete UTF-8). With stop
// strings, text that could still be the start of a stop string is held back, together with the tokens it
// came from, so a partial stop string is never released: released text never ends in a proper prefix of a
// stop string, hence a match can only start in the held text. On a match the text is cut before it, every
// held token is released, and stop_trim_bytes says how many bytes of those tokens' decoded text lie at or
// after the match. Finishing for any other reason (stop token, length, abort, error) releases everything
// held. Stop tokens and max_tokens are decided by the Scheduler; this class reports them and, for stop
// strings, tells the engine to finish the sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/request.h"
#include "engine/sequence.h"
#include "tokenizer/tokenizer.h"

namespace gptoss {

class OutputProcessor {
public:
    // tokenizer may be null: no text, and the request must have no stop strings.
    OutputProcessor(std::shared_ptr<const Tokenizer> tokenizer, const StopCriteria& stop, bool want_logprobs);

    // One new token of `seq` (already appended by the Scheduler, whose verdict on this token is `finish`:
    // kStop for a stop token, kLength, else kNone; a step may append several tokens, so the sequence's own
    // finish_reason may belong to a later one). Returns the event to send, if anything is released. Check
    // stopped_by_string() afterwards.
    std::optional<TokenEvent> on_token(const Sequence& seq, int32_t token, const TokenLogprob* logprob,
                                       FinishReason finish);
    // The request ends without a new token (abort, error): releases what is held.
    TokenEvent on_finish(const Sequence& seq, FinishReason reason, std::string error = {});

    // A stop string matched: the engine finishes the sequence with kStop.
    bool stopped_by_string() const { return stop_string_.has_value(); }

private:
    struct HeldToken {
        int32_t token;
        TokenLogprob logprob;
        size_t text_end;  // bytes of held_text_ up to the end of this token's text
    };
    TokenEvent release(const Sequence& seq, size_t num_text_bytes, bool all_tokens);
    // Earliest start of any stop string in held_text_ (npos: none); sets *which.
    size_t find_stop(size_t* which) const;
    // Earliest position from which held_text_'s tail is a proper prefix of a stop string (size(): none).
    size_t hold_point() const;

    std::optional<StreamDecoder> decoder_;
    std::vector<std::string> stop_strings_;
    bool want_logprobs_;
    std::string held_text_;
    std::vector<HeldToken> held_tokens_;
    int num_released_tokens_ = 0;
    std::optional<std::string> stop_string_;
    bool finished_ = false;
};

}  // namespace gptoss
