#include "server/errors.h"

#include <fmt/format.h>

#include "engine/engine.h"

namespace gptoss {

ApiError::ApiError(int status, std::string type, const std::string& message, std::optional<std::string> param,
                   std::optional<std::string> code)
    : std::runtime_error(message),
      status_(status),
      message_(message),
      type_(std::move(type)),
      param_(std::move(param)),
      code_(std::move(code)) {}

nlohmann::json ApiError::to_json() const {
    nlohmann::json error = {{"message", message_}, {"type", type_}, {"param", nullptr}, {"code", nullptr}};
    if (param_) error["param"] = *param_;
    if (code_) error["code"] = *code_;
    return {{"error", std::move(error)}};
}

std::string describe_json_type(const nlohmann::json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::null:
            return "null";
        case nlohmann::json::value_t::object:
            return "an object";
        case nlohmann::json::value_t::array:
            return "an array";
        case nlohmann::json::value_t::string:
            return "a string";
        case nlohmann::json::value_t::boolean:
            return "a boolean";
        case nlohmann::json::value_t::number_integer:
        case nlohmann::json::value_t::number_unsigned:
            return "an integer";
        case nlohmann::json::value_t::number_float:
            return "a decimal";
        default:
            return "an unsupported value";
    }
}

namespace api_errors {

namespace {
constexpr const char* kInvalidRequest = "invalid_request_error";
}

ApiError invalid_request(const std::string& message, std::optional<std::string> param,
                         std::optional<std::string> code) {
    return ApiError(400, kInvalidRequest, message, std::move(param), std::move(code));
}

ApiError invalid_type(const std::string& param, const std::string& expected, const nlohmann::json& got) {
    return ApiError(400, kInvalidRequest,
                    fmt::format("Invalid type for '{}': expected {}, but got {} instead.", param, expected,
                                describe_json_type(got)),
                    param, "invalid_type");
}

ApiError invalid_json(const std::string& detail) {
    return ApiError(400, kInvalidRequest,
                    fmt::format("We could not parse the JSON body of your request ({}). The body must be a "
                                "JSON object.",
                                detail),
                    std::nullopt, "invalid_json");
}

ApiError invalid_api_key(bool key_given) {
    if (!key_given) {
        return ApiError(401, kInvalidRequest,
                        "You didn't provide an API key. Send it in an Authorization header using Bearer auth "
                        "(Authorization: Bearer YOUR_KEY).",
                        std::nullopt, "missing_api_key");
    }
    return ApiError(401, kInvalidRequest, "Incorrect API key provided.", std::nullopt, "invalid_api_key");
}

ApiError model_not_found(const std::string& model) {
    return ApiError(404, kInvalidRequest,
                    fmt::format("The model '{}' does not exist or you do not have access to it.", model),
                    "model", "model_not_found");
}

ApiError route_not_found(const std::string& method, const std::string& path) {
    return ApiError(404, kInvalidRequest, fmt::format("Invalid URL ({} {}).", method, path), std::nullopt,
                    "unknown_url");
}

ApiError method_not_allowed(const std::string& method, const std::string& path) {
    return ApiError(405, kInvalidRequest, fmt::format("Method {} is not allowed on {}.", method, path),
                    std::nullopt, "method_not_allowed");
}

ApiError payload_too_large(size_t limit_bytes) {
    return ApiError(413, kInvalidRequest,
                    fmt::format("The request body is larger than the server accepts ({} bytes; see "
                                "--max-request-bytes).",
                                limit_bytes),
                    std::nullopt, "request_too_large");
}

ApiError model_loading() {
    return ApiError(503, "server_error", "The model is still loading; retry shortly.", std::nullopt,
                    "model_loading");
}

ApiError shutting_down() {
    return ApiError(503, "server_error", "The server is shutting down and accepts no new requests.",
                    std::nullopt, "shutting_down");
}

ApiError internal(const std::string& message) {
    return ApiError(500, "server_error", fmt::format("Internal server error: {}", message), std::nullopt,
                    "internal_error");
}

ApiError from_engine_error(const EngineError& error) {
    switch (error.kind()) {
        case EngineError::Kind::kInvalid:
            return invalid_request(error.what());
        case EngineError::Kind::kOverloaded:
            return ApiError(503, "server_error",
                            fmt::format("The server is overloaded: {} Retry later.", error.what()),
                            std::nullopt, "server_overloaded");
        case EngineError::Kind::kShuttingDown:
            return shutting_down();
    }
    return internal(error.what());
}

}  // namespace api_errors

}  // namespace gptoss
