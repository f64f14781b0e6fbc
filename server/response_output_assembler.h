// Generated harmony tokens -> Responses API output items (harmony.md 12.3), streaming.
//
// One harmony message is one item: analysis -> `reasoning`, final -> `message`, a commentary preamble ->
// its own `message`, recipient functions.NAME -> `function_call`, routed by route_output_message (the same
// rules as chat). Every push() says which items began, what text each gained and which ended, so the SSE
// layer can write response.output_item.added / *.delta / *.done in generation order. Never throws on model
// output: malformed harmony degrades to message text plus a warning.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/chat_mapping.h"

namespace gptoss {

class Tokenizer;

struct ResponseOutputItem {
    enum class Type { kReasoning, kMessage, kFunctionCall };
    Type type = Type::kMessage;
    std::string id;         // "rs_…", "msg_…" or "fc_…"
    std::string call_id;    // kFunctionCall: "call_…", what function_call_output answers
    std::string name;       // kFunctionCall
    std::string text;       // reasoning text, output text or the call's JSON arguments
    bool preamble = false;  // kMessage from the commentary channel (written before tool calls)
    bool complete = false;  // its message ended with a terminator; false when generation stopped inside it
};

struct ResponseOutputEvent {
    enum class Kind { kItemAdded, kDelta, kItemDone };
    Kind kind = Kind::kDelta;
    size_t output_index = 0;  // into items()
    std::string delta;        // kDelta
};

class ResponseOutputAssembler {
public:
    ResponseOutputAssembler(std::shared_ptr<const Tokenizer> tokenizer, const ChatPrompt& prompt);
    ~ResponseOutputAssembler();
    ResponseOutputAssembler(ResponseOutputAssembler&&) noexcept;

    // What one generated token changed.
    std::vector<ResponseOutputEvent> push(int32_t token);
    // End of generation: ends an item that is still open (it stays !complete).
    std::vector<ResponseOutputEvent> finish();

    const std::vector<ResponseOutputItem>& items() const;
    bool has_function_call() const;
    int num_reasoning_tokens() const;
    const std::vector<std::string>& warnings() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// An item as OpenAI shapes it. status: "completed", "incomplete" or "in_progress" (while streaming).
// encrypted_reasoning: include asked for reasoning.encrypted_content; gpt-oss has no encryption, so the
// field carries the plain reasoning text (docs/API.md), which this server reads back as reasoning.
nlohmann::json response_item_json(const ResponseOutputItem& item, const std::string& status,
                                  bool encrypted_reasoning);
// The content part of a reasoning or message item ({"type": "reasoning_text" | "output_text", "text"}).
nlohmann::json response_content_part_json(const ResponseOutputItem& item);

}  // namespace gptoss
