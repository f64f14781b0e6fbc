// The generation routes in process: HttpServer + the real Engine + the scripted runner (tests/server/
// scripted_runner.h) + the toy checkpoint's tokenizer, over real HTTP. Covers chat and text completions,
// SSE framing on the wire, n > 1, client disconnect -> engine abort, and draining with a stream in flight.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "config/generation_config.h"
#include "config/model_config.h"
#include "engine/engine.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "tests/server/scripted_runner.h"
#include "tests/support/fixture.h"
#include "tokenizer/tokenizer.h"

namespace gptoss {
namespace {

using nlohmann::json;

const std::map<std::string, std::string> kScripts = {
    {"default", "<|channel|>final<|message|>OK<|return|>"},
    {"reasoned",
     "<|channel|>analysis<|message|>Thinking about "
     "it.<|end|><|start|>assistant<|channel|>final<|message|>Done."
     "<|return|>"},
    {"call",
     "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"location\": "
     "\"Paris\"}<|call|>"},
    {"endless", "<|channel|>final<|message|>and on"},  // then filler tokens until max_tokens
};

// The tool the "call" script calls.
json weather_tool() {
    json parameters = {{"type", "object"}, {"properties", {{"location", {{"type", "string"}}}}}};
    return {{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", parameters}}}};
}

class GenerationRoutesTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto dir = testing::toy_harmony_dir();
        tokenizer_ = Tokenizer::from_file(dir);
        ModelConfig config = ModelConfig::from_file(dir);
        EngineConfig engine_config;
        engine_config.kv_cache_memory_bytes = int64_t{16} << 20;
        engine_config.max_model_len = 2048;
        engine_config.max_num_seqs = 16;
        engine_ = std::make_shared<Engine>(engine_config, make_scripted_runner(config, tokenizer_, kScripts),
                                           tokenizer_);
        HttpServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        options.model_names = {"toy"};
        options.num_threads = 8;
        options.harmony_current_date = "2025-01-02";
        options.keep_alive_interval = std::chrono::milliseconds(100);
        server_ = std::make_unique<HttpServer>(options);
        port_ = server_->start();
        ServingModel model;
        model.engine = engine_;
        model.tokenizer = tokenizer_;
        model.generation_config = GenerationConfig::from_model_dir(dir);
        model.eos_token_ids = {200002, 199999, 200012};
        model.backend = "scripted";
        server_->set_model(std::move(model));
    }
    static void TearDownTestSuite() {
        server_.reset();
        engine_.reset();
    }

    static json chat(const std::string& script, json extra = json::object()) {
        json body = {{"model", "toy"},
                     {"messages", {{{"role", "user"}, {"content", "[[script:" + script + "]] go"}}}}};
        body.update(extra);
        return body;
    }
    static httplib::Result post(const std::string& path, const json& body) {
        httplib::Client client("127.0.0.1", port_);
        client.set_read_timeout(30, 0);
        return client.Post(path.c_str(), body.dump(), "application/json");
    }
    // The SSE events of a response body: JSON objects, and "[DONE]" as a string.
    static std::vector<json> events_of(const std::string& body) {
        std::vector<json> events;
        size_t at = 0;
        while (at < body.size()) {
            size_t end = body.find("\n\n", at);
            EXPECT_NE(end, std::string::npos) << "unterminated event: " << body.substr(at);
            if (end == std::string::npos) break;
            std::string event = body.substr(at, end - at);
            at = end + 2;
            if (event.rfind(": ", 0) == 0) continue;  // keep-alive comment
            EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
            std::string data = event.substr(6);
            events.push_back(data == "[DONE]" ? json(data) : json::parse(data));
        }
        return events;
    }

    static std::shared_ptr<const Tokenizer> tokenizer_;
    static std::shared_ptr<Engine> engine_;
    static std::unique_ptr<HttpServer> server_;
    static int port_;
};

std::shared_ptr<const Tokenizer> GenerationRoutesTest::tokenizer_;
std::shared_ptr<Engine> GenerationRoutesTest::engine_;
std::unique_ptr<HttpServer> GenerationRoutesTest::server_;
int GenerationRoutesTest::port_ = 0;

TEST_F(GenerationRoutesTest, ChatMessage) {
    auto r = post("/v1/chat/completions", chat("reasoned"));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json body = json::parse(r->body);
    EXPECT_EQ(body["object"], "chat.completion");
    EXPECT_EQ(body["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
    const json& choice = body["choices"][0];
    EXPECT_EQ(choice["message"]["content"], "Done.");
    EXPECT_EQ(choice["message"]["reasoning"], "Thinking about it.");
    EXPECT_EQ(choice["message"]["reasoning_content"], "Thinking about it.");
    EXPECT_EQ(choice["finish_reason"], "stop");
    EXPECT_EQ(choice["stop_reason"], 200002);
    size_t script_tokens = tokenizer_->encode(kScripts.at("reasoned"), SpecialTokenPolicy::all()).size();
    EXPECT_EQ(body["usage"]["completion_tokens"], script_tokens);
    auto tokenized = post("/tokenize", chat("reasoned"));
    EXPECT_EQ(body["usage"]["prompt_tokens"], json::parse(tokenized->body)["count"]);
}

TEST_F(GenerationRoutesTest, ChatStreamOnTheWire) {
    auto r = post("/v1/chat/completions", chat("call", {{"stream", true},
                                                        {"stream_options", {{"include_usage", true}}},
                                                        {"tools", {weather_tool()}}}));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
    EXPECT_TRUE(r->get_header_value("Content-Encoding").empty());
    std::vector<json> events = events_of(r->body);
    ASSERT_GE(events.size(), 5u);
    EXPECT_EQ(events.back(), "[DONE]");
    EXPECT_EQ(events.front()["choices"][0]["delta"], json({{"role", "assistant"}, {"content", ""}}));
    std::string name, arguments;
    std::string finish;
    for (size_t i = 0; i + 1 < events.size(); ++i) {
        const json& e = events[i];
        EXPECT_EQ(e["object"], "chat.completion.chunk");
        EXPECT_EQ(e["id"], events.front()["id"]);
        EXPECT_TRUE(e.contains("usage"));  // null until the last chunk, as include_usage asks
        for (const auto& c : e["choices"]) {
            for (const auto& call : c["delta"].value("tool_calls", json::array())) {
                EXPECT_EQ(call["index"], 0);
                name += call["function"].value("name", "");
                arguments += call["function"].value("arguments", "");
            }
            if (!c["finish_reason"].is_null()) finish = c["finish_reason"];
        }
    }
    EXPECT_EQ(name, "get_weather");
    EXPECT_EQ(arguments, "{\"location\": \"Paris\"}");
    EXPECT_EQ(finish, "tool_calls");
    const json& usage_chunk = events[events.size() - 2];
    EXPECT_TRUE(usage_chunk["choices"].empty());
    EXPECT_GT(usage_chunk["usage"]["completion_tokens"].get<int>(), 5);
}

TEST_F(GenerationRoutesTest, ACallWithoutOfferedToolsIsNoToolCall) {
    for (const json& extra : {json::object(), json{{"tools", {weather_tool()}}, {"tool_choice", "none"}}}) {
        auto r = post("/v1/chat/completions", chat("call", extra));
        ASSERT_EQ(r->status, 200) << r->body;
        const json choice = json::parse(r->body)["choices"][0];
        EXPECT_FALSE(choice["message"].contains("tool_calls")) << choice;
        EXPECT_EQ(choice["finish_reason"], "stop");
    }
}

TEST_F(GenerationRoutesTest, ChoicesAreIndependentRequests) {
    auto r =
        post("/v1/chat/completions", chat("reasoned", {{"n", 3}, {"logprobs", true}, {"top_logprobs", 2}}));
    ASSERT_EQ(r->status, 200) << r->body;
    json body = json::parse(r->body);
    ASSERT_EQ(body["choices"].size(), 3u);
    for (int i = 0; i < 3; ++i) {
        const json& c = body["choices"][i];
        EXPECT_EQ(c["index"], i);
        EXPECT_EQ(c["message"]["content"], "Done.");
        // Logprobs cover the content tokens only.
        std::string joined;
        for (const auto& lp : c["logprobs"]["content"]) {
            joined += lp["token"].get<std::string>();
            EXPECT_EQ(lp["top_logprobs"].size(), 2u);
        }
        EXPECT_EQ(joined, "Done.");
    }
    int one = json::parse(post("/v1/chat/completions", chat("reasoned"))->body)["usage"]["completion_tokens"];
    EXPECT_EQ(body["usage"]["completion_tokens"], 3 * one);
}

TEST_F(GenerationRoutesTest, TextCompletionWithTokenIds) {
    auto r = post("/v1/completions", {{"prompt", "[[script:default]] hi"},
                                      {"max_tokens", 10},
                                      {"return_token_ids", true},
                                      {"echo", true}});
    ASSERT_EQ(r->status, 200) << r->body;
    json c = json::parse(r->body)["choices"][0];
    EXPECT_EQ(c["token_ids"], json(tokenizer_->encode(kScripts.at("default"), SpecialTokenPolicy::all())));
    EXPECT_EQ(c["text"], "[[script:default]] hifinalOK");  // echo + text without special tokens
    EXPECT_EQ(c["finish_reason"], "stop");
    EXPECT_EQ(c["prompt_token_ids"],
              json(tokenizer_->encode("[[script:default]] hi", SpecialTokenPolicy::all())));
}

TEST_F(GenerationRoutesTest, DefaultMaxTokensOfTextCompletionsIs16) {
    auto r = post("/v1/completions", {{"prompt", "[[script:endless]]"}, {"return_token_ids", true}});
    json c = json::parse(r->body)["choices"][0];
    EXPECT_EQ(c["token_ids"].size(), 16u);
    EXPECT_EQ(c["finish_reason"], "length");
}

TEST_F(GenerationRoutesTest, DisconnectAbortsTheRequest) {
    uint64_t aborts_before = server_->metrics().finished(FinishLabel::kAbort);
    httplib::Client client("127.0.0.1", port_);
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.headers = {{"Content-Type", "application/json"}};
    // A 1500-token stream at >= 20 ms a step: 30 s if it were never aborted.
    req.body = chat("endless",
                    {{"stream", true},
                     {"max_tokens", 1500},
                     {"messages", {{{"role", "user"}, {"content", "[[script:endless]] [[delay_ms:20]]"}}}}})
                   .dump();
    int chunks = 0;
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 3; };
    auto start = std::chrono::steady_clock::now();
    client.send(req);  // returns once the receiver refuses more
    EXPECT_GE(chunks, 3);
    // The server notices on its next write and aborts: the engine is idle long before 1500 tokens.
    while (engine_->num_unfinished() > 0 &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(engine_->num_unfinished(), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EngineStats stats = engine_->stats();
    EXPECT_EQ(stats.num_running, 0);
    EXPECT_EQ(stats.num_full_blocks_used, 0);
    EXPECT_EQ(stats.num_window_blocks_used, 0);
    // The pump counts the abort once the engine confirms it.
    for (int i = 0; i < 100 && server_->metrics().finished(FinishLabel::kAbort) == aborts_before; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(server_->metrics().finished(FinishLabel::kAbort), aborts_before + 1);
}

TEST_F(GenerationRoutesTest, PromptLongerThanTheContext) {
    json long_prompt = json::array();
    for (int i = 0; i < 2100; ++i) long_prompt.push_back(1000);
    auto r = post("/v1/completions", {{"prompt", long_prompt}});
    ASSERT_EQ(r->status, 400);
    std::string message = json::parse(r->body)["error"]["message"];
    EXPECT_NE(message.find("2048"), std::string::npos) << message;
    EXPECT_NE(message.find("2100"), std::string::npos) << message;
    auto bias = post("/v1/chat/completions", chat("default", {{"logit_bias", {{"999999", 1}}}}));
    EXPECT_EQ(bias->status, 400);
    EXPECT_EQ(json::parse(bias->body)["error"]["param"], "logit_bias");
}

}  // namespace
}  // namespace gptoss
