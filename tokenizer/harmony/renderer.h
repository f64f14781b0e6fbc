// Harmony renderer: Conversation -> a sequence of pieces (formatting tokens and text), then token ids or
// text.
//
// Byte-exact with openai/harmony's encoding.rs (harmony.md 2-9): every formatting marker is one special
// token, and every text piece (role word, " to=recipient", channel name, content type, each content part) is
// tokenized on its own with special tokens disabled, so text such as "<|end|>" inside a user message stays
// ordinary tokens and two content parts never merge across their boundary.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tokenizer/harmony/types.h"

namespace gptoss {
class Tokenizer;
}

namespace gptoss::harmony {

// A conversation harmony refuses to render (a tool message without a name, system content outside a system
// message, ...). what() names the message at fault.
class RenderError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One rendered piece: a formatting token ("<|start|>") or a text to encode with special tokens disabled.
struct RenderedPiece {
    bool is_formatting_token = false;
    std::string text;

    bool operator==(const RenderedPiece&) const = default;
};

using RenderedPieces = std::vector<RenderedPiece>;

struct RenderConfig {
    // harmony's RenderConversationConfig::auto_drop_analysis. Passing no config in Rust means no dropping,
    // which is this struct's default; the Python binding defaults to true.
    bool auto_drop_analysis = false;
};

// The messages back to back, after harmony's analysis-dropping rule: when auto_drop_analysis is set and the
// last assistant message is on the final channel, analysis messages before the first final message go.
RenderedPieces render_conversation(const Conversation& conversation, const RenderConfig& config = {});

// render_conversation + "<|start|>" + the next role ("assistant"): a generation prompt.
RenderedPieces render_conversation_for_completion(const Conversation& conversation, Role next_turn_role,
                                                  const RenderConfig& config = {});

// render_conversation, but when the last message is an assistant final message its terminator becomes
// <|return|> (a training target).
RenderedPieces render_conversation_for_training(const Conversation& conversation,
                                                const RenderConfig& config = {});

// One message. `conversation_has_function_tools` adds the "Calls to these tools must go to the commentary
// channel" line to a system message's channel section.
RenderedPieces render_message(const Message& message, bool conversation_has_function_tools);

// The pieces as text (formatting tokens by name): what `gptoss render --text` prints.
std::string pieces_to_text(const RenderedPieces& pieces);

// The pieces as token ids: formatting tokens by the tokenizer's special ids, text via encode_ordinary.
// Throws RenderError when the tokenizer lacks one of the formatting tokens.
std::vector<int32_t> pieces_to_tokens(const RenderedPieces& pieces, const Tokenizer& tokenizer);

}  // namespace gptoss::harmony
