#include "server/openai_schema.h"

#include <gtest/gtest.h>

#include "server/errors.h"

namespace gptoss {
namespace {

using nlohmann::json;

json chat(json extra = json::object()) {
    json body = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
    body.update(extra);
    return body;
}

// Runs f, expects an ApiError with `status` naming `param`; returns it for further checks.
template <typename F>
ApiError expect_error(F f, int status, const std::string& param) {
    try {
        f();
    } catch (const ApiError& e) {
        EXPECT_EQ(e.status(), status) << e.what();
        EXPECT_EQ(e.param().value_or("<none>"), param) << e.what();
        return e;
    }
    ADD_FAILURE() << "no ApiError (expected param " << param << ")";
    return api_errors::internal("none");
}

TEST(ParseJsonBody, AcceptsObjectsOnly) {
    EXPECT_EQ(parse_json_body(R"({"a": 1})")["a"], 1);
    for (const char* bad : {"", "{", "[1,2]", "\"text\"", "nul", "{\"a\":}", "{} {}", "{\"a\": NaN}"}) {
        ApiError e = expect_error([&] { parse_json_body(bad); }, 400, "<none>");
        EXPECT_EQ(e.code().value_or(""), "invalid_json") << bad;
    }
}

TEST(ParseJsonBody, RejectsDeepNestingBeforeParsing) {
    std::string deep(100000, '[');
    ApiError e = expect_error([&] { parse_json_body("{\"a\":" + deep); }, 400, "<none>");
    EXPECT_NE(std::string(e.what()).find("nested deeper"), std::string::npos);
    // Brackets inside strings do not count.
    EXPECT_NO_THROW(parse_json_body("{\"a\": \"" + std::string(1000, '[') + "\"}"));
    EXPECT_NO_THROW(parse_json_body("{\"a\": \"\\\"" + std::string(1000, '{') + "\"}"));
}

TEST(ParseChat, DefaultsAndUnknownFieldsIgnored) {
    json body = chat({{"store", true}, {"metadata", {{"k", "v"}}}, {"service_tier", "auto"}});
    ChatCompletionRequest r = parse_chat_completion_request(body);
    EXPECT_EQ(r.params.model, "m");
    EXPECT_EQ(r.params.n, 1);
    EXPECT_FALSE(r.params.stream);
    EXPECT_FALSE(r.params.temperature);
    EXPECT_FALSE(r.params.max_tokens);
    EXPECT_FALSE(r.params.seed);
    EXPECT_TRUE(r.include_reasoning);
}

TEST(ParseChat, EveryParameter) {
    json body = chat({{"temperature", 0.5},
                      {"top_p", 0.9},
                      {"top_k", 40},
                      {"min_p", 0.05},
                      {"max_tokens", 10},
                      {"max_completion_tokens", 20},
                      {"stop", {"a", "b"}},
                      {"seed", 7},
                      {"n", 2},
                      {"logprobs", true},
                      {"top_logprobs", 3},
                      {"logit_bias", {{"15", -100}, {"200", 2.5}}},
                      {"presence_penalty", 0.5},
                      {"frequency_penalty", -0.5},
                      {"repetition_penalty", 1.1},
                      {"stream", true},
                      {"stream_options", {{"include_usage", true}}},
                      {"include_reasoning", false},
                      {"user", "u1"},
                      {"parallel_tool_calls", false},
                      {"reasoning_effort", "high"},
                      {"response_format", {{"type", "json_object"}}},
                      {"stop_token_ids", {5, 6}},
                      {"ignore_eos", true}});
    ChatCompletionRequest r = parse_chat_completion_request(body);
    EXPECT_DOUBLE_EQ(*r.params.temperature, 0.5);
    EXPECT_DOUBLE_EQ(*r.params.top_p, 0.9);
    EXPECT_EQ(*r.params.top_k, 40);
    EXPECT_DOUBLE_EQ(*r.params.min_p, 0.05);
    EXPECT_EQ(*r.params.max_tokens, 20);  // max_completion_tokens wins
    EXPECT_EQ(r.params.max_tokens_param, "max_completion_tokens");
    EXPECT_EQ(r.params.stop, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(*r.params.seed, 7u);
    EXPECT_EQ(r.params.n, 2);
    EXPECT_TRUE(r.logprobs);
    EXPECT_EQ(r.top_logprobs, 3);
    ASSERT_EQ(r.params.logit_bias.size(), 2u);
    EXPECT_EQ(r.params.logit_bias[0], (std::pair<int32_t, float>{15, -100.0f}));
    EXPECT_DOUBLE_EQ(r.params.presence_penalty, 0.5);
    EXPECT_DOUBLE_EQ(r.params.frequency_penalty, -0.5);
    EXPECT_DOUBLE_EQ(*r.params.repetition_penalty, 1.1);
    EXPECT_TRUE(r.params.stream);
    EXPECT_TRUE(r.params.include_usage);
    EXPECT_FALSE(r.include_reasoning);
    EXPECT_EQ(r.params.user, "u1");
    EXPECT_EQ(r.params.stop_token_ids, (std::vector<int32_t>{5, 6}));
    EXPECT_TRUE(r.params.ignore_eos);
}

TEST(ParseChat, StopAsStringAndNullMeansAbsent) {
    EXPECT_EQ(parse_chat_completion_request(chat({{"stop", "END"}})).params.stop,
              std::vector<std::string>{"END"});
    ChatCompletionRequest r = parse_chat_completion_request(
        chat({{"stop", nullptr}, {"temperature", nullptr}, {"tools", nullptr}, {"seed", nullptr}}));
    EXPECT_TRUE(r.params.stop.empty());
    EXPECT_FALSE(r.params.temperature);
    EXPECT_FALSE(r.params.seed);
}

TEST(ParseChat, IntegralDecimalsCountAsIntegersAndNegativeSeedsWrap) {
    ChatCompletionRequest r = parse_chat_completion_request(chat({{"n", 2.0}, {"seed", -1}, {"top_k", -1}}));
    EXPECT_EQ(r.params.n, 2);
    EXPECT_EQ(*r.params.seed, ~uint64_t{0});
    EXPECT_EQ(*r.params.top_k, 0);  // vLLM's -1: all tokens
}

TEST(ParseChat, WrongTypesNameTheParameter) {
    struct Case {
        json extra;
        std::string param;
    };
    std::vector<Case> cases = {
        {{{"temperature", "hot"}}, "temperature"},
        {{{"top_p", true}}, "top_p"},
        {{{"n", "2"}}, "n"},
        {{{"n", 1.5}}, "n"},
        {{{"max_tokens", "10"}}, "max_tokens"},
        {{{"max_completion_tokens", {1}}}, "max_completion_tokens"},
        {{{"stream", "yes"}}, "stream"},
        {{{"stream_options", "x"}}, "stream_options"},
        {{{"stream_options", {{"include_usage", 1}}}}, "stream_options.include_usage"},
        {{{"stop", 5}}, "stop"},
        {{{"stop", {"a", 1}}}, "stop[1]"},
        {{{"seed", 1.5}}, "seed"},
        {{{"seed", "1"}}, "seed"},
        {{{"logprobs", 1}}, "logprobs"},
        {{{"top_logprobs", "2"}}, "top_logprobs"},
        {{{"logit_bias", {1, 2}}}, "logit_bias"},
        {{{"logit_bias", {{"5", "x"}}}}, "logit_bias.5"},
        {{{"user", 5}}, "user"},
        {{{"model", 5}}, "model"},
        {{{"messages", "hi"}}, "messages"},
        {{{"messages", {"hi"}}}, "messages[0]"},
        {{{"messages", {{{"role", 1}}}}}, "messages[0].role"},
        {{{"messages", {{{"role", "user"}, {"content", 5}}}}}, "messages[0].content"},
        {{{"tools", {{"type", "function"}}}}, "tools"},
        {{{"tools", {5}}}, "tools[0]"},
        {{{"tool_choice", 5}}, "tool_choice"},
        {{{"parallel_tool_calls", "no"}}, "parallel_tool_calls"},
        {{{"reasoning_effort", 2}}, "reasoning_effort"},
        {{{"response_format", "json"}}, "response_format"},
        {{{"include_reasoning", "false"}}, "include_reasoning"},
        {{{"presence_penalty", "0"}}, "presence_penalty"},
        {{{"stop_token_ids", 5}}, "stop_token_ids"},
        {{{"stop_token_ids", {"5"}}}, "stop_token_ids[0]"},
    };
    for (const auto& c : cases) {
        ApiError e = expect_error([&] { parse_chat_completion_request(chat(c.extra)); }, 400, c.param);
        EXPECT_EQ(e.type(), "invalid_request_error");
    }
    ApiError e = expect_error(
        [&] {
            parse_chat_completion_request(chat({{"temperature", "hot"}}));
        },
        400, "temperature");
    EXPECT_EQ(e.code().value_or(""), "invalid_type");
    EXPECT_STREQ(e.what(), "Invalid type for 'temperature': expected a number, but got a string instead.");
}

TEST(ParseChat, OutOfRangeValues) {
    std::vector<std::pair<json, std::string>> cases = {
        {{{"temperature", 2.5}}, "temperature"},
        {{{"temperature", -0.1}}, "temperature"},
        {{{"top_p", 0}}, "top_p"},
        {{{"top_p", 1.5}}, "top_p"},
        {{{"n", 0}}, "n"},
        {{{"n", 129}}, "n"},
        {{{"max_tokens", 0}}, "max_tokens"},
        {{{"max_tokens", 1e12}}, "max_tokens"},
        {{{"max_tokens", 99999999999}}, "max_tokens"},
        {{{"top_logprobs", 21}}, "top_logprobs"},
        {{{"presence_penalty", 3}}, "presence_penalty"},
        {{{"frequency_penalty", -2.5}}, "frequency_penalty"},
        {{{"logit_bias", {{"5", 101}}}}, "logit_bias.5"},
        {{{"logit_bias", {{"x", 1}}}}, "logit_bias"},
        {{{"logit_bias", {{"-5", 1}}}}, "logit_bias"},
        {{{"min_p", 1.5}}, "min_p"},
        {{{"repetition_penalty", 0}}, "repetition_penalty"},
        {{{"stop", {""}}}, "stop"},
        {{{"top_k", -2}}, "top_k"},
        {{{"reasoning_effort", "extreme"}}, "reasoning_effort"},
        {{{"messages", json::array()}}, "messages"},
        {{{"response_format", {{"type", "xml"}}}}, "response_format.type"},
        {{{"stop_token_ids", {-1}}}, "stop_token_ids[0]"},
    };
    for (const auto& [extra, param] : cases) {
        expect_error([&] { parse_chat_completion_request(chat(extra)); }, 400, param);
    }
}

TEST(ParseChat, MissingMessagesAndRole) {
    json body = {{"model", "m"}};
    expect_error([&] { parse_chat_completion_request(body); }, 400, "messages");
    expect_error(
        [&] {
            parse_chat_completion_request(chat({{"messages", {{{"content", "x"}}}}}));
        },
        400, "messages[0].role");
}

TEST(ParseChat, TopLogprobsNeedsLogprobs) {
    expect_error([&] { parse_chat_completion_request(chat({{"top_logprobs", 2}})); }, 400, "top_logprobs");
    EXPECT_NO_THROW(parse_chat_completion_request(chat({{"top_logprobs", 0}})));
}

TEST(ParseChat, ToolChoiceMustMatchTools) {
    json tools = json::array({{{"type", "function"}, {"function", {{"name", "get_weather"}}}}});
    EXPECT_NO_THROW(parse_chat_completion_request(chat({{"tools", tools}, {"tool_choice", "required"}})));
    EXPECT_NO_THROW(parse_chat_completion_request(
        chat({{"tools", tools},
              {"tool_choice", {{"type", "function"}, {"function", {{"name", "get_weather"}}}}}})));
    expect_error(
        [&] {
            parse_chat_completion_request(chat({{"tool_choice", "required"}}));
        },
        400, "tool_choice");
    expect_error(
        [&] {
            parse_chat_completion_request(chat({{"tools", tools}, {"tool_choice", "sometimes"}}));
        },
        400, "tool_choice");
    expect_error(
        [&] {
            parse_chat_completion_request(
                chat({{"tools", tools},
                      {"tool_choice", {{"type", "function"}, {"function", {{"name", "other"}}}}}}));
        },
        400, "tool_choice");
    expect_error(
        [&] {
            parse_chat_completion_request(chat({{"tools", {{{"type", "function"}}}}}));
        },
        400, "tools[0].function");
    expect_error(
        [&] {
            parse_chat_completion_request(chat({{"tools", {{{"type", "web_search"}}}}}));
        },
        400, "tools[0].type");
}

TEST(ParseCompletion, PromptShapes) {
    auto prompts = [](json prompt) { return parse_completion_request({{"prompt", prompt}}).prompts; };
    auto one = prompts("hello");
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(std::get<std::string>(one[0]), "hello");
    auto ids = prompts({1, 2, 3});
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_EQ(std::get<std::vector<int32_t>>(ids[0]), (std::vector<int32_t>{1, 2, 3}));
    auto batch = prompts({"a", "b"});
    ASSERT_EQ(batch.size(), 2u);
    auto id_batch = prompts({{1, 2}, {3}});
    ASSERT_EQ(id_batch.size(), 2u);
    EXPECT_EQ(std::get<std::vector<int32_t>>(id_batch[1]), std::vector<int32_t>{3});
}

TEST(ParseCompletion, BadPrompts) {
    expect_error([] { parse_completion_request(json::object()); }, 400, "prompt");
    expect_error([] { parse_completion_request({{"prompt", ""}}); }, 400, "prompt");
    expect_error([] { parse_completion_request({{"prompt", json::array()}}); }, 400, "prompt");
    expect_error([] { parse_completion_request({{"prompt", 5}}); }, 400, "prompt");
    expect_error([] { parse_completion_request({{"prompt", {1, "a"}}}); }, 400, "prompt[1]");
    expect_error([] { parse_completion_request({{"prompt", {1, -3}}}); }, 400, "prompt[1]");
    expect_error([] { parse_completion_request({{"prompt", {"a", 3}}}); }, 400, "prompt[1]");
    expect_error([] { parse_completion_request({{"prompt", {{1}, {}}}}); }, 400, "prompt[1]");
    expect_error([] { parse_completion_request({{"prompt", "x"}, {"logprobs", true}}); }, 400, "logprobs");
    expect_error([] { parse_completion_request({{"prompt", "x"}, {"suffix", "y"}}); }, 400, "suffix");
}

TEST(ParseCompletion, Extensions) {
    CompletionRequest r = parse_completion_request(
        {{"prompt", "x"}, {"logprobs", 2}, {"echo", true}, {"return_token_ids", true}, {"best_of", 1}});
    EXPECT_EQ(*r.logprobs, 2);
    EXPECT_TRUE(r.echo);
    EXPECT_TRUE(r.return_token_ids);
}

TEST(ParseTokenize, PromptOrMessages) {
    TokenizeRequest t = parse_tokenize_request({{"prompt", "abc"}, {"return_token_strs", true}});
    EXPECT_EQ(*t.prompt, "abc");
    EXPECT_TRUE(t.return_token_strs);
    EXPECT_TRUE(parse_tokenize_request(chat()).chat);
    expect_error([] { parse_tokenize_request(json::object()); }, 400, "prompt");
    expect_error([] { parse_detokenize_request({{"tokens", "1"}}); }, 400, "tokens");
    expect_error([] { parse_detokenize_request({{"tokens", {1, 2.5}}}); }, 400, "tokens[1]");
    EXPECT_EQ(parse_detokenize_request({{"tokens", {1, 2}}}).tokens, (std::vector<int32_t>{1, 2}));
}

TEST(SamplingParams, RequestValuesWinThenGenerationConfigThenOpenAIDefaults) {
    GenerationConfig defaults;
    defaults.temperature = 0.7;
    defaults.top_p = 0.8;
    defaults.top_k = 20;
    GenerationParams params;
    SamplingParams s = make_sampling_params(params, defaults, 42, true, 3);
    EXPECT_FLOAT_EQ(s.temperature, 0.7f);
    EXPECT_FLOAT_EQ(s.top_p, 0.8f);
    EXPECT_EQ(s.top_k, 20);
    EXPECT_FLOAT_EQ(s.min_p, 0.0f);
    EXPECT_FLOAT_EQ(s.repetition_penalty, 1.0f);
    EXPECT_EQ(s.seed, 42u);
    EXPECT_TRUE(s.logprobs);
    EXPECT_EQ(s.top_logprobs, 3);

    params.temperature = 0.0;
    params.top_p = 0.5;
    params.frequency_penalty = 1.0;
    s = make_sampling_params(params, defaults, 1, false, 0);
    EXPECT_FLOAT_EQ(s.temperature, 0.0f);
    EXPECT_FLOAT_EQ(s.top_p, 0.5f);
    EXPECT_FLOAT_EQ(s.frequency_penalty, 1.0f);

    GenerationConfig none;
    EXPECT_FLOAT_EQ(make_sampling_params({}, none, 1, false, 0).temperature, 1.0f);
    none.do_sample = false;  // greedy checkpoints
    EXPECT_FLOAT_EQ(make_sampling_params({}, none, 1, false, 0).temperature, 0.0f);
}

}  // namespace
}  // namespace gptoss
