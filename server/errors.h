// ApiError: a failure the client gets back as an OpenAI error object with its HTTP status.
//
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "temperature", "code": null}}
//
// Status mapping: 400 invalid request (bad JSON, wrong types, out-of-range values, prompt too long),
// 401 missing or wrong API key, 404 unknown model or route, 405 wrong method, 413 body too large,
// 503 overloaded, loading or shutting down, 500 only for true internal faults.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace gptoss {

class EngineError;

class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string type, const std::string& message, std::optional<std::string> param = {},
             std::optional<std::string> code = {});

    int status() const { return status_; }
    // The whole message; what() ends at the first NUL byte (a client may put one in a path or name).
    const std::string& message() const { return message_; }
    const std::string& type() const { return type_; }
    const std::optional<std::string>& param() const { return param_; }
    const std::optional<std::string>& code() const { return code_; }
    // {"error": {"message", "type", "param", "code"}} (param and code are null when absent).
    nlohmann::json to_json() const;

private:
    int status_;
    std::string message_;
    std::string type_;
    std::optional<std::string> param_;
    std::optional<std::string> code_;
};

namespace api_errors {

// 400: the request is wrong; `param` names the offending field ("messages[2].content").
ApiError invalid_request(const std::string& message, std::optional<std::string> param = {},
                         std::optional<std::string> code = {});
// 400: a field has the wrong JSON type. expected: "a number", "a string", ...
ApiError invalid_type(const std::string& param, const std::string& expected, const nlohmann::json& got);
// 400: the body is not valid JSON (or not a JSON object).
ApiError invalid_json(const std::string& detail);
// 401
ApiError invalid_api_key(bool key_given);
// 404
ApiError model_not_found(const std::string& model);
ApiError route_not_found(const std::string& method, const std::string& path);
// 405
ApiError method_not_allowed(const std::string& method, const std::string& path);
// 413
ApiError payload_too_large(size_t limit_bytes);
// 503
ApiError model_loading();
ApiError shutting_down();
// 500: a fault of ours; the message is logged and returned.
ApiError internal(const std::string& message);
// kInvalid -> 400, kOverloaded / kShuttingDown -> 503.
ApiError from_engine_error(const EngineError& error);

}  // namespace api_errors

// "an integer", "a string", "an array", ... (OpenAI's wording in invalid_type messages).
std::string describe_json_type(const nlohmann::json& value);

}  // namespace gptoss
