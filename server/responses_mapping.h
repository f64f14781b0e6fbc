// OpenAI Responses request -> the chat-completions body build_chat_prompt renders (harmony.md 12.3).
//
// The Responses route reuses the chat mapping whole (tool rendering, forced tool_choice headers, the drop
// rule for finished reasoning, response_format): this module only validates the Responses shapes and
// rewrites them in chat terms:
//   instructions                       -> a leading system message (the developer "# Instructions")
//   input string                       -> one user message
//   message items                      -> messages of their role (input_text / output_text parts joined);
//                                         an assistant message followed by function calls is their preamble
//   reasoning items                    -> the next assistant message's reasoning_content
//   function_call items                -> that assistant message's tool_calls
//   function_call_output               -> a tool message (call_id must answer an earlier function_call)
//   tools {type: function, name, ...}  -> {type: function, function: {name, description, parameters}}
//   tool_choice {type: function, name} -> {type: function, function: {name}}
//   reasoning.effort                   -> reasoning_effort
//   text.format                        -> response_format (text / json_object / json_schema)
// Errors are ApiError 400s naming the Responses parameter ("input[3].call_id").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/openai_schema.h"

namespace gptoss {

struct ResponsesRequest {
    GenerationParams params;  // model, stream, temperature, top_p, max_tokens (= max_output_tokens), user
    std::optional<std::string> instructions;
    std::optional<std::string> previous_response_id;
    bool store = true;
    bool background = false;
    bool encrypted_reasoning = false;  // include has "reasoning.encrypted_content"
    bool parallel_tool_calls = true;
    bool truncation_auto = false;  // truncation "auto": drop the oldest turns when the prompt is too long
    std::optional<std::string> reasoning_effort;
    // Echoed in the response object as the request gave them (defaults where absent).
    nlohmann::ordered_json tools = nlohmann::ordered_json::array();
    nlohmann::ordered_json tool_choice = "auto";
    nlohmann::ordered_json text = {{"format", {{"type", "text"}}}};
    nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
    // The input as a list of normalized items: every item has its "type"; message content is a list of
    // parts; reasoning is {"type": "reasoning", "content": [{"type": "reasoning_text", "text"}]}.
    std::vector<nlohmann::ordered_json> input;
};

// Validates a /v1/responses body (parsed as ordered_json so tool schemas keep the client's key order).
// Throws ApiError 400.
ResponsesRequest parse_responses_request(const nlohmann::ordered_json& body);

// Normalizes one item as parse_responses_request does (for items read back from the store, and tests);
// `param` names it in errors ("input[2]").
nlohmann::ordered_json normalize_input_item(const nlohmann::ordered_json& item, const std::string& param);

// The chat body for build_chat_prompt from the whole conversation: the stored items of the previous
// response (already normalized) followed by request.input. Throws ApiError 400 for a function_call_output
// whose call_id answers no earlier function_call.
nlohmann::ordered_json chat_body_for_responses(const ResponsesRequest& request,
                                               const std::vector<nlohmann::ordered_json>& conversation);

// truncation "auto": removes the oldest turn (everything before the second user message). False when the
// conversation has a single turn left.
bool drop_oldest_turn(std::vector<nlohmann::ordered_json>& conversation);

}  // namespace gptoss
