// Generated tokens -> OpenAI message and deltas (server/chat_output_assembler.cpp): the toy's golden greedy
// outputs against the expected answers of toy-harmony-requests.json, then each routing rule.
#include <cctype>

#include <gtest/gtest.h>

#include "server/chat_mapping.h"
#include "tests/server/chat_test_support.h"
#include "tests/support/fixture.h"

namespace gptoss {
namespace {

using testing::toy_tokenizer;
using Json = nlohmann::ordered_json;

std::vector<int32_t> encode(const std::string& text) {
    return toy_tokenizer()->encode(text, SpecialTokenPolicy::all());
}

// Everything the deltas of one run carried, put back together the way a streaming client does.
struct StreamedReply {
    std::string content;
    std::string reasoning;
    std::vector<ChatDelta::ToolCall> calls;  // merged per index: id and name of the first delta

    void add(const ChatDelta& delta) {
        content += delta.content;
        reasoning += delta.reasoning;
        for (const auto& call : delta.tool_calls) {
            if (call.index == static_cast<int>(calls.size())) {
                ASSERT_TRUE(call.id.has_value()) << "the first delta of a call carries its id";
                ASSERT_TRUE(call.name.has_value()) << "the first delta of a call carries its name";
                calls.push_back(call);
                continue;
            }
            ASSERT_LT(call.index, static_cast<int>(calls.size()));
            EXPECT_FALSE(call.id.has_value()) << "only the first delta of a call carries its id";
            calls[static_cast<size_t>(call.index)].arguments += call.arguments;
        }
    }
};

struct AssembledReply {
    nlohmann::json message;
    std::string finish_reason;
    StreamedReply streamed;
    std::vector<std::string> warnings;
    int num_reasoning_tokens = 0;
};

// The tools these tests' replies call, as build_chat_prompt lists them when a request offers them.
ChatPrompt offering_tools() {
    ChatPrompt prompt;
    prompt.tool_names = {"get_weather", "get_time", "f", "a", "b"};
    return prompt;
}

AssembledReply run(const std::vector<int32_t>& output, const ChatPrompt& prompt = offering_tools(),
                   FinishReason engine_reason = FinishReason::kStop, size_t stop_trim_bytes = 0) {
    ChatOutputAssembler assembler(toy_tokenizer(), prompt);
    AssembledReply result;
    for (int32_t token : output) result.streamed.add(assembler.push(token));
    result.streamed.add(assembler.finish(stop_trim_bytes));
    result.message = assembler.message();
    result.finish_reason = assembler.finish_reason(engine_reason);
    result.warnings = assembler.warnings();
    result.num_reasoning_tokens = assembler.num_reasoning_tokens();
    return result;
}

// The streamed deltas must add up to exactly the non-streaming message.
void expect_stream_matches_message(const AssembledReply& r) {
    EXPECT_EQ(r.message["content"].is_null() ? "" : r.message["content"].get<std::string>(),
              r.streamed.content);
    EXPECT_EQ(
        r.message["reasoning_content"].is_null() ? "" : r.message["reasoning_content"].get<std::string>(),
        r.streamed.reasoning);
    const size_t num_calls = r.message.contains("tool_calls") ? r.message["tool_calls"].size() : 0;
    ASSERT_EQ(num_calls, r.streamed.calls.size());
    for (size_t i = 0; i < num_calls; ++i) {
        const auto& call = r.message["tool_calls"][i];
        EXPECT_EQ(call["id"], *r.streamed.calls[i].id);
        EXPECT_EQ(call["function"]["name"], *r.streamed.calls[i].name);
        EXPECT_EQ(call["function"]["arguments"], r.streamed.calls[i].arguments);
    }
}

TEST(ChatOutputAssemblerToyGolden, GreedyOutputsGiveTheExpectedAnswers) {
    const Json requests =
        testing::read_ordered_json_file(testing::shared_dir() / "fixtures" / "toy-harmony-requests.json");
    const nlohmann::json golden = testing::read_json(testing::toy_harmony_dir() / "golden.json");
    for (const Json& test_case : requests.at("cases")) {
        const int index = test_case.at("case").get<int>();
        SCOPED_TRACE("case " + std::to_string(index));
        const ChatPrompt prompt = build_chat_prompt(test_case.at("request"), *toy_tokenizer(),
                                                    testing::toy_case_options(test_case.at("request")));
        const auto greedy = golden.at("cases").at(index).at("greedy_ids").get<std::vector<int32_t>>();
        const AssembledReply r = run(greedy, prompt);
        const Json& expected = test_case.at("expected");
        EXPECT_EQ(r.finish_reason, expected.at("finish_reason").get<std::string>());
        EXPECT_EQ(r.message["reasoning_content"], expected.at("reasoning").get<std::string>());
        EXPECT_EQ(r.message["reasoning"], expected.at("reasoning").get<std::string>());
        if (expected.contains("content")) {
            EXPECT_EQ(r.message["content"], expected["content"].get<std::string>());
            EXPECT_FALSE(r.message.contains("tool_calls"));
        }
        if (expected.contains("tool_call")) {
            EXPECT_TRUE(r.message["content"].is_null());
            ASSERT_EQ(r.message["tool_calls"].size(), 1u);
            const auto& call = r.message["tool_calls"][0];
            EXPECT_EQ(call["type"], "function");
            EXPECT_EQ(call["function"]["name"], expected["tool_call"]["name"].get<std::string>());
            EXPECT_EQ(call["function"]["arguments"], expected["tool_call"]["arguments"].get<std::string>());
        }
        EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
        EXPECT_GT(r.num_reasoning_tokens, 0);
        expect_stream_matches_message(r);
    }
}

TEST(ChatOutputAssembler, AnalysisIsReasoningFinalIsContent) {
    const AssembledReply r =
        run(encode("<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>"
                   "Answer.<|return|>"));
    EXPECT_EQ(r.message["role"], "assistant");
    EXPECT_EQ(r.message["reasoning_content"], "Think.");
    EXPECT_EQ(r.message["reasoning"], "Think.");
    EXPECT_EQ(r.message["content"], "Answer.");
    EXPECT_FALSE(r.message.contains("tool_calls"));
    EXPECT_EQ(r.finish_reason, "stop");
    expect_stream_matches_message(r);
}

TEST(ChatOutputAssembler, IncludeReasoningFalseOmitsBothFields) {
    ChatOutputAssembler assembler(toy_tokenizer(), ChatPrompt{});
    for (int32_t id : encode("<|channel|>analysis<|message|>Think.<|end|>")) assembler.push(id);
    assembler.finish();
    EXPECT_FALSE(assembler.message(false).contains("reasoning_content"));
    EXPECT_FALSE(assembler.message(false).contains("reasoning"));
    EXPECT_TRUE(assembler.message(false)["content"].is_null());
}

TEST(ChatOutputAssembler, PreamblesAreContentAndCallsAreToolCalls) {
    const AssembledReply r = run(encode(
        "<|channel|>analysis<|message|>Plan.<|end|><|start|>assistant<|channel|>commentary<|message|>"
        "Checking the weather."
        "<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
        "{\"city\": \"Oslo\"}<|call|>"));
    EXPECT_EQ(r.message["content"], "Checking the weather.");
    EXPECT_EQ(r.message["reasoning_content"], "Plan.");
    ASSERT_EQ(r.message["tool_calls"].size(), 1u);
    const auto& call = r.message["tool_calls"][0];
    EXPECT_EQ(call["function"]["name"], "get_weather");
    EXPECT_EQ(call["function"]["arguments"], "{\"city\": \"Oslo\"}");
    const std::string id = call["id"];
    ASSERT_TRUE(id.starts_with("call_"));
    EXPECT_GT(id.size(), 5u + 16u);
    for (char c : id.substr(5)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << id;
    EXPECT_EQ(r.finish_reason, "tool_calls");
    expect_stream_matches_message(r);
}

TEST(ChatOutputAssembler, SeveralPreamblesAndAnalysesBeforeACall) {
    // Servers that expect exactly "reasoning + final" break here; every message must land on its route.
    const AssembledReply r = run(encode(
        "<|channel|>analysis<|message|>a1<|end|><|start|>assistant<|channel|>commentary<|message|>p1<|end|>"
        "<|start|>assistant<|channel|>analysis<|message|>a2<|end|><|start|>assistant<|channel|>commentary<|"
        "message|>p2"
        "<|end|><|start|>assistant<|channel|>commentary to=functions.f "
        "<|constrain|>json<|message|>{}<|call|>"));
    EXPECT_EQ(r.message["reasoning_content"], "a1\na2");
    EXPECT_EQ(r.message["content"], "p1\np2");
    ASSERT_EQ(r.message["tool_calls"].size(), 1u);
    EXPECT_EQ(r.finish_reason, "tool_calls");
    EXPECT_TRUE(r.warnings.empty());
    expect_stream_matches_message(r);
}

TEST(ChatOutputAssembler, RecipientBeforeTheChannelAndAdjacentConstrain) {
    const AssembledReply r =
        run(encode("<|channel|>analysis<|message|>x<|end|><|start|>assistant to=functions.f<|channel|>"
                   "commentary<|constrain|>json<|message|>{}<|call|>"));
    ASSERT_EQ(r.message["tool_calls"].size(), 1u);
    EXPECT_EQ(r.message["tool_calls"][0]["function"]["name"], "f");
    EXPECT_EQ(r.finish_reason, "tool_calls");
}

TEST(ChatOutputAssembler, ToolCallArgumentsStreamWithIndexAndIdOnTheFirstDelta) {
    ChatOutputAssembler assembler(toy_tokenizer(), offering_tools());
    std::vector<ChatDelta> deltas;
    for (int32_t id :
         encode("<|channel|>commentary to=functions.a <|constrain|>json<|message|>{\"k\": 1}<|end|>"
                "<|start|>assistant<|channel|>commentary to=functions.b "
                "<|constrain|>json<|message|>{}<|call|>")) {
        ChatDelta delta = assembler.push(id);
        if (!delta.empty()) deltas.push_back(std::move(delta));
    }
    ASSERT_GE(deltas.size(), 3u);
    ASSERT_EQ(deltas[0].tool_calls.size(), 1u);
    EXPECT_EQ(deltas[0].tool_calls[0].index, 0);
    EXPECT_EQ(deltas[0].tool_calls[0].name, "a");
    EXPECT_TRUE(deltas[0].tool_calls[0].id.has_value());
    EXPECT_EQ(deltas[0].tool_calls[0].arguments, "");
    EXPECT_FALSE(deltas[1].tool_calls.at(0).id.has_value());
    EXPECT_EQ(deltas[1].tool_calls[0].index, 0);
    const ChatDelta& second = deltas[deltas.size() - 2];
    ASSERT_EQ(second.tool_calls.size(), 1u);
    EXPECT_EQ(second.tool_calls[0].index, 1);
    EXPECT_EQ(second.tool_calls[0].name, "b");
    EXPECT_NE(assembler.message()["tool_calls"][0]["id"], assembler.message()["tool_calls"][1]["id"]);
}

TEST(ChatOutputAssembler, ACallToAToolNeverOfferedIsReasoningNotAToolCall) {
    // A garbled name ("get" for get_weather) must not reach the client as a call it cannot dispatch.
    const AssembledReply r =
        run(encode("<|channel|>commentary to=functions.get <|constrain|>json<|message|>{}<|call|>"));
    EXPECT_FALSE(r.message.contains("tool_calls") && !r.message["tool_calls"].is_null()) << r.message;
    EXPECT_EQ(r.message["reasoning_content"], "{}");
    EXPECT_EQ(r.finish_reason, "stop");
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_NE(r.warnings[0].find("did not offer"), std::string::npos);
}

TEST(ChatOutputAssembler, ConstrainedFinalIsContentNotAToolCall) {
    const AssembledReply r = run(encode("<|channel|>final <|constrain|>json<|message|>{\"a\": 1}<|return|>"));
    EXPECT_EQ(r.message["content"], "{\"a\": 1}");
    EXPECT_FALSE(r.message.contains("tool_calls"));
    EXPECT_EQ(r.finish_reason, "stop");
}

TEST(ChatOutputAssembler, BareRecipientOfARenderedToolIsACall) {
    ChatPrompt prompt;
    prompt.tool_names = {"get_weather"};
    const AssembledReply r =
        run(encode("<|channel|>commentary to=get_weather json<|message|>{}<|call|>"), prompt);
    ASSERT_EQ(r.message["tool_calls"].size(), 1u);
    EXPECT_EQ(r.message["tool_calls"][0]["function"]["name"], "get_weather");
    EXPECT_FALSE(r.warnings.empty());
}

TEST(ChatOutputAssembler, ACallWhenNoToolsAreAllowedIsNotAToolCall) {
    ChatPrompt prompt;  // what build_chat_prompt makes for tool_choice "none"
    prompt.tool_calls_allowed = false;
    const AssembledReply r =
        run(encode("<|channel|>analysis<|message|>call it<|end|><|start|>assistant<|channel|>commentary "
                   "to=functions.get_time <|constrain|>json<|message|>{\"city\": \"Oslo\"}<|call|>"),
            prompt);
    EXPECT_FALSE(r.message.contains("tool_calls"));
    EXPECT_EQ(r.finish_reason, "stop");
    EXPECT_EQ(r.message["reasoning_content"], "call it\n{\"city\": \"Oslo\"}");
    EXPECT_TRUE(r.message["content"].is_null());
    EXPECT_FALSE(r.warnings.empty());
    expect_stream_matches_message(r);
}

TEST(ChatOutputAssembler, BuiltInToolCallsStayInReasoning) {
    const AssembledReply r =
        run(encode("<|channel|>analysis to=browser.search code<|message|>{\"query\": \"x\"}<|call|>"));
    EXPECT_FALSE(r.message.contains("tool_calls"));
    EXPECT_EQ(r.message["reasoning_content"], "{\"query\": \"x\"}");
    EXPECT_TRUE(r.message["content"].is_null());
    EXPECT_FALSE(r.warnings.empty());
}

TEST(ChatOutputAssembler, SeveralMessagesOnARouteAreJoinedByANewline) {
    const AssembledReply r = run(
        encode("<|channel|>analysis<|message|>one<|end|><|start|>assistant<|channel|>analysis<|message|>two"
               "<|end|><|start|>assistant<|channel|>commentary<|message|>pre<|end|><|start|>assistant"
               "<|channel|>final<|message|>ans<|return|>"));
    EXPECT_EQ(r.message["reasoning_content"], "one\ntwo");
    EXPECT_EQ(r.message["content"], "pre\nans");
    expect_stream_matches_message(r);
}

TEST(ChatOutputAssembler, MalformedOutputDegradesToContentWithAWarning) {
    for (const std::string& text :
         {std::string("I must refuse<|end|>"), std::string("<|channel|><|message|>x"),
          std::string("<|start|>robot<|message|>x<|end|>junk"),
          std::string("<|channel|>final extra<|message|>x<|end|><|end|><|message|>y")}) {
        SCOPED_TRACE(text);
        AssembledReply r;
        ASSERT_NO_THROW(r = run(encode(text)));
        EXPECT_FALSE(r.message["content"].is_null());
        EXPECT_FALSE(r.warnings.empty());
        expect_stream_matches_message(r);
    }
}

TEST(ChatOutputAssembler, NoRawHarmonyMarkersLeakIntoContent) {
    const AssembledReply r =
        run(encode("<|channel|>analysis<|message|>secret plan<|start|>assistant<|channel|>final<|message|>"
                   "visible<|return|>"));
    EXPECT_EQ(r.message["content"], "visible");
    EXPECT_EQ(r.message["reasoning_content"], "secret plan");
}

TEST(ChatOutputAssembler, FinishReasonLength) {
    const AssembledReply r =
        run(encode("<|channel|>analysis<|message|>long thou"), ChatPrompt{}, FinishReason::kLength);
    EXPECT_EQ(r.finish_reason, "length");
    EXPECT_EQ(r.message["reasoning_content"], "long thou");
    const AssembledReply call =
        run(encode("<|channel|>commentary to=functions.f <|constrain|>json<|message|>{\"a\""),
            offering_tools(), FinishReason::kLength);
    EXPECT_EQ(call.finish_reason, "length");
    EXPECT_EQ(call.message["tool_calls"][0]["function"]["arguments"], "{\"a\"");
}

TEST(ChatOutputAssembler, StopStringBytesAreTrimmedFromTheLastDelta) {
    // The engine matched the stop string "STOP" (and released " STOP" with the final event).
    ChatOutputAssembler assembler(toy_tokenizer(), ChatPrompt{});
    StreamedReply streamed;
    for (int32_t id : encode("<|channel|>final<|message|>Hello")) streamed.add(assembler.push(id));
    TokenEvent last;
    last.token_ids = toy_tokenizer()->encode_ordinary(" there STOP");
    last.finished = true;
    last.finish_reason = FinishReason::kStop;
    last.stop_string = "STOP";
    last.stop_trim_bytes = 5;  // " STOP" lies at or after the match
    streamed.add(assembler.push_event(last));
    EXPECT_EQ(assembler.message()["content"], "Hello there");
    EXPECT_EQ(streamed.content, "Hello there");
}

TEST(ChatOutputAssembler, FinishTrimsTheMessageOnly) {
    ChatOutputAssembler assembler(toy_tokenizer(), ChatPrompt{});
    for (int32_t id :
         encode("<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>final<|message|>ab")) {
        assembler.push(id);
    }
    assembler.finish(10);  // more than the last message holds: never reaches into the reasoning
    EXPECT_TRUE(assembler.message()["content"].is_null());
    EXPECT_EQ(assembler.message()["reasoning_content"], "a");
}

TEST(ChatOutputAssembler, MultiByteCharactersSplitAcrossTokensStreamWhole) {
    const AssembledReply r =
        run(std::vector<int32_t>{200005, 17196, 200008, 31446, 244, 200002});  // final: "💖"
    EXPECT_EQ(r.message["content"], "💖");
    expect_stream_matches_message(r);
}

}  // namespace
}  // namespace gptoss
