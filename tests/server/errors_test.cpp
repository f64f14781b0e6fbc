#include "server/errors.h"

#include <gtest/gtest.h>

#include "engine/engine.h"

namespace gptoss {
namespace {

TEST(ApiError, OpenAIErrorObject) {
    nlohmann::json j = api_errors::invalid_type("temperature", "a number", "hot").to_json();
    ASSERT_TRUE(j.contains("error"));
    const auto& e = j["error"];
    EXPECT_EQ(e["message"], "Invalid type for 'temperature': expected a number, but got a string instead.");
    EXPECT_EQ(e["type"], "invalid_request_error");
    EXPECT_EQ(e["param"], "temperature");
    EXPECT_EQ(e["code"], "invalid_type");
    EXPECT_EQ(e.size(), 4u);

    nlohmann::json bare = api_errors::invalid_request("bad").to_json()["error"];
    EXPECT_TRUE(bare["param"].is_null());
    EXPECT_TRUE(bare["code"].is_null());
}

TEST(ApiError, StatusesByKind) {
    EXPECT_EQ(api_errors::invalid_json("x").status(), 400);
    EXPECT_EQ(api_errors::invalid_api_key(true).status(), 401);
    EXPECT_EQ(api_errors::invalid_api_key(false).status(), 401);
    EXPECT_EQ(api_errors::model_not_found("x").status(), 404);
    EXPECT_EQ(api_errors::model_not_found("x").param().value_or(""), "model");
    EXPECT_EQ(api_errors::route_not_found("GET", "/x").status(), 404);
    EXPECT_EQ(api_errors::method_not_allowed("GET", "/v1/completions").status(), 405);
    EXPECT_EQ(api_errors::payload_too_large(10).status(), 413);
    EXPECT_EQ(api_errors::model_loading().status(), 503);
    EXPECT_EQ(api_errors::shutting_down().status(), 503);
    EXPECT_EQ(api_errors::internal("x").status(), 500);
}

TEST(ApiError, EngineErrorsMapToClientOrOverloadStatuses) {
    using Kind = EngineError::Kind;
    EXPECT_EQ(api_errors::from_engine_error(EngineError(Kind::kInvalid, "too long")).status(), 400);
    ApiError overloaded = api_errors::from_engine_error(EngineError(Kind::kOverloaded, "queue full"));
    EXPECT_EQ(overloaded.status(), 503);
    EXPECT_EQ(overloaded.code().value_or(""), "server_overloaded");
    EXPECT_EQ(api_errors::from_engine_error(EngineError(Kind::kShuttingDown, "bye")).status(), 503);
}

TEST(DescribeJsonType, OpenAIWording) {
    EXPECT_EQ(describe_json_type(1), "an integer");
    EXPECT_EQ(describe_json_type(1.5), "a decimal");
    EXPECT_EQ(describe_json_type("s"), "a string");
    EXPECT_EQ(describe_json_type(true), "a boolean");
    EXPECT_EQ(describe_json_type(nullptr), "null");
    EXPECT_EQ(describe_json_type(nlohmann::json::array()), "an array");
    EXPECT_EQ(describe_json_type(nlohmann::json::object()), "an object");
}

}  // namespace
}  // namespace gptoss
