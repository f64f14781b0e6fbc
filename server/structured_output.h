// Structured outputs for the generation routes: a request body's response_format (and whether it lets the
// model call tools) -> the engine's HarmonyConstraint, with OpenAI-style 400s for schemas the grammar
// engine does not support.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "engine/structured/harmony_constraint.h"

namespace gptoss {

// Chat Completions: body.response_format ({"type": "json_schema", "json_schema": {"schema": ...}} or
// {"type": "json_object"}). tool_calls_allowed: the request offers tools and tool_choice is not "none".
structured::StructuredOutputRequest chat_structured_output_request(const nlohmann::json& body,
                                                                   bool tool_calls_allowed);

// The constraint for a parsed request (null for plain text); throws api_errors::invalid_request naming the
// unsupported keyword and `param` (e.g. "response_format.json_schema.schema").
std::shared_ptr<const structured::HarmonyConstraint> make_structured_constraint(
    const structured::StructuredOutputRequest& request,
    std::shared_ptr<const structured::TokenVocabulary> vocabulary, const char* param);

}  // namespace gptoss
