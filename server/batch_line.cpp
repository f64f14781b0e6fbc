#include "server/batch_line.h"

#include <array>

#include <fmt/format.h>

#include "server/openai_schema.h"
#include "server/routes.h"

namespace gptoss {

namespace {

constexpr std::array<std::string_view, 3> kEndpoints = {"/v1/chat/completions", "/v1/completions",
                                                        "/v1/responses"};
// OpenAI's limit; it also keeps one line's key (held for the whole job) small.
constexpr size_t kMaxCustomIdBytes = 512;
// Enough of a prompt to group requests that share a system prompt or a few-shot preamble.
constexpr size_t kMaxPrefixKeyBytes = 4096;
// Nesting deeper than the HTTP routes accept is refused the same way.
constexpr int kMaxDepth = 64;

std::string dump(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// What the prompt starts with, per route: the prompt fields in the order they are rendered.
std::string prefix_key_of(const std::string& url, const nlohmann::ordered_json& body) {
    std::string key = url;
    for (const char* field : {"instructions", "messages", "prompt", "input"}) {
        if (auto it = body.find(field); it != body.end()) key += dump(*it);
        if (key.size() >= kMaxPrefixKeyBytes) break;
    }
    if (key.size() > kMaxPrefixKeyBytes) key.resize(kMaxPrefixKeyBytes);
    return key;
}

}  // namespace

bool is_batch_endpoint(std::string_view url) {
    for (std::string_view e : kEndpoints) {
        if (url == e) return true;
    }
    return false;
}

BatchLine parse_batch_line(std::string_view text, std::string_view endpoint) {
    nlohmann::ordered_json line;
    try {
        // The same depth guard as the HTTP routes, then a parse that keeps the body's key order.
        parse_json_body(text, kMaxDepth);
        line = nlohmann::ordered_json::parse(text);
    } catch (const std::exception& e) {
        throw BatchLineError("invalid_json", fmt::format("The line is not valid JSON: {}", e.what()),
                             std::nullopt);
    }
    if (!line.is_object())
        throw BatchLineError("invalid_json", "The line is not a JSON object.", std::nullopt);
    auto id = line.find("custom_id");
    if (id == line.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
        throw BatchLineError("missing_custom_id", "Each line needs a non-empty string 'custom_id'.",
                             std::nullopt);
    }
    BatchLine out;
    out.custom_id = id->get<std::string>();
    if (out.custom_id.size() > kMaxCustomIdBytes) {
        throw BatchLineError("invalid_custom_id",
                             fmt::format("'custom_id' is longer than {} bytes.", kMaxCustomIdBytes),
                             out.custom_id.substr(0, kMaxCustomIdBytes));
    }
    auto method = line.find("method");
    if (method != line.end() && !(method->is_string() && method->get_ref<const std::string&>() == "POST")) {
        throw BatchLineError("invalid_method", "'method' must be \"POST\".", out.custom_id);
    }
    auto url = line.find("url");
    if (url == line.end() || !url->is_string() || !is_batch_endpoint(url->get_ref<const std::string&>())) {
        throw BatchLineError("invalid_url",
                             "'url' must be one of /v1/chat/completions, /v1/completions, /v1/responses.",
                             out.custom_id);
    }
    out.url = url->get<std::string>();
    if (!endpoint.empty() && out.url != endpoint) {
        throw BatchLineError("mismatched_url",
                             fmt::format("'url' is {}, but the batch's endpoint is {}.", out.url, endpoint),
                             out.custom_id);
    }
    auto body = line.find("body");
    if (body == line.end() || !body->is_object()) {
        throw BatchLineError("invalid_body", "'body' must be a JSON object.", out.custom_id);
    }
    out.body_text = dump(*body);
    out.body = nlohmann::json::parse(out.body_text);
    out.prefix_key = prefix_key_of(out.url, *body);
    return out;
}

nlohmann::json batch_response_line(const std::string& custom_id, int status_code,
                                   const std::string& request_id, nlohmann::json body) {
    return {
        {"id", random_id("batch_req_")},
        {"custom_id", custom_id},
        {"response", {{"status_code", status_code}, {"request_id", request_id}, {"body", std::move(body)}}},
        {"error", nullptr}};
}

nlohmann::json batch_error_line(const BatchLineError& error, int64_t line_number) {
    return {{"id", random_id("batch_req_")},
            {"custom_id", error.custom_id() ? nlohmann::json(*error.custom_id()) : nlohmann::json(nullptr)},
            {"response", nullptr},
            {"error", {{"code", error.code()}, {"message", error.what()}, {"line", line_number}}}};
}

std::string batch_line_key(const std::optional<std::string>& custom_id, int64_t line_number) {
    return custom_id ? *custom_id : fmt::format("line {}", line_number);
}

std::optional<std::string> batch_output_key(std::string_view text) {
    nlohmann::json line = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!line.is_object()) return std::nullopt;
    auto id = line.find("custom_id");
    if (id != line.end() && id->is_string()) return id->get<std::string>();
    auto error = line.find("error");
    if (error == line.end() || !error->is_object()) return std::nullopt;
    auto number = error->find("line");
    if (number == error->end() || !number->is_number_integer()) return std::nullopt;
    return batch_line_key(std::nullopt, number->get<int64_t>());
}

}  // namespace gptoss
