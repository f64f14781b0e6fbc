// Responses request -> chat body (server/responses_mapping.cpp): item translation, the renderings it must
// share with the chat route, and the 400s that name the Responses parameter.
#include <gtest/gtest.h>

#include "server/chat_mapping.h"
#include "server/errors.h"
#include "server/responses_mapping.h"
#include "tests/server/chat_test_support.h"

namespace gptoss {
namespace {

using Json = nlohmann::ordered_json;
using testing::toy_tokenizer;

ResponsesRequest parse(const char* text) {
    return parse_responses_request(Json::parse(text));
}

Json chat_body(const ResponsesRequest& request) {
    return chat_body_for_responses(request, request.input);
}

// The ApiError param a body is rejected with.
std::string rejected_param(const char* text) {
    try {
        ResponsesRequest request = parse(text);
        (void)chat_body(request);
    } catch (const ApiError& e) {
        EXPECT_EQ(e.status(), 400);
        return e.param().value_or("(none)");
    }
    return "(accepted)";
}

TEST(ResponsesMapping, StringInputIsOneUserMessageAfterTheInstructions) {
    Json body = chat_body(parse(R"({"input": "Hi", "instructions": "Be brief."})"));
    EXPECT_EQ(body["messages"], Json::parse(R"([{"role": "system", "content": "Be brief."},
                                                {"role": "user", "content": "Hi"}])"));
    EXPECT_EQ(body["tool_choice"], "auto");
    EXPECT_FALSE(body.contains("response_format"));
}

TEST(ResponsesMapping, AToolLoopBecomesOneAssistantMessageWithReasoningPreambleAndCalls) {
    Json body = chat_body(parse(R"({"input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Time?"}]},
        {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "Call it."}]},
        {"type": "message", "role": "assistant", "phase": "commentary",
         "content": [{"type": "output_text", "text": "Checking."}]},
        {"type": "function_call", "call_id": "c1", "name": "get_time", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": [{"type": "input_text", "text": "12:00"}]}]})"));
    EXPECT_EQ(body["messages"], Json::parse(R"([
        {"role": "user", "content": "Time?"},
        {"role": "assistant", "content": "Checking.", "reasoning_content": "Call it.",
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "12:00"}])"));
}

TEST(ResponsesMapping, ReasoningIsReadFromContentThenEncryptedContentThenSummary) {
    for (const char* item :
         {R"({"type": "reasoning", "content": [{"type": "reasoning_text", "text": "R"}]})",
          R"({"type": "reasoning", "summary": [], "encrypted_content": "R"})",
          R"({"type": "reasoning", "summary": [{"type": "summary_text", "text": "R"}]})"}) {
        Json normalized = normalize_input_item(Json::parse(item), "input[0]");
        EXPECT_EQ(normalized["content"][0]["text"], "R") << item;
    }
}

TEST(ResponsesMapping, ToolsToolChoiceEffortAndTextFormatInChatTerms) {
    Json body = chat_body(parse(R"({"input": "x",
        "tools": [{"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"},
                   "strict": true}],
        "tool_choice": {"type": "function", "name": "f"}, "reasoning": {"effort": "high"},
        "text": {"format": {"type": "json_schema", "name": "s", "schema": {"type": "object"}, "strict": true}}})"));
    EXPECT_EQ(body["tools"],
              Json::parse(R"([{"type": "function", "function": {"name": "f", "description": "d",
                                                "parameters": {"type": "object"}, "strict": true}}])"));
    EXPECT_EQ(body["tool_choice"], Json::parse(R"({"type": "function", "function": {"name": "f"}})"));
    EXPECT_EQ(body["reasoning_effort"], "high");
    EXPECT_EQ(body["response_format"], Json::parse(R"({"type": "json_schema",
        "json_schema": {"name": "s", "schema": {"type": "object"}, "strict": true}})"));
    EXPECT_EQ(
        chat_body(parse(R"({"input": "x", "text": {"format": {"type": "json_object"}}})"))["response_format"],
        Json::parse(R"({"type": "json_object"})"));
}

TEST(ResponsesMapping, RendersTheSamePromptAsTheEquivalentChatRequest) {
    ChatMappingOptions options;
    Json responses = chat_body(parse(R"({"instructions": "Be brief.", "input": [
        {"role": "user", "content": "Time?"},
        {"type": "function_call", "call_id": "c1", "name": "get_time", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "12:00"}],
        "tools": [{"type": "function", "name": "get_time"}]})"));
    Json chat = Json::parse(R"({"messages": [{"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Time?"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "get_time", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "12:00"}],
        "tools": [{"type": "function", "function": {"name": "get_time"}}]})");
    EXPECT_EQ(build_chat_prompt(responses, *toy_tokenizer(), options).token_ids,
              build_chat_prompt(chat, *toy_tokenizer(), options).token_ids);
}

