// Structured outputs for the generation routes: a chat-completions body's response_format, tools (strict
// ones) and tool_choice -> the engine's HarmonyConstraint, with OpenAI-style 400s for schemas the grammar
// engine does not support. The Responses route passes the chat body it renders (text.format becomes
// response_format there).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/structured/harmony_constraint.h"

namespace gptoss {

// body.response_format ({"type": "json_schema", "json_schema": {"schema": ...}} or {"type": "json_object"}),
// body.tools[i].function {name, strict, parameters} and body.tool_choice ("required", a named function).
// tool_calls_allowed: the request offers tools and tool_choice is not "none" (ChatPrompt says which).
structured::StructuredOutputRequest chat_structured_output_request(const nlohmann::json& body,
                                                                   bool tool_calls_allowed);

// Where a route's 400 points: the response format's schema, and a tool's parameters given its index
// ("tools[{}].function.parameters" for chat, "tools[{}].parameters" for responses).
struct StructuredOutputParams {
    std::string schema;
    std::string tool_parameters;  // a fmt pattern with one {} for the tool's index
};

// The constraint for a parsed request (null when nothing is constrained); throws api_errors::invalid_request
// naming the unsupported keyword and the param it is under.
std::shared_ptr<const structured::HarmonyConstraint> make_structured_constraint(
    const structured::StructuredOutputRequest& request,
    std::shared_ptr<const structured::TokenVocabulary> vocabulary, const StructuredOutputParams& params);

}  // namespace gptoss
