#include "server/response_output_assembler.h"

#include <random>

#include <fmt/format.h>

#include "server/output_routing.h"
#include "tokenizer/harmony/parser.h"
#include "tokenizer/tokenizer.h"

namespace gptoss {

namespace {

using harmony::ParserEvent;
using Item = ResponseOutputItem;
using Event = ResponseOutputEvent;

std::string item_id(const char* prefix, std::mt19937_64& rng) {
    return fmt::format("{}{:016x}{:016x}", prefix, rng(), rng());
}

}  // namespace

class ResponseOutputAssembler::Impl {
public:
    Impl(std::shared_ptr<const Tokenizer> tokenizer, const ChatPrompt& prompt)
        : parser_(std::move(tokenizer), {harmony::Role::kAssistant, harmony::ParseMode::kTolerant}),
          tool_names_(prompt.tool_names),
          tool_calls_allowed_(prompt.tool_calls_allowed),
          rng_(std::random_device{}()) {}

    std::vector<Event> push(int32_t token) {
        std::vector<Event> events;
        ++num_message_tokens_;
        handle(parser_.process(token), events);
        return events;
    }

    std::vector<Event> finish() {
        std::vector<Event> events;
        handle(parser_.process_eos(), events);
        return events;
    }

    const std::vector<Item>& items() const { return items_; }
    bool has_function_call() const { return has_function_call_; }
    int num_reasoning_tokens() const { return num_reasoning_tokens_; }
    const std::vector<std::string>& warnings() const { return warnings_; }

private:
    void handle(const std::vector<ParserEvent>& parsed, std::vector<Event>& events) {
        for (const auto& event : parsed) {
            switch (event.kind) {
                case ParserEvent::Kind::kMessageStart:
                    start_item(event.header, events);
                    break;
                case ParserEvent::Kind::kContentDelta:
                    if (open_ && !event.text.empty()) {
                        items_.back().text += event.text;
                        events.push_back({Event::Kind::kDelta, items_.size() - 1, event.text});
                    }
                    break;
                case ParserEvent::Kind::kMessageEnd:
                    end_item(event.token.has_value(), events);
                    break;
                case ParserEvent::Kind::kStopToken:
                    break;
            }
        }
        const auto& parser_warnings = parser_.warnings();
        while (num_parser_warnings_ < parser_warnings.size())
            warnings_.push_back(parser_warnings[num_parser_warnings_++]);
    }

    void start_item(const harmony::MessageHeader& header, std::vector<Event>& events) {
        RoutedMessage routed = route_output_message(header, tool_names_, tool_calls_allowed_, warnings_);
        reasoning_message_ = routed.route == OutputRoute::kReasoning;
        if (routed.route == OutputRoute::kNone) return;
        Item item;
        if (routed.route == OutputRoute::kReasoning) {
            item.type = Item::Type::kReasoning;
            item.id = item_id("rs_", rng_);
        } else if (routed.route == OutputRoute::kToolCall) {
            item.type = Item::Type::kFunctionCall;
            item.id = item_id("fc_", rng_);
            item.call_id = random_call_id(rng_);
            item.name = std::move(routed.call_name);
            has_function_call_ = true;
        } else {
            item.type = Item::Type::kMessage;
            item.id = item_id("msg_", rng_);
            item.preamble = routed.preamble;
        }
        items_.push_back(std::move(item));
        open_ = true;
        events.push_back({Event::Kind::kItemAdded, items_.size() - 1, ""});
    }

    void end_item(bool terminated, std::vector<Event>& events) {
        if (reasoning_message_) num_reasoning_tokens_ += num_message_tokens_;
        num_message_tokens_ = 0;
        reasoning_message_ = false;
        if (!open_) return;
        open_ = false;
        items_.back().complete = terminated;
        events.push_back({Event::Kind::kItemDone, items_.size() - 1, ""});
    }

    harmony::StreamParser parser_;
    std::vector<std::string> tool_names_;
    bool tool_calls_allowed_;
    std::mt19937_64 rng_;

    std::vector<Item> items_;
    bool open_ = false;  // items_.back() is the message being read
    bool reasoning_message_ = false;
    bool has_function_call_ = false;
    int num_message_tokens_ = 0;  // output tokens since the current message's header began
    int num_reasoning_tokens_ = 0;
    std::vector<std::string> warnings_;
    size_t num_parser_warnings_ = 0;
};

ResponseOutputAssembler::ResponseOutputAssembler(std::shared_ptr<const Tokenizer> tokenizer,
                                                 const ChatPrompt& prompt)
    : impl_(std::make_unique<Impl>(std::move(tokenizer), prompt)) {}
ResponseOutputAssembler::~ResponseOutputAssembler() = default;
ResponseOutputAssembler::ResponseOutputAssembler(ResponseOutputAssembler&&) noexcept = default;

std::vector<ResponseOutputEvent> ResponseOutputAssembler::push(int32_t token) {
    return impl_->push(token);
}
std::vector<ResponseOutputEvent> ResponseOutputAssembler::finish() {
    return impl_->finish();
}
const std::vector<ResponseOutputItem>& ResponseOutputAssembler::items() const {
    return impl_->items();
}
bool ResponseOutputAssembler::has_function_call() const {
    return impl_->has_function_call();
}
int ResponseOutputAssembler::num_reasoning_tokens() const {
    return impl_->num_reasoning_tokens();
}
const std::vector<std::string>& ResponseOutputAssembler::warnings() const {
    return impl_->warnings();
}

nlohmann::json response_content_part_json(const ResponseOutputItem& item) {
    if (item.type == ResponseOutputItem::Type::kReasoning) {
        return {{"type", "reasoning_text"}, {"text", item.text}};
    }
    return {{"type", "output_text"},
            {"text", item.text},
            {"annotations", nlohmann::json::array()},
            {"logprobs", nlohmann::json::array()}};
}

nlohmann::json response_item_json(const ResponseOutputItem& item, const std::string& status,
                                  bool encrypted_reasoning) {
    const bool started = status == "in_progress";
    switch (item.type) {
        case ResponseOutputItem::Type::kReasoning: {
            nlohmann::json j = {
                {"type", "reasoning"},
                {"id", item.id},
                {"summary", nlohmann::json::array()},
                {"content", started ? nlohmann::json::array()
                                    : nlohmann::json::array({response_content_part_json(item)})},
                {"status", status}};
            if (encrypted_reasoning) j["encrypted_content"] = started ? "" : item.text;
            return j;
        }
        case ResponseOutputItem::Type::kFunctionCall:
            return {{"type", "function_call"},
                    {"id", item.id},
                    {"call_id", item.call_id},
                    {"name", item.name},
                    {"arguments", started ? "" : item.text},
                    {"status", status}};
        case ResponseOutputItem::Type::kMessage:
            break;
    }
    nlohmann::json j = {{"type", "message"},
                        {"id", item.id},
                        {"role", "assistant"},
                        {"status", status},
                        {"content", started ? nlohmann::json::array()
                                            : nlohmann::json::array({response_content_part_json(item)})}};
    j["phase"] = item.preamble ? "commentary" : "final_answer";
    return j;
}

}  // namespace gptoss