TEST(ResponsesMapping, BadInputIsRejectedNamingTheResponsesParameter) {
    EXPECT_EQ(rejected_param(R"({})"), "input");
    EXPECT_EQ(rejected_param(R"({"input": 3})"), "input");
    EXPECT_EQ(rejected_param(R"({"input": [{"type": "item_reference", "id": "x"}]})"), "input[0].type");
    EXPECT_EQ(rejected_param(R"({"input": [{"foo": 1}]})"), "input[0].type");
    EXPECT_EQ(rejected_param(R"({"input": [{"role": "robot", "content": "x"}]})"), "input[0].role");
    EXPECT_EQ(rejected_param(R"({"input": [{"role": "user", "content": [{"type": "input_image"}]}]})"),
              "input[0].content[0].type");
    EXPECT_EQ(
        rejected_param(R"({"input": [{"type": "function_call_output", "call_id": "c9", "output": "x"}]})"),
        "input[0].call_id");
    EXPECT_EQ(rejected_param(R"({"input": [{"type": "function_call", "name": "f"}]})"), "input[0].call_id");
    EXPECT_EQ(rejected_param(R"({"input": "x", "tools": [{"type": "web_search"}]})"), "tools[0].type");
    EXPECT_EQ(rejected_param(R"({"input": "x", "tools": [{"type": "function", "name": "a b"}]})"),
              "tools[0].name");
    EXPECT_EQ(rejected_param(R"({"input": "x", "tool_choice": "required"})"), "tool_choice");
    EXPECT_EQ(rejected_param(R"({"input": "x", "tool_choice": {"type": "function", "name": "g"}})"),
              "tool_choice.name");
    EXPECT_EQ(rejected_param(R"({"input": "x", "reasoning": {"effort": "minimal"}})"), "reasoning.effort");
    EXPECT_EQ(rejected_param(R"({"input": "x", "text": {"format": {"type": "json_schema", "name": "s"}}})"),
              "text.format.schema");
    EXPECT_EQ(rejected_param(R"({"input": "x", "include": ["file_search_call.results"]})"), "include[0]");
    EXPECT_EQ(rejected_param(R"({"input": "x", "truncation": "middle"})"), "truncation");
    EXPECT_EQ(rejected_param(R"({"input": "x", "background": true})"), "background");
    EXPECT_EQ(rejected_param(R"({"input": "x", "max_output_tokens": 0})"), "max_output_tokens");
    EXPECT_EQ(rejected_param(R"({"input": "x", "metadata": {"k": 1}})"), "metadata.k");
}

TEST(ResponsesMapping, ScalarsAreRead) {
    ResponsesRequest r = parse(R"({"input": "x", "model": "m", "stream": true, "temperature": 0.5,
        "top_p": 0.9, "max_output_tokens": 7, "store": false, "user": "u", "previous_response_id": "resp_1",
        "include": ["reasoning.encrypted_content"], "truncation": "auto", "parallel_tool_calls": false})");
    EXPECT_EQ(r.params.model, "m");
    EXPECT_TRUE(r.params.stream);
    EXPECT_EQ(r.params.temperature, 0.5);
    EXPECT_EQ(r.params.max_tokens, 7);
    EXPECT_EQ(r.params.max_tokens_param, "max_output_tokens");
    EXPECT_FALSE(r.store);
    EXPECT_EQ(r.previous_response_id, "resp_1");
    EXPECT_TRUE(r.encrypted_reasoning);
    EXPECT_TRUE(r.truncation_auto);
    EXPECT_FALSE(r.parallel_tool_calls);
    EXPECT_TRUE(parse(R"({"input": "x"})").store) << "store defaults to true, as OpenAI's";
}

TEST(ResponsesMapping, DropOldestTurnCutsAtTheSecondUserMessage) {
    ResponsesRequest r = parse(R"({"input": [{"role": "user", "content": "a"},
        {"type": "message", "role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]})");
    std::vector<Json> conversation = r.input;
    ASSERT_TRUE(drop_oldest_turn(conversation));
    ASSERT_EQ(conversation.size(), 1u);
    EXPECT_EQ(conversation[0]["content"][0]["text"], "c");
    EXPECT_FALSE(drop_oldest_turn(conversation));
}

}  // namespace
}  // namespace gptoss
