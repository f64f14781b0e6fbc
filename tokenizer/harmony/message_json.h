// harmony's own JSON shape of messages (the Rust serde form, used by ../shared/peer/harmony and by
// `gptoss render` / `gptoss parse`) <-> the types of types.h.
//
//   {"role": "assistant", "name": null, "recipient": "functions.f", "channel": "commentary",
//    "content_type": "<|constrain|>json", "content": "text" | [{"type": "text", "text": ...},
//    {"type": "system_content", ...}, {"type": "developer_content", ...}]}
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/harmony/types.h"

namespace gptoss::harmony {

// Malformed message JSON; what() names the field at fault (e.g. "messages[2].content[0].type").
class MessageJsonError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `where` prefixes field names in error messages.
Message message_from_json(const nlohmann::ordered_json& json, const std::string& where = "message");
// {"messages": [...]} -> Conversation.
Conversation conversation_from_json(const nlohmann::ordered_json& json,
                                    const std::string& where = "conversation");

// Absent fields are left out; a single text part is written as a plain string (as Rust's serde does).
nlohmann::ordered_json message_to_json(const Message& message);

}  // namespace gptoss::harmony
