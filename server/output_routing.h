// Where one generated harmony message goes in an OpenAI response, by its header (harmony.md 12.2, 12.3).
// Shared by the chat assembler (reasoning / content / tool_calls) and the Responses assembler (reasoning,
// message and function_call items), so both routes read the model's output by the same rules:
//   analysis                       -> reasoning
//   final, commentary without a recipient (a preamble), no channel, unknown channel -> content
//   recipient functions.NAME, or a bare NAME, of a rendered tool -> tool call
//   any other recipient (a function the request never offered, browser.*, python: built-ins the server
//   cannot run) -> reasoning, so a client never gets a call it cannot dispatch
//   a recipient starting with "<|" ("<|constrain|>json" from a final header) is a content type, not a call
//   messages not authored by the assistant -> dropped
#pragma once

#include <random>
#include <string>
#include <vector>

#include "tokenizer/harmony/header.h"

namespace gptoss {

enum class OutputRoute { kNone, kContent, kReasoning, kToolCall };

struct RoutedMessage {
    OutputRoute route = OutputRoute::kNone;
    std::string call_name;  // kToolCall: the function name without "functions."
    bool preamble = false;  // kContent: commentary without a recipient, written before tool calls
};

// tool_names: the function tools rendered in the prompt; tool_calls_allowed: false when the request offers
// no tools or says tool_choice "none" (a call written anyway goes to reasoning). Appends a sentence to
// `warnings` for every repair it makes.
RoutedMessage route_output_message(const harmony::MessageHeader& header,
                                   const std::vector<std::string>& tool_names, bool tool_calls_allowed,
                                   std::vector<std::string>& warnings);

// "call_" + 24 random letters and digits, OpenAI's call id shape.
std::string random_call_id(std::mt19937_64& rng);

}  // namespace gptoss
