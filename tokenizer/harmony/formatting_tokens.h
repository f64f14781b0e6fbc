// The ids of harmony's formatting tokens, looked up by name in the tokenizer (never assumed).
#pragma once

#include <cstdint>
#include <vector>

namespace gptoss {
class Tokenizer;
}

namespace gptoss::harmony {

struct FormattingTokens {
    int32_t start = 0;      // <|start|>
    int32_t channel = 0;    // <|channel|>
    int32_t constrain = 0;  // <|constrain|>
    int32_t message = 0;    // <|message|>
    int32_t end = 0;        // <|end|>: ends a message, never generation
    int32_t call = 0;       // <|call|>: ends a tool call and generation
    int32_t return_ = 0;    // <|return|>: ends the final answer and generation

    // Throws TokenizerError naming the first formatting token the tokenizer lacks.
    static FormattingTokens from_tokenizer(const Tokenizer& tokenizer);

    // What ends a message body: <|end|>, <|call|>, <|return|>.
    bool ends_message(int32_t id) const { return id == end || id == call || id == return_; }
    // What ends generation: <|return|>, <|call|> (harmony's stop_tokens_for_assistant_actions).
    bool stops_generation(int32_t id) const { return id == call || id == return_; }
    std::vector<int32_t> generation_stop_ids() const { return {return_, call}; }
};

}  // namespace gptoss::harmony
