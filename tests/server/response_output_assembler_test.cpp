// Generated tokens -> Responses output items (server/response_output_assembler.cpp): one item per harmony
// message, events in generation order, incomplete items, and the items' JSON shapes.
#include <gtest/gtest.h>

#include "server/response_output_assembler.h"
#include "tests/server/chat_test_support.h"

namespace gptoss {
namespace {

using testing::toy_tokenizer;
using Item = ResponseOutputItem;
using Event = ResponseOutputEvent;

std::vector<int32_t> encode(const std::string& text) {
    return toy_tokenizer()->encode(text, SpecialTokenPolicy::all());
}

struct AssembledItems {
    std::vector<Item> items;
    std::vector<Event> events;
    std::vector<std::string> streamed;  // per item, its deltas joined
};

AssembledItems run(const std::string& output, const ChatPrompt& prompt) {
    ResponseOutputAssembler assembler(toy_tokenizer(), prompt);
    AssembledItems r;
    auto take = [&](std::vector<Event> events) {
        for (auto& e : events) {
            if (e.kind == Event::Kind::kItemAdded) {
                EXPECT_EQ(e.output_index, r.streamed.size()) << "items are added in order";
                r.streamed.emplace_back();
            }
            if (e.kind == Event::Kind::kDelta) r.streamed.at(e.output_index) += e.delta;
            r.events.push_back(std::move(e));
        }
    };
    for (int32_t token : encode(output)) take(assembler.push(token));
    take(assembler.finish());
    r.items = assembler.items();
    return r;
}

ChatPrompt with_tools() {
    ChatPrompt prompt;
    prompt.tool_names = {"get_time"};
    return prompt;
}

TEST(ResponseOutputAssembler, OneItemPerMessageReasoningPreambleAndCall) {
    AssembledItems r =
        run("<|channel|>analysis<|message|>Call it.<|end|>"
            "<|start|>assistant<|channel|>commentary<|message|>Checking.<|end|>"
            "<|start|>assistant<|channel|>commentary to=functions.get_time <|constrain|>json<|message|>"
            "{\"city\": \"Rome\"}<|call|>",
            with_tools());
    ASSERT_EQ(r.items.size(), 3u);
    EXPECT_EQ(r.items[0].type, Item::Type::kReasoning);
    EXPECT_EQ(r.items[0].text, "Call it.");
    EXPECT_EQ(r.items[1].type, Item::Type::kMessage);
    EXPECT_TRUE(r.items[1].preamble);
    EXPECT_EQ(r.items[1].text, "Checking.");
    EXPECT_EQ(r.items[2].type, Item::Type::kFunctionCall);
    EXPECT_EQ(r.items[2].name, "get_time");
    EXPECT_EQ(r.items[2].text, "{\"city\": \"Rome\"}");
    EXPECT_EQ(r.items[2].call_id.rfind("call_", 0), 0u);
    EXPECT_EQ(r.items[2].id.rfind("fc_", 0), 0u);
    for (size_t i = 0; i < r.items.size(); ++i) {
        EXPECT_TRUE(r.items[i].complete);
        EXPECT_EQ(r.streamed[i], r.items[i].text) << "the deltas add up to the item";
    }
    // Each item: added, its deltas, done; the next item starts after the previous one is done.
    size_t open = 0;
    for (const auto& e : r.events) {
        if (e.kind == Event::Kind::kItemAdded) {
            EXPECT_EQ(open++, 0u);
        }
        if (e.kind == Event::Kind::kItemDone) {
            EXPECT_EQ(--open, 0u);
        }
    }
}

TEST(ResponseOutputAssembler, AMessageCutOffByTheTokenLimitIsIncomplete) {
    AssembledItems r = run("<|channel|>final<|message|>Hello, wor", {});
    ASSERT_EQ(r.items.size(), 1u);
    EXPECT_FALSE(r.items[0].preamble);
    EXPECT_EQ(r.items[0].text, "Hello, wor");
    EXPECT_FALSE(r.items[0].complete);
    EXPECT_EQ(response_item_json(r.items[0], "incomplete", false)["status"], "incomplete");
}

TEST(ResponseOutputAssembler, ACallWithoutOfferedToolsIsReasoning) {
    ChatPrompt no_tools;
    no_tools.tool_calls_allowed = false;
    AssembledItems r =
        run("<|channel|>commentary to=functions.get_time <|constrain|>json<|message|>{}<|call|>", no_tools);
    ASSERT_EQ(r.items.size(), 1u);
    EXPECT_EQ(r.items[0].type, Item::Type::kReasoning);
}

TEST(ResponseOutputAssembler, ItemJsonShapes) {
    Item reasoning{Item::Type::kReasoning, "rs_1", "", "", "R", false, true};
    EXPECT_EQ(
        response_item_json(reasoning, "completed", true),
        nlohmann::json::parse(R"({"type": "reasoning", "id": "rs_1", "summary": [], "status": "completed",
                  "content": [{"type": "reasoning_text", "text": "R"}], "encrypted_content": "R"})"));
    Item call{Item::Type::kFunctionCall, "fc_1", "call_1", "f", "{}", false, true};
    EXPECT_EQ(
        response_item_json(call, "in_progress", false),
        nlohmann::json::parse(R"({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f",
                  "arguments": "", "status": "in_progress"})"));
    Item message{Item::Type::kMessage, "msg_1", "", "", "Hi", true, true};
    EXPECT_EQ(response_item_json(message, "completed", false),
              nlohmann::json::parse(R"({"type": "message", "id": "msg_1", "role": "assistant",
                  "status": "completed", "phase": "commentary", "content": [{"type": "output_text", "text": "Hi",
                  "annotations": [], "logprobs": []}]})"));
}

}  // namespace
}  // namespace gptoss
