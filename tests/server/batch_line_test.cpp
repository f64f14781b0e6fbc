// Batch input lines -> BatchLine or the error that becomes their error line; output lines and their keys.
#include "server/batch_line.h"

#include <gtest/gtest.h>

namespace gptoss {
namespace {

using nlohmann::json;

BatchLineError error_of(const std::string& text, std::string_view endpoint = {}) {
    try {
        parse_batch_line(text, endpoint);
    } catch (const BatchLineError& e) {
        return e;
    }
    ADD_FAILURE() << "no error for " << text;
    return BatchLineError("", "", std::nullopt);
}

TEST(BatchLine, ParsesAChatLineKeepingTheBodyKeyOrder) {
    BatchLine line = parse_batch_line(
        R"({"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",)"
        R"( "body": {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"z": 1, "a": 2}}}],)"
        R"( "messages": [{"role": "user", "content": "hi"}]}})");
    EXPECT_EQ(line.custom_id, "r1");
    EXPECT_EQ(line.url, "/v1/chat/completions");
    EXPECT_EQ(line.body["messages"][0]["content"], "hi");
    EXPECT_LT(line.body_text.find("\"z\""), line.body_text.find("\"a\""));
    EXPECT_LT(line.body_text.find("tools"), line.body_text.find("messages"));
}

TEST(BatchLine, MethodMayBeLeftOut) {
    EXPECT_EQ(
        parse_batch_line(R"({"custom_id": "x", "url": "/v1/completions", "body": {"prompt": "a"}})").url,
        "/v1/completions");
}

TEST(BatchLine, EachMalformedLineNamesWhatIsWrong) {
    EXPECT_EQ(error_of("{not json").code(), "invalid_json");
    EXPECT_FALSE(error_of("{not json").custom_id());
    EXPECT_EQ(error_of("[1, 2]").code(), "invalid_json");
    EXPECT_EQ(error_of(std::string(200, '[') + std::string(200, ']')).code(), "invalid_json");
    EXPECT_EQ(error_of(R"({"url": "/v1/completions", "body": {}})").code(), "missing_custom_id");
    EXPECT_EQ(error_of(R"({"custom_id": 7, "url": "/v1/completions", "body": {}})").code(),
              "missing_custom_id");
    EXPECT_EQ(error_of(R"({"custom_id": "", "url": "/v1/completions", "body": {}})").code(),
              "missing_custom_id");
    EXPECT_EQ(error_of(R"({"custom_id": "a", "method": "GET", "url": "/v1/completions", "body": {}})").code(),
              "invalid_method");
    BatchLineError url = error_of(R"({"custom_id": "a", "url": "/v1/embeddings", "body": {}})");
    EXPECT_EQ(url.code(), "invalid_url");
    EXPECT_EQ(url.custom_id(), "a");
    EXPECT_EQ(error_of(R"({"custom_id": "a", "url": "/v1/completions", "body": "text"})").code(),
              "invalid_body");
    EXPECT_EQ(error_of(R"({"custom_id": "a", "url": "/v1/completions"})").code(), "invalid_body");
    EXPECT_EQ(
        error_of(R"({"custom_id": ")" + std::string(600, 'x') + R"(", "url": "/v1/completions"})").code(),
        "invalid_custom_id");
}

TEST(BatchLine, ABatchEndpointRefusesOtherUrls) {
    const std::string text = R"({"custom_id": "a", "url": "/v1/completions", "body": {"prompt": "x"}})";
    EXPECT_EQ(error_of(text, "/v1/chat/completions").code(), "mismatched_url");
    EXPECT_EQ(parse_batch_line(text, "/v1/completions").custom_id, "a");
}

TEST(BatchLine, PrefixKeysGroupRequestsThatShareAPromptStart) {
    auto key = [](const std::string& system, const std::string& user) {
        json line = {{"custom_id", user},
                     {"url", "/v1/chat/completions"},
                     {"body",
                      {{"messages",
                        {{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", user}}}},
                       {"max_tokens", 5}}}};
        return parse_batch_line(line.dump()).prefix_key;
    };
    std::vector<std::string> keys = {key("B system", "1"), key("A system", "2"), key("B system", "3"),
                                     key("A system", "4")};
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(keys[0].substr(0, 40), keys[1].substr(0, 40));
    EXPECT_NE(keys[1].substr(0, 40), keys[2].substr(0, 40));
}

TEST(BatchLine, OutputLinesHaveOpenAIsShapeAndTheirKeys) {
    json ok = batch_response_line("r1", 200, "req-1", {{"object", "chat.completion"}});
    EXPECT_EQ(ok["custom_id"], "r1");
    EXPECT_EQ(ok["response"]["status_code"], 200);
    EXPECT_EQ(ok["response"]["request_id"], "req-1");
    EXPECT_EQ(ok["response"]["body"]["object"], "chat.completion");
    EXPECT_TRUE(ok["error"].is_null());
    EXPECT_EQ(ok["id"].get<std::string>().rfind("batch_req_", 0), 0u);
    EXPECT_EQ(batch_output_key(ok.dump()), "r1");

    json bad = batch_error_line(BatchLineError("invalid_json", "broken", std::nullopt), 7);
    EXPECT_TRUE(bad["custom_id"].is_null());
    EXPECT_TRUE(bad["response"].is_null());
    EXPECT_EQ(bad["error"]["code"], "invalid_json");
    EXPECT_EQ(bad["error"]["line"], 7);
    EXPECT_EQ(batch_output_key(bad.dump()), batch_line_key(std::nullopt, 7));
    EXPECT_EQ(batch_output_key(batch_error_line(BatchLineError("invalid_url", "u", "c9"), 3).dump()), "c9");

    EXPECT_FALSE(batch_output_key("{\"custom_id\": null}"));
    EXPECT_FALSE(batch_output_key("{\"custom_id\": \"torn"));
    EXPECT_FALSE(batch_output_key("[]"));
}

}  // namespace
}  // namespace gptoss
