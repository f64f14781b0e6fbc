#include "server/responses_mapping.h"

#include <limits>
#include <set>

#include <fmt/format.h>

#include "server/chat_mapping.h"
#include "server/errors.h"
#include "server/request_params.h"

namespace gptoss {

namespace {

using Json = nlohmann::ordered_json;

const Json* member(const Json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string at(const std::string& where, const char* field) {
    return where.empty() ? std::string(field) : where + "." + field;
}

[[noreturn]] void reject(const std::string& param, const std::string& problem) {
    throw api_errors::invalid_request(fmt::format("Invalid '{}': {}", param, problem), param);
}

[[noreturn]] void wrong_type(const std::string& param, const char* expected, const Json& got) {
    throw api_errors::invalid_type(param, expected, nlohmann::json(got));
}

std::optional<std::string> string_field(const Json& object, const char* key, const std::string& where) {
    const Json* value = member(object, key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) wrong_type(at(where, key), "a string", *value);
    return value->get<std::string>();
}

std::string required_string(const Json& object, const char* key, const std::string& where) {
    auto value = string_field(object, key, where);
    if (!value) {
        throw api_errors::invalid_request(fmt::format("Missing required parameter: '{}'.", at(where, key)),
                                          at(where, key));
    }
    return *value;
}

// Text parts: a string, or an array of {"type": input_text | output_text | text | summary_text |
// reasoning_text, "text"}; returned as a list of {"type": part_type, "text"} (one part per given part).
Json text_parts(const Json& content, const std::string& param, const char* part_type) {
    if (content.is_string()) return Json::array({{{"type", part_type}, {"text", content}}});
    if (!content.is_array()) wrong_type(param, "a string or an array of content parts", content);
    Json parts = Json::array();
    for (size_t i = 0; i < content.size(); ++i) {
        const std::string where = fmt::format("{}[{}]", param, i);
        const Json& part = content[i];
        if (!part.is_object()) wrong_type(where, "an object", part);
        const std::string type = string_field(part, "type", where).value_or("input_text");
        static const std::set<std::string> kTextTypes = {"input_text", "output_text", "text", "summary_text",
                                                         "reasoning_text"};
        if (type == "refusal") {
            parts.push_back(
                {{"type", part_type}, {"text", string_field(part, "refusal", where).value_or("")}});
        } else if (kTextTypes.contains(type)) {
            parts.push_back({{"type", part_type}, {"text", string_field(part, "text", where).value_or("")}});
        } else {
            reject(at(where, "type"), fmt::format("'{}' is not supported: gpt-oss reads text only.", type));
        }
    }
    return parts;
}

std::string joined_text(const Json& parts) {
    std::string text;
    for (const auto& part : parts) text += part["text"].get<std::string>();
    return text;
}

Json normalize_message(const Json& item, const std::string& where) {
    const std::string role = required_string(item, "role", where);
    if (role != "user" && role != "assistant" && role != "system" && role != "developer") {
        reject(at(where, "role"),
               fmt::format("expected 'user', 'assistant', 'system' or 'developer', got '{}'.", role));
    }
    const Json* content = member(item, "content");
    Json out = {
        {"type", "message"},
        {"role", role},
        {"content", content == nullptr ? Json::array()
                                       : text_parts(*content, at(where, "content"),
                                                    role == "assistant" ? "output_text" : "input_text")}};
    if (role == "assistant") {
        const std::string phase = string_field(item, "phase", where).value_or("final_answer");
        if (phase != "commentary" && phase != "final_answer")
            reject(at(where, "phase"), "expected 'commentary' or 'final_answer'.");
        out["phase"] = phase;
    }
    return out;
}

// Reasoning text from content (reasoning_text parts), else encrypted_content (this server writes the plain
// text there), else the summary.
Json normalize_reasoning(const Json& item, const std::string& where) {
    std::string text;
    if (const Json* content = member(item, "content"); content != nullptr && !content->empty()) {
        text = joined_text(text_parts(*content, at(where, "content"), "reasoning_text"));
    } else if (auto encrypted = string_field(item, "encrypted_content", where)) {
        text = *encrypted;
    } else if (const Json* summary = member(item, "summary")) {
        text = joined_text(text_parts(*summary, at(where, "summary"), "reasoning_text"));
    }
    return {{"type", "reasoning"}, {"content", Json::array({{{"type", "reasoning_text"}, {"text", text}}})}};
}

Json normalize_function_call(const Json& item, const std::string& where) {
    const std::string call_id = required_string(item, "call_id", where);
    const std::string name = required_string(item, "name", where);
    if (!valid_tool_name(name))
        reject(at(where, "name"), "must be 1-64 letters, digits, '_', '-', '.' or ':'.");
    const Json* arguments = member(item, "arguments");
    // Arguments are a JSON text; a client that sends the object itself gets it written compactly.
    const std::string args = arguments == nullptr     ? "{}"
                             : arguments->is_string() ? arguments->get<std::string>()
                                                      : arguments->dump();
    return {{"type", "function_call"}, {"call_id", call_id}, {"name", name}, {"arguments", args}};
}

Json normalize_function_call_output(const Json& item, const std::string& where) {
    const std::string call_id = required_string(item, "call_id", where);
    const Json* output = member(item, "output");
    if (output == nullptr) {
        throw api_errors::invalid_request(
            fmt::format("Missing required parameter: '{}'.", at(where, "output")), at(where, "output"));
    }
    return {{"type", "function_call_output"},
            {"call_id", call_id},
            {"output", joined_text(text_parts(*output, at(where, "output"), "input_text"))}};
}

std::vector<Json> parse_input(const Json& body) {
    const Json* input = member(body, "input");
    if (input == nullptr) throw api_errors::invalid_request("Missing required parameter: 'input'.", "input");
    if (input->is_string()) {
        return {normalize_input_item(Json{{"role", "user"}, {"content", *input}}, "input")};
    }
    if (!input->is_array()) wrong_type("input", "a string or an array of input items", *input);
    std::vector<Json> items;
    for (size_t i = 0; i < input->size(); ++i)
        items.push_back(normalize_input_item((*input)[i], fmt::format("input[{}]", i)));
    return items;
}

Json parse_tools(const Json& body) {
    const Json* tools = member(body, "tools");
    if (tools == nullptr) return Json::array();
    if (!tools->is_array()) wrong_type("tools", "an array", *tools);
    for (size_t i = 0; i < tools->size(); ++i) {
        const std::string where = fmt::format("tools[{}]", i);
        const Json& tool = (*tools)[i];
        if (!tool.is_object()) wrong_type(where, "an object", tool);
        const std::string type = required_string(tool, "type", where);
        if (type != "function") {
            reject(at(where, "type"),
                   fmt::format(
                       "the built-in tool '{}' is not available on this server; only 'function' tools are "
                       "supported.",
                       type));
        }
        const std::string name = required_string(tool, "name", where);
        if (!valid_tool_name(name))
            reject(at(where, "name"), "must be 1-64 letters, digits, '_', '-', '.' or ':'.");
        string_field(tool, "description", where);
        if (const Json* parameters = member(tool, "parameters");
            parameters != nullptr && !parameters->is_object())
            wrong_type(at(where, "parameters"), "an object", *parameters);
    }
    return *tools;
}

Json parse_tool_choice(const Json& body, const Json& tools) {
    const Json* choice = member(body, "tool_choice");
    if (choice == nullptr) return "auto";
    if (choice->is_string()) {
        const std::string c = choice->get<std::string>();
        if (c != "auto" && c != "none" && c != "required")
            reject("tool_choice",
                   fmt::format("expected 'auto', 'none', 'required' or a function, got '{}'.", c));
        if (c == "required" && tools.empty()) reject("tool_choice", "'required' needs at least one tool.");
        return *choice;
    }
    if (!choice->is_object()) wrong_type("tool_choice", "a string or an object", *choice);
    const std::string type = required_string(*choice, "type", "tool_choice");
    if (type != "function")
        reject("tool_choice.type", fmt::format("only 'function' is supported, got '{}'.", type));
    const std::string name = required_string(*choice, "name", "tool_choice");
    bool known = false;
    for (const auto& tool : tools) known = known || tool.value("name", "") == name;
    if (!known)
        reject("tool_choice.name", fmt::format("function '{}' is not among the request's tools.", name));
    return *choice;
}

Json parse_text(const Json& body) {
    const Json* text = member(body, "text");
    if (text == nullptr) return Json{{"format", {{"type", "text"}}}};
    if (!text->is_object()) wrong_type("text", "an object", *text);
    Json out = *text;
    const Json* format = member(*text, "format");
    if (format == nullptr) {
        out["format"] = {{"type", "text"}};
        return out;
    }
    if (!format->is_object()) wrong_type("text.format", "an object", *format);
    const std::string type = required_string(*format, "type", "text.format");
    if (type == "json_schema") {
        if (required_string(*format, "name", "text.format").empty())
            reject("text.format.name", "must not be empty.");
        const Json* schema = member(*format, "schema");
        if (schema == nullptr || !schema->is_object())
            reject("text.format.schema", "must be a JSON Schema object.");
        string_field(*format, "description", "text.format");
    } else if (type != "text" && type != "json_object") {
        reject("text.format.type",
               fmt::format("expected 'text', 'json_object' or 'json_schema', got '{}'.", type));
    }
    return out;
}

// The chat-completions response_format for text.format (the representation chat's constraint applies to).
std::optional<Json> response_format(const Json& text) {
    const Json& format = text["format"];
    const std::string type = format["type"].get<std::string>();
    if (type == "text") return std::nullopt;
    if (type == "json_object") return Json{{"type", "json_object"}};
    Json spec = {{"name", format["name"]}, {"schema", format["schema"]}};
    if (const Json* description = member(format, "description")) spec["description"] = *description;
    if (const Json* strict = member(format, "strict")) spec["strict"] = *strict;
    return Json{{"type", "json_schema"}, {"json_schema", std::move(spec)}};
}

void parse_include(const RequestParams& r, ResponsesRequest& out) {
    const nlohmann::json* include = r.array("include");
    if (include == nullptr) return;
    for (size_t i = 0; i < include->size(); ++i) {
        const std::string param = fmt::format("include[{}]", i);
        const auto& value = (*include)[i];
        if (!value.is_string()) throw api_errors::invalid_type(param, "a string", value);
        if (value == "reasoning.encrypted_content") {
            out.encrypted_reasoning = true;
        } else {
            throw api_errors::invalid_request(
                fmt::format("Invalid '{}': '{}' is not supported (only 'reasoning.encrypted_content').",
                            param, value.get<std::string>()),
                param);
        }
    }
}

void parse_scalars(const RequestParams& r, ResponsesRequest& out) {
    GenerationParams& p = out.params;
    p.model = r.string("model").value_or("");
    p.stream = r.boolean("stream").value_or(false);
    p.temperature = r.number("temperature", 0.0, 2.0);
    p.top_p = r.number("top_p", 0.0, 1.0, /*low_open=*/true);
    if (auto max = r.integer("max_output_tokens", 1, std::numeric_limits<int32_t>::max())) {
        p.max_tokens = static_cast<int>(*max);
        p.max_tokens_param = "max_output_tokens";
    }
    p.user = r.string("user").value_or("");
    out.instructions = r.string("instructions");
    out.previous_response_id = r.string("previous_response_id");
    out.store = r.boolean("store").value_or(true);
    out.background = r.boolean("background").value_or(false);
    out.parallel_tool_calls = r.boolean("parallel_tool_calls").value_or(true);
    if (auto truncation = r.string("truncation")) {
        if (*truncation != "auto" && *truncation != "disabled") {
            throw api_errors::invalid_request("Invalid 'truncation': expected 'auto' or 'disabled'.",
                                              "truncation");
        }
        out.truncation_auto = *truncation == "auto";
    }
    if (const nlohmann::json* reasoning = r.object("reasoning")) {
        RequestParams rr(*reasoning, "reasoning.");
        out.reasoning_effort = rr.string("effort");
        if (out.reasoning_effort && *out.reasoning_effort != "low" && *out.reasoning_effort != "medium" &&
            *out.reasoning_effort != "high") {
            throw api_errors::invalid_request(
                fmt::format(
                    "Invalid 'reasoning.effort': gpt-oss supports 'low', 'medium' or 'high', got '{}'.",
                    *out.reasoning_effort),
                "reasoning.effort");
        }
        rr.string("summary");
    }
    if (const nlohmann::json* metadata = r.object("metadata")) {
        for (const auto& [key, value] : metadata->items()) {
            if (!value.is_string()) throw api_errors::invalid_type("metadata." + key, "a string", value);
        }
        out.metadata = Json(*metadata);
    }
    for (const char* unsupported : {"conversation", "prompt"}) {
        if (r.get(unsupported)) {
            throw api_errors::invalid_request(
                fmt::format(
                    "'{}' is not supported by this server; use previous_response_id or send the input.",
                    unsupported),
                unsupported);
        }
    }
    if (out.background) {
        throw api_errors::invalid_request("'background' responses are not supported; use stream instead.",
                                          "background");
    }
    parse_include(r, out);
}

}  // namespace

Json normalize_input_item(const Json& item, const std::string& param) {
    if (!item.is_object()) wrong_type(param, "an object", item);
    // EasyInputMessage: {"role", "content"} without a type.
    const std::string type =
        string_field(item, "type", param).value_or(member(item, "role") ? "message" : "");
    if (type == "message") return normalize_message(item, param);
    if (type == "reasoning") return normalize_reasoning(item, param);
    if (type == "function_call") return normalize_function_call(item, param);
    if (type == "function_call_output") return normalize_function_call_output(item, param);
    if (type.empty()) {
        throw api_errors::invalid_request(fmt::format("Missing required parameter: '{}.type'.", param),
                                          param + ".type");
    }
    reject(param + ".type",
           fmt::format("'{}' is not supported; expected 'message', 'reasoning', 'function_call' or "
                       "'function_call_output'.",
                       type));
}

ResponsesRequest parse_responses_request(const Json& body) {
    if (!body.is_object()) throw api_errors::invalid_json("the top-level value is not an object");
    const nlohmann::json plain(body);
    RequestParams r(plain);
    ResponsesRequest out;
    parse_scalars(r, out);
    out.tools = parse_tools(body);
    out.tool_choice = parse_tool_choice(body, out.tools);
    out.text = parse_text(body);
    out.input = parse_input(body);
    return out;
}

Json chat_body_for_responses(const ResponsesRequest& request, const std::vector<Json>& conversation) {
    Json messages = Json::array();
    if (request.instructions && !request.instructions->empty()) {
        messages.push_back({{"role", "system"}, {"content", *request.instructions}});
    }
    // The assistant turn being collected: reasoning, then a message, then calls; a new reasoning or message
    // item after text or calls starts the next assistant message.
    Json pending;
    auto flush = [&] {
        if (!pending.is_null()) messages.push_back(std::move(pending));
        pending = nullptr;
    };
    auto assistant = [&]() -> Json& {
        if (pending.is_null()) pending = {{"role", "assistant"}, {"content", nullptr}};
        return pending;
    };
    std::set<std::string> call_ids;
    // Items before this index came from the stored response (truncation may have dropped some of either).
    const size_t num_history =
        conversation.size() > request.input.size() ? conversation.size() - request.input.size() : 0;
    for (size_t i = 0; i < conversation.size(); ++i) {
        const Json& item = conversation[i];
        const std::string type = item["type"].get<std::string>();
        if (type == "reasoning") {
            if (!pending.is_null() && (pending.contains("tool_calls") || !pending["content"].is_null()))
                flush();
            Json& message = assistant();
            std::string text = message.value("reasoning_content", "");
            text += joined_text(item["content"]);
            message["reasoning_content"] = text;
        } else if (type == "function_call") {
            Json& message = assistant();
            if (!message.contains("tool_calls")) message["tool_calls"] = Json::array();
            message["tool_calls"].push_back(
                {{"id", item["call_id"]},
                 {"type", "function"},
                 {"function", {{"name", item["name"]}, {"arguments", item["arguments"]}}}});
            call_ids.insert(item["call_id"].get<std::string>());
        } else if (type == "message" && item["role"] == "assistant") {
            if (!pending.is_null() && (pending.contains("tool_calls") || !pending["content"].is_null()))
                flush();
            assistant()["content"] = joined_text(item["content"]);
        } else if (type == "message") {
            flush();
            messages.push_back({{"role", item["role"]}, {"content", joined_text(item["content"])}});
        } else {  // function_call_output
            flush();
            const std::string call_id = item["call_id"].get<std::string>();
            if (!call_ids.contains(call_id)) {
                const std::string param = i >= num_history ? fmt::format("input[{}].call_id", i - num_history)
                                                           : "previous_response_id";
                throw api_errors::invalid_request(
                    fmt::format("No tool call found for function call output with call_id '{}'.", call_id),
                    param);
            }
            messages.push_back({{"role", "tool"}, {"tool_call_id", call_id}, {"content", item["output"]}});
        }
    }
    flush();
    if (messages.empty() ||
        (messages.size() == 1 && request.instructions && !request.instructions->empty())) {
        throw api_errors::invalid_request("Invalid 'input': expected at least one item.", "input");
    }
    Json body = {{"messages", std::move(messages)}};
    if (!request.tools.empty()) {
        Json tools = Json::array();
        for (const auto& tool : request.tools) {
            Json function = {{"name", tool["name"]}};
            if (const Json* d = member(tool, "description")) function["description"] = *d;
            if (const Json* p = member(tool, "parameters")) function["parameters"] = *p;
            if (const Json* strict = member(tool, "strict")) function["strict"] = *strict;
            tools.push_back({{"type", "function"}, {"function", std::move(function)}});
        }
        body["tools"] = std::move(tools);
    }
    if (request.tool_choice.is_object()) {
        body["tool_choice"] = {{"type", "function"}, {"function", {{"name", request.tool_choice["name"]}}}};
    } else {
        body["tool_choice"] = request.tool_choice;
    }
    if (request.reasoning_effort) body["reasoning_effort"] = *request.reasoning_effort;
    if (auto format = response_format(request.text)) body["response_format"] = std::move(*format);
    body["parallel_tool_calls"] = request.parallel_tool_calls;
    return body;
}

bool drop_oldest_turn(std::vector<Json>& conversation) {
    size_t num_users = 0;
    for (size_t i = 0; i < conversation.size(); ++i) {
        const Json& item = conversation[i];
        if (item["type"] == "message" && item["role"] == "user" && ++num_users == 2) {
            conversation.erase(conversation.begin(), conversation.begin() + static_cast<std::ptrdiff_t>(i));
            return true;
        }
    }
    return false;
}

}  // namespace gptoss
