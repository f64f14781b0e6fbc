// The HTTP layer without a model: routing, authentication, request ids, body limits, error objects, and the
// loading / draining states. (Generation is covered end to end by tests/e2e.)
#include "server/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

namespace gptoss {
namespace {

using nlohmann::json;

class HttpServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        HttpServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        options.api_key = "secret";
        options.model_names = {"toy", "org/toy"};
        options.max_request_bytes = 4096;
        options.num_threads = 4;
        server_ = std::make_unique<HttpServer>(options);
        port_ = server_->start();
        client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    }

    httplib::Headers auth() const { return {{"Authorization", "Bearer secret"}}; }
    static json body_of(const httplib::Result& r) { return json::parse(r->body); }
    static void expect_error(const httplib::Result& r, int status, const std::string& code) {
        ASSERT_TRUE(r) << "no response";
        EXPECT_EQ(r->status, status) << r->body;
        json e = body_of(r);
        ASSERT_TRUE(e.contains("error")) << r->body;
        EXPECT_EQ(e["error"]["code"], code) << r->body;
        EXPECT_TRUE(e["error"]["message"].is_string());
        EXPECT_TRUE(e["error"].contains("type"));
        EXPECT_TRUE(e["error"].contains("param"));
        EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
        EXPECT_FALSE(r->get_header_value("X-Request-Id").empty());
    }

    std::unique_ptr<HttpServer> server_;
    int port_ = 0;
    std::unique_ptr<httplib::Client> client_;
};

const char* kChat = R"({"model":"toy","messages":[{"role":"user","content":"hi"}]})";

TEST_F(HttpServerTest, HealthIs503WhileLoading) {
    auto r = client_->Get("/health");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(body_of(r)["status"], "loading");
}

TEST_F(HttpServerTest, GenerationWaitsForTheModel) {
    expect_error(client_->Post("/v1/chat/completions", auth(), kChat, "application/json"), 503,
                 "model_loading");
    expect_error(client_->Post("/v1/completions", auth(), R"({"prompt":"x"})", "application/json"), 503,
                 "model_loading");
    // Validation does not need the model: bad requests fail fast with 400 / 404.
    expect_error(
        client_->Post("/v1/chat/completions", auth(), R"({"messages":[],"n":0})", "application/json"), 400,
        "invalid_value");
    expect_error(client_->Post("/v1/chat/completions", auth(),
                               R"({"model":"gpt-4o","messages":[{"role":"user"}]})", "application/json"),
                 404, "model_not_found");
}

TEST_F(HttpServerTest, Authentication) {
    expect_error(client_->Post("/v1/chat/completions", kChat, "application/json"), 401, "missing_api_key");
    expect_error(
        client_->Post("/v1/chat/completions", {{"Authorization", "Bearer wrong"}}, kChat, "application/json"),
        401, "invalid_api_key");
    expect_error(
        client_->Post("/v1/chat/completions", {{"Authorization", "Bearer secre"}}, kChat, "application/json"),
        401, "invalid_api_key");
    expect_error(client_->Get("/v1/models"), 401, "missing_api_key");
    expect_error(client_->Post("/tokenize", R"({"prompt":"x"})", "application/json"), 401, "missing_api_key");
    // The scheme is case-insensitive.
    auto models = client_->Get("/v1/models", {{"Authorization", "bearer secret"}});
    ASSERT_TRUE(models);
    EXPECT_EQ(models->status, 200);
    // Probes and scrapers need no key.
    EXPECT_EQ(client_->Get("/metrics")->status, 200);
    EXPECT_EQ(client_->Get("/health")->status, 503);
}

TEST_F(HttpServerTest, ModelsListsTheServedName) {
    auto r = client_->Get("/v1/models", auth());
    ASSERT_TRUE(r);
    json list = body_of(r);
    EXPECT_EQ(list["object"], "list");
    ASSERT_EQ(list["data"].size(), 1u);
    EXPECT_EQ(list["data"][0]["id"], "toy");
    EXPECT_EQ(list["data"][0]["object"], "model");
    EXPECT_EQ(body_of(client_->Get("/v1/models/org/toy", auth()))["id"], "org/toy");
    expect_error(client_->Get("/v1/models/other", auth()), 404, "model_not_found");
}

