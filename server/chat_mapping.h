// OpenAI Chat Completions <-> harmony: the whole contract between an OpenAI-style chat request and the token
// ids gpt-oss sees, and between the tokens it generates and OpenAI's message / delta shapes.
// Transport-free (no HTTP, no SSE framing): the HTTP layer calls this; tests call it directly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/request.h"

namespace gptoss {

class Tokenizer;

// The request cannot be mapped (unknown role, tool result without a matching call, bad tool schema, ...).
// The HTTP layer answers 400 with this message and `param` (e.g. "messages[2].tool_call_id").
class ChatRequestError : public std::runtime_error {
public:
    ChatRequestError(const std::string& message, std::string param)
        : std::runtime_error(message), param_(std::move(param)) {}
    const std::string& param() const { return param_; }

private:
    std::string param_;
};

struct ChatMappingOptions {
    std::string default_reasoning_effort = "medium";  // when the request has no reasoning_effort
    std::optional<std::string> current_date;          // "YYYY-MM-DD" on the system message; nullopt: no line
};

struct ChatPrompt {
    // The rendered conversation, ending with <|start|>assistant.
    std::vector<int32_t> token_ids;
    std::vector<int32_t> stop_token_ids;  // <|return|>, <|call|>
    // The function tools rendered in the prompt: a call the model addresses to a bare NAME (without the
    // "functions." namespace) is still recognised as a tool call when NAME is one of them.
    std::vector<std::string> tool_names;
    // build_chat_prompt sets it false when the request offers no tools or says tool_choice "none": a call the
    // model writes anyway is then not returned as tool_calls (OpenAI's contract for "none"); its text goes to
    // reasoning with a warning.
    bool tool_calls_allowed = true;
};

// A function name gpt-oss can address: it becomes part of a harmony header ("to=functions.NAME"), so it is
// 1-64 letters, digits, '_', '-', '.' or ':'.
bool valid_tool_name(const std::string& name);

// Renders a validated chat-completions request body (messages, tools, tool_choice, reasoning_effort,
// response_format, parallel_tool_calls) into harmony tokens. Throws ChatRequestError.
// Tool schemas render their properties in the order of the JSON object: pass the body parsed as
// nlohmann::ordered_json to keep the client's order (nlohmann::json has already sorted the keys).
ChatPrompt build_chat_prompt(const nlohmann::ordered_json& request, const Tokenizer& tokenizer,
                             const ChatMappingOptions& options);
ChatPrompt build_chat_prompt(const nlohmann::json& request, const Tokenizer& tokenizer,
                             const ChatMappingOptions& options);

// What one step of generation adds to the OpenAI response, in delta form.
struct ChatDelta {
    std::string content;    // final channel, and commentary preambles (no recipient)
    std::string reasoning;  // analysis channel
    struct ToolCall {
        int index = 0;                    // 0-based among this choice's tool calls
        std::optional<std::string> id;    // "call_..." on the first delta of a call
        std::optional<std::string> name;  // function name on the first delta of a call
        std::string arguments;            // raw JSON text appended by this delta
    };
    std::vector<ToolCall> tool_calls;
    bool empty() const { return content.empty() && reasoning.empty() && tool_calls.empty(); }
};

// Streams generated tokens through the harmony parser and routes their text: analysis -> reasoning,
// final and recipient-less commentary -> content, recipient functions.NAME -> tool_calls. Never throws on
// malformed model output: it degrades to content and records a warning.
class ChatOutputAssembler {
public:
    ChatOutputAssembler(std::shared_ptr<const Tokenizer> tokenizer, const ChatPrompt& prompt);
    ~ChatOutputAssembler();
    ChatOutputAssembler(ChatOutputAssembler&&) noexcept;

    // Every call returns what changed since the previous call.
    ChatDelta push(int32_t token);
    // End of generation (stop token, length, stop string or abort). stop_trim_bytes: see TokenEvent; the
    // bytes are cut from the end of the last message's text (never from an earlier message), in message()
    // and in this delta; text an earlier push() already returned cannot be taken back.
    ChatDelta finish(size_t stop_trim_bytes = 0);
    // push() for each of the event's tokens, then finish(event.stop_trim_bytes) when the event is the last:
    // one delta, so that a stop string's bytes released with the last event never reach the client.
    ChatDelta push_event(const TokenEvent& event);

    // The complete assistant message: {"role":"assistant","content":...,"reasoning_content":...,
    // "reasoning":...,"tool_calls":[...]} (null / absent where empty, as OpenAI does).
    nlohmann::json message(bool include_reasoning = true) const;
    // "tool_calls" when the reply holds a tool call, else the engine's stop / length.
    std::string finish_reason(FinishReason engine_reason) const;
    int num_reasoning_tokens() const;
    const std::vector<std::string>& warnings() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gptoss
