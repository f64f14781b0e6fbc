// One line of an OpenAI batch input file, and the lines of its output (the Batch API's JSONL formats):
//
//   in:  {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions", "body": {...}}
//   out: {"id": "batch_req_…", "custom_id": "r1", "response": {"status_code": 200, "request_id": "…",
//         "body": {...}}, "error": null}
//   a line that could not be run at all (bad JSON, unknown url, no custom_id):
//        {"id": "batch_req_…", "custom_id": "r1" | null, "response": null,
//         "error": {"code": "invalid_url", "message": "…", "line": 7}}
//
// Every output line has a key that says which input line it answers (the custom_id, or "line N" for a line
// without one): a rerun skips the keys its output already holds, so a job resumes without repeating lines.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gptoss {

// The generation routes a batch line may name.
bool is_batch_endpoint(std::string_view url);

// Why a line cannot be run; becomes its error line.
class BatchLineError : public std::runtime_error {
public:
    BatchLineError(std::string code, const std::string& message, std::optional<std::string> custom_id)
        : std::runtime_error(message), code_(std::move(code)), custom_id_(std::move(custom_id)) {}
    const std::string& code() const { return code_; }
    const std::optional<std::string>& custom_id() const { return custom_id_; }

private:
    std::string code_;                      // invalid_json | missing_custom_id | invalid_method | ...
    std::optional<std::string> custom_id_;  // when the line had a readable one
};

struct BatchLine {
    std::string custom_id;
    std::string url;
    // The body as the client wrote it, key order kept (tool schemas render in that order).
    std::string body_text;
    nlohmann::json body;
    // Lines with equal keys start with equal prompts: the runner orders by it so that requests sharing a
    // prefix run together and hit the prefix cache.
    std::string prefix_key;
};

// A batch line's answer: the HTTP status its route gave and the JSON body (an error object unless 200).
struct BatchReply {
    int status_code = 200;
    nlohmann::json body;
};

// Throws BatchLineError. `endpoint`, when not empty, is the only url accepted (a batch's endpoint).
BatchLine parse_batch_line(std::string_view text, std::string_view endpoint = {});

// The output line of a request that ran (any HTTP status: 4xx bodies are the route's error object).
nlohmann::json batch_response_line(const std::string& custom_id, int status_code,
                                   const std::string& request_id, nlohmann::json body);
// The output line of a line that could not be run; line_number counts from 1.
nlohmann::json batch_error_line(const BatchLineError& error, int64_t line_number);

// The key of an input line's answer: its custom_id, or "line N" when it has none.
std::string batch_line_key(const std::optional<std::string>& custom_id, int64_t line_number);
// The key an output line answers, or nullopt when the line is not a batch output line.
std::optional<std::string> batch_output_key(std::string_view text);

}  // namespace gptoss