TEST_F(HttpServerTest, RequestIdsAreEchoedOrMade) {
    auto echoed = client_->Get("/health", {{"X-Request-Id", "abc-123"}});
    EXPECT_EQ(echoed->get_header_value("X-Request-Id"), "abc-123");
    auto made = client_->Get("/health");
    std::string id = made->get_header_value("X-Request-Id");
    EXPECT_EQ(id.rfind("req-", 0), 0u) << id;
    EXPECT_EQ(id.size(), 4u + 32u);
    EXPECT_NE(client_->Get("/health")->get_header_value("X-Request-Id"), id);
    // Unusable ids (too long, control characters) are replaced.
    auto replaced = client_->Get("/health", {{"X-Request-Id", std::string(300, 'a')}});
    EXPECT_EQ(replaced->get_header_value("X-Request-Id").rfind("req-", 0), 0u);
}

TEST_F(HttpServerTest, UnknownRoutesAndMethods) {
    expect_error(client_->Get("/v2/nothing"), 404, "unknown_url");
    expect_error(client_->Post("/v1/embeddings", auth(), "{}", "application/json"), 404, "unknown_url");
    auto get_chat = client_->Get("/v1/chat/completions", auth());
    expect_error(get_chat, 405, "method_not_allowed");
    EXPECT_EQ(get_chat->get_header_value("Allow"), "POST");
    expect_error(client_->Post("/health", "{}", "application/json"), 405, "method_not_allowed");
    expect_error(client_->Delete("/v1/models"), 405, "method_not_allowed");
    auto put_response = client_->Put("/v1/responses/resp_1", auth(), "{}", "application/json");
    expect_error(put_response, 405, "method_not_allowed");
    EXPECT_EQ(put_response->get_header_value("Allow"), "GET, DELETE");
}

TEST_F(HttpServerTest, ResponsesRoutes) {
    auto missing_input = client_->Post("/v1/responses", auth(), "{}", "application/json");
    ASSERT_TRUE(missing_input);
    EXPECT_EQ(missing_input->status, 400);
    EXPECT_EQ(body_of(missing_input)["error"]["param"], "input");
    // Unknown stored responses: 404 from every route, with an OpenAI error object.
    for (const auto& r :
         {client_->Get("/v1/responses/resp_none", auth()), client_->Delete("/v1/responses/resp_none", auth()),
          client_->Post("/v1/responses/resp_none/cancel", auth(), "", "application/json")}) {
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 404) << r->body;
        EXPECT_TRUE(body_of(r)["error"]["message"].is_string());
    }
    expect_error(client_->Get("/v1/responses/resp_none"), 401, "missing_api_key");
}

TEST_F(HttpServerTest, BodyLimitAndMalformedJson) {
    std::string big = R"({"prompt":")" + std::string(8000, 'x') + R"("})";
    expect_error(client_->Post("/v1/completions", auth(), big, "application/json"), 413, "request_too_large");
    expect_error(client_->Post("/v1/completions", auth(), "{not json", "application/json"), 400,
                 "invalid_json");
    expect_error(client_->Post("/v1/completions", auth(), "", "application/json"), 400, "invalid_json");
    // The connection stays usable after a rejected body.
    EXPECT_EQ(client_->Get("/metrics")->status, 200);
}

TEST_F(HttpServerTest, MetricsWhileLoading) {
    auto r = client_->Get("/metrics");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->get_header_value("Content-Type").find("text/plain"), std::string::npos);
    EXPECT_NE(r->body.find("gptoss:num_requests_running{model_name=\"toy\"} 0"), std::string::npos)
        << r->body;
}

TEST_F(HttpServerTest, DrainingRefusesNewWork) {
    server_->begin_drain();
    auto health = client_->Get("/health");
    EXPECT_EQ(health->status, 503);
    EXPECT_EQ(body_of(health)["status"], "draining");
    expect_error(client_->Post("/v1/chat/completions", auth(), kChat, "application/json"), 503,
                 "shutting_down");
    EXPECT_TRUE(server_->wait_idle(std::chrono::milliseconds(10)));
    server_->stop();
    EXPECT_FALSE(httplib::Client("127.0.0.1", port_).Get("/health"));  // no longer listening
}

TEST(HttpServerStart, ReportsABusyPort) {
    HttpServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    HttpServer first(options);
    options.port = first.start();
    HttpServer second(options);
    try {
        second.start();
        FAIL() << "bound a busy port";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(std::to_string(options.port)), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace gptoss
