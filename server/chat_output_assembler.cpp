// Generated harmony tokens -> OpenAI reasoning / content / tool_calls (harmony.md 12.2), streaming.
//
// Each parsed message is routed by route_output_message (output_routing.h): reasoning, content or a tool
// call. Several messages on one route are joined with "\n". The parser runs in tolerant mode, so malformed
// output becomes content plus a warning; nothing here throws on model output.
#include <algorithm>
#include <random>

#include "server/chat_mapping.h"
#include "server/output_routing.h"
#include "tokenizer/harmony/parser.h"
#include "tokenizer/tokenizer.h"

namespace gptoss {

namespace {

using harmony::MessageHeader;
using harmony::ParserEvent;

using Route = OutputRoute;

struct ToolCall {
    std::string id;
    std::string name;
    std::string arguments;
};

// How much of the output the caller has already received; deltas are the difference to the current state.
struct Emitted {
    size_t content = 0;
    size_t reasoning = 0;
    std::vector<size_t> arguments;  // per tool call
};

// Start of the last complete UTF-8 character boundary at or before `size` in `text`.
size_t utf8_boundary(const std::string& text, size_t size) {
    while (size > 0 && size < text.size() && (static_cast<unsigned char>(text[size]) & 0xC0) == 0x80) --size;
    return size;
}

}  // namespace

class ChatOutputAssembler::Impl {
public:
    Impl(std::shared_ptr<const Tokenizer> tokenizer, const ChatPrompt& prompt)
        : parser_(std::move(tokenizer), {harmony::Role::kAssistant, harmony::ParseMode::kTolerant}),
          tool_names_(prompt.tool_names),
          tool_calls_allowed_(prompt.tool_calls_allowed),
          rng_(std::random_device{}()) {}

    ChatDelta push(int32_t token) {
        ++num_message_tokens_;
        handle(parser_.process(token));
        return take_delta();
    }

    ChatDelta finish(size_t stop_trim_bytes) {
        handle(parser_.process_eos());
        trim_last_message(stop_trim_bytes);
        return take_delta();
    }

    ChatDelta push_event(const TokenEvent& event) {
        for (int32_t token : event.token_ids) {
            ++num_message_tokens_;
            handle(parser_.process(token));
        }
        if (event.finished) {
            handle(parser_.process_eos());
            trim_last_message(event.stop_trim_bytes);
        }
        return take_delta();
    }

