// Parsing the text of a message header (what lies between <|start|> and <|message|>), following harmony's
// parse_header_from_string (harmony.md 11): the channel after <|channel|>, then the role word, then the
// recipient and content type, with the recipient before or after the channel and <|constrain|> spaced or not.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tokenizer/harmony/types.h"

namespace gptoss::harmony {

// Malformed model output under strict parsing. what() is harmony's own message where it has one.
class ParseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct MessageHeader {
    Author author;
    std::optional<std::string> recipient;
    std::optional<std::string> channel;
    std::optional<std::string> content_type;
};

struct ParsedHeader {
    MessageHeader header;
    // Words left over after the header fields: an error for a real header, the recovered body text for a
    // header that never saw <|message|>.
    std::optional<std::string> remaining_words;
};

struct HeaderParseOptions {
    std::optional<Role> role;              // known role (the first message after "<|start|>assistant")
    bool parse_recipient_and_type = true;  // false: every word after the role is body text
    // Never throw: an empty channel is ignored, an unknown or missing role becomes assistant, leftover words
    // are dropped; each repair appends a warning.
    bool lenient = false;
};

// Throws ParseError (unless lenient) with harmony's messages: "channel marker present but no channel value
// found in header", "Unknown role: X", "message header did not contain a role".
ParsedHeader parse_header(const std::string& text, const HeaderParseOptions& options,
                          std::vector<std::string>* warnings = nullptr);

}  // namespace gptoss::harmony