    nlohmann::json message(bool include_reasoning) const {
        nlohmann::json out = {{"role", "assistant"}};
        out["content"] = content_.empty() ? nlohmann::json(nullptr) : nlohmann::json(content_);
        if (include_reasoning) {
            const nlohmann::json reasoning =
                reasoning_.empty() ? nlohmann::json(nullptr) : nlohmann::json(reasoning_);
            out["reasoning_content"] = reasoning;
            out["reasoning"] = reasoning;
        }
        if (!calls_.empty()) {
            nlohmann::json calls = nlohmann::json::array();
            for (const auto& call : calls_) {
                calls.push_back({{"id", call.id},
                                 {"type", "function"},
                                 {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
            }
            out["tool_calls"] = std::move(calls);
        }
        return out;
    }

    std::string finish_reason(FinishReason engine_reason) const {
        if (engine_reason == FinishReason::kLength) return "length";
        return calls_.empty() ? "stop" : "tool_calls";
    }

    int num_reasoning_tokens() const { return num_reasoning_tokens_; }

    const std::vector<std::string>& warnings() const { return warnings_; }

private:
    void handle(const std::vector<ParserEvent>& events) {
        for (const auto& event : events) {
            switch (event.kind) {
                case ParserEvent::Kind::kMessageStart:
                    start_message(event.header);
                    break;
                case ParserEvent::Kind::kContentDelta:
                    append(event.text);
                    break;
                case ParserEvent::Kind::kMessageEnd:
                    if (route_ == Route::kReasoning) num_reasoning_tokens_ += num_message_tokens_;
                    num_message_tokens_ = 0;
                    route_ = Route::kNone;
                    break;
                case ParserEvent::Kind::kStopToken:
                    break;
            }
        }
        // The parser's warnings join ours in the order they happened.
        const auto& parser_warnings = parser_.warnings();
        while (num_parser_warnings_ < parser_warnings.size())
            warnings_.push_back(parser_warnings[num_parser_warnings_++]);
    }

    void start_message(const MessageHeader& header) {
        std::string call_name;
        route_ = classify(header, call_name);
        last_route_ = route_;
        last_message_bytes_ = 0;
        last_separator_bytes_ = 0;
        if (route_ == Route::kToolCall) calls_.push_back({random_call_id(rng_), std::move(call_name), ""});
    }

    // Where a message's text goes; for a tool call also the function name.
    Route classify(const MessageHeader& header, std::string& call_name) {
        RoutedMessage routed = route_output_message(header, tool_names_, tool_calls_allowed_, warnings_);
        call_name = std::move(routed.call_name);
        return routed.route;
    }

    void append(const std::string& text) {
        if (text.empty()) return;
        std::string* target = route_ == Route::kContent     ? &content_
                              : route_ == Route::kReasoning ? &reasoning_
                              : route_ == Route::kToolCall  ? &calls_.back().arguments
                                                            : nullptr;
        if (target == nullptr) return;
        if (route_ != Route::kToolCall && last_message_bytes_ == 0 && !target->empty()) {
            *target += '\n';  // a new message on a route that already has text
            last_separator_bytes_ = 1;
        }
        *target += text;
        last_message_bytes_ += text.size();
    }

    // Cuts `num_bytes` from the end of the last message's text (a stop string and what followed it).
    void trim_last_message(size_t num_bytes) {
        if (num_bytes == 0 || last_route_ == Route::kNone) return;
        std::string* target = last_route_ == Route::kContent     ? &content_
                              : last_route_ == Route::kReasoning ? &reasoning_
                              : calls_.empty()                   ? nullptr
                                                                 : &calls_.back().arguments;
        if (target == nullptr) return;
        const size_t cut = std::min(num_bytes, last_message_bytes_);
        size_t new_size = utf8_boundary(*target, target->size() - cut);
        last_message_bytes_ -= target->size() - new_size;
        if (last_message_bytes_ == 0) new_size -= last_separator_bytes_;
        target->resize(new_size);
    }

    ChatDelta take_delta() {
        ChatDelta delta;
        if (content_.size() > emitted_.content) delta.content = content_.substr(emitted_.content);
        if (reasoning_.size() > emitted_.reasoning) delta.reasoning = reasoning_.substr(emitted_.reasoning);
        emitted_.content = content_.size();
        emitted_.reasoning = reasoning_.size();
        for (size_t i = 0; i < calls_.size(); ++i) {
            const bool is_new = i >= emitted_.arguments.size();
            if (is_new) emitted_.arguments.push_back(0);
            const std::string& arguments = calls_[i].arguments;
            if (!is_new && arguments.size() <= emitted_.arguments[i]) {
                emitted_.arguments[i] = arguments.size();
                continue;
            }
            ChatDelta::ToolCall entry;
            entry.index = static_cast<int>(i);
            if (is_new) {
                entry.id = calls_[i].id;
                entry.name = calls_[i].name;
            }
            if (arguments.size() > emitted_.arguments[i])
                entry.arguments = arguments.substr(emitted_.arguments[i]);
            emitted_.arguments[i] = arguments.size();
            delta.tool_calls.push_back(std::move(entry));
        }
        return delta;
    }

    harmony::StreamParser parser_;
    std::vector<std::string> tool_names_;
    bool tool_calls_allowed_;
    std::mt19937_64 rng_;

    Route route_ = Route::kNone;       // of the message being read
    Route last_route_ = Route::kNone;  // of the most recent message (for stop-string trimming)
    size_t last_message_bytes_ = 0;    // text the most recent message added to its route
    size_t last_separator_bytes_ = 0;  // the "\n" joining it to the route's earlier text
    std::string content_;
    std::string reasoning_;
    std::vector<ToolCall> calls_;
    Emitted emitted_;
    int num_message_tokens_ = 0;  // output tokens since the current message's header began
    int num_reasoning_tokens_ = 0;
    std::vector<std::string> warnings_;
    size_t num_parser_warnings_ = 0;
};

ChatOutputAssembler::ChatOutputAssembler(std::shared_ptr<const Tokenizer> tokenizer, const ChatPrompt& prompt)
    : impl_(std::make_unique<Impl>(std::move(tokenizer), prompt)) {}

ChatOutputAssembler::~ChatOutputAssembler() = default;
ChatOutputAssembler::ChatOutputAssembler(ChatOutputAssembler&&) noexcept = default;

ChatDelta ChatOutputAssembler::push(int32_t token) {
    return impl_->push(token);
}

ChatDelta ChatOutputAssembler::finish(size_t stop_trim_bytes) {
    return impl_->finish(stop_trim_bytes);
}

ChatDelta ChatOutputAssembler::push_event(const TokenEvent& event) {
    return impl_->push_event(event);
}

nlohmann::json ChatOutputAssembler::message(bool include_reasoning) const {
    return impl_->message(include_reasoning);
}

std::string ChatOutputAssembler::finish_reason(FinishReason engine_reason) const {
    return impl_->finish_reason(engine_reason);
}

int ChatOutputAssembler::num_reasoning_tokens() const {
    return impl_->num_reasoning_tokens();
}

const std::vector<std::string>& ChatOutputAssembler::warnings() const {
    return impl_->warnings();
}

}  // namespace gptoss
