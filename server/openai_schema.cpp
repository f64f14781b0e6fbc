#include "server/openai_schema.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "server/errors.h"
#include "server/request_params.h"

namespace gptoss {

namespace {

constexpr int kMaxChoices = 128;
constexpr size_t kMaxStopStrings = 64;
constexpr size_t kMaxLogitBias = 1024;
constexpr int kMaxTopLogprobs = 20;

void parse_stop(const RequestParams& r, GenerationParams& p) {
    const nlohmann::json* stop = r.get("stop");
    if (!stop) return;
    if (stop->is_string()) {
        p.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
        if (stop->size() > kMaxStopStrings) {
            throw api_errors::invalid_request(
                fmt::format("Invalid 'stop': at most {} stop strings are accepted.", kMaxStopStrings),
                "stop");
        }
        for (size_t i = 0; i < stop->size(); ++i) {
            const auto& s = (*stop)[i];
            if (!s.is_string()) throw api_errors::invalid_type(fmt::format("stop[{}]", i), "a string", s);
            p.stop.push_back(s.get<std::string>());
        }
    } else {
        throw api_errors::invalid_type("stop", "a string or an array of strings", *stop);
    }
    for (const auto& s : p.stop) {
        if (s.empty())
            throw api_errors::invalid_request("Invalid 'stop': stop strings must not be empty.", "stop");
    }
}

void parse_logit_bias(const RequestParams& r, GenerationParams& p) {
    const nlohmann::json* bias = r.get("logit_bias");
    if (!bias) return;
    if (!bias->is_object()) throw api_errors::invalid_type("logit_bias", "an object", *bias);
    if (bias->size() > kMaxLogitBias) {
        throw api_errors::invalid_request(
            fmt::format("Invalid 'logit_bias': at most {} entries are accepted.", kMaxLogitBias),
            "logit_bias");
    }
    for (const auto& [key, value] : bias->items()) {
        std::string param = fmt::format("logit_bias.{}", key);
        int64_t id = -1;
        bool numeric = !key.empty() && key.size() <= 9;
        for (char c : key) numeric = numeric && c >= '0' && c <= '9';
        if (numeric) id = std::stoll(key);
        if (id < 0) {
            throw api_errors::invalid_request(
                fmt::format("Invalid 'logit_bias': key '{}' is not a token id (a non-negative integer).",
                            key),
                "logit_bias");
        }
        if (!value.is_number()) throw api_errors::invalid_type(param, "a number", value);
        double v = value.get<double>();
        if (!(v >= -100.0 && v <= 100.0)) {
            throw api_errors::invalid_request(
                fmt::format("Invalid '{}': expected a value between -100 and 100, but got {} instead.", param,
                            value.dump()),
                param, "invalid_value");
        }
        p.logit_bias.emplace_back(static_cast<int32_t>(id), static_cast<float>(v));
    }
}

GenerationParams parse_generation_params(const RequestParams& r) {
    GenerationParams p;
    p.model = r.string("model").value_or("");
    p.n = static_cast<int>(r.integer("n", 1, kMaxChoices).value_or(1));
    p.stream = r.boolean("stream").value_or(false);
    if (const nlohmann::json* options = r.get("stream_options")) {
        if (!options->is_object()) throw api_errors::invalid_type("stream_options", "an object", *options);
        RequestParams o(*options, "stream_options.");
        p.include_usage = o.boolean("include_usage").value_or(false);
    }
    p.temperature = r.number("temperature", 0.0, 2.0);
    p.top_p = r.number("top_p", 0.0, 1.0, /*low_open=*/true);
    p.min_p = r.number("min_p", 0.0, 1.0);
    p.repetition_penalty = r.number("repetition_penalty", 0.0, 10.0, /*low_open=*/true);
    if (auto top_k = r.integer("top_k", -1, std::numeric_limits<int32_t>::max())) {
        p.top_k = *top_k < 0 ? 0 : static_cast<int>(*top_k);  // vLLM's -1 = all tokens
    }
    p.presence_penalty = r.number("presence_penalty", -2.0, 2.0).value_or(0.0);
    p.frequency_penalty = r.number("frequency_penalty", -2.0, 2.0).value_or(0.0);
    for (const char* key : {"max_completion_tokens", "max_tokens"}) {
        if (auto v = r.integer(key, 1, std::numeric_limits<int32_t>::max())) {
            if (!p.max_tokens) {
                p.max_tokens = static_cast<int>(*v);
                p.max_tokens_param = key;
            }
        }
    }
    parse_stop(r, p);
    if (const nlohmann::json* ids = r.get("stop_token_ids")) {
        if (!ids->is_array()) throw api_errors::invalid_type("stop_token_ids", "an array of integers", *ids);
        RequestParams items(*ids, "stop_token_ids");
        for (size_t i = 0; i < ids->size(); ++i) {
            p.stop_token_ids.push_back(
                static_cast<int32_t>(items.integer_at(i, 0, std::numeric_limits<int32_t>::max())));
        }
    }
    p.ignore_eos = r.boolean("ignore_eos").value_or(false);
    if (const nlohmann::json* seed = r.get("seed")) {
        if (seed->is_number_unsigned()) {
            p.seed = seed->get<uint64_t>();
        } else if (seed->is_number_integer()) {
            p.seed = static_cast<uint64_t>(seed->get<int64_t>());
        } else {
            throw api_errors::invalid_type("seed", "an integer", *seed);
        }
    }
    parse_logit_bias(r, p);
    p.user = r.string("user").value_or("");
    return p;
}

void check_messages(const RequestParams& r) {
    const nlohmann::json* messages = r.get("messages");
    if (!messages) throw api_errors::invalid_request("Missing required parameter: 'messages'.", "messages");
    if (!messages->is_array()) throw api_errors::invalid_type("messages", "an array", *messages);
    if (messages->empty()) {
        throw api_errors::invalid_request("Invalid 'messages': expected at least one message.", "messages");
    }
    for (size_t i = 0; i < messages->size(); ++i) {
        const auto& m = (*messages)[i];
        std::string at = fmt::format("messages[{}]", i);
        if (!m.is_object()) throw api_errors::invalid_type(at, "an object", m);
        RequestParams mr(m, at + ".");
        if (!mr.get("role"))
            throw api_errors::invalid_request("Missing required parameter: '" + at + ".role'.", at + ".role");
        mr.string("role");
        if (const nlohmann::json* content = mr.get("content");
            content && !content->is_string() && !content->is_array()) {
            throw api_errors::invalid_type(at + ".content", "a string or an array of content parts",
                                           *content);
        }
        mr.string("name");
        mr.string("tool_call_id");
        mr.array("tool_calls");
    }
}

void check_tools(const RequestParams& r) {
    std::vector<std::string> names;
    if (const nlohmann::json* tools = r.array("tools")) {
        for (size_t i = 0; i < tools->size(); ++i) {
            const auto& t = (*tools)[i];
            std::string at = fmt::format("tools[{}]", i);
            if (!t.is_object()) throw api_errors::invalid_type(at, "an object", t);
            RequestParams tr(t, at + ".");
            std::string type = tr.string("type").value_or("function");
            if (type != "function") {
                throw api_errors::invalid_request(
                    fmt::format("Invalid '{}.type': only 'function' tools are supported, got '{}'.", at,
                                type),
                    at + ".type");
            }
            const nlohmann::json* function = tr.object("function");
            if (!function) {
                throw api_errors::invalid_request("Missing required parameter: '" + at + ".function'.",
                                                  at + ".function");
            }
            RequestParams fr(*function, at + ".function.");
            auto name = fr.string("name");
            if (!name || name->empty()) {
                throw api_errors::invalid_request("Missing required parameter: '" + at + ".function.name'.",
                                                  at + ".function.name");
            }
            fr.string("description");
            fr.object("parameters");
            names.push_back(*name);
        }
    }
    const nlohmann::json* choice = r.get("tool_choice");
    if (!choice) return;
    if (choice->is_string()) {
        std::string c = choice->get<std::string>();
        if (c != "none" && c != "auto" && c != "required") {
            throw api_errors::invalid_request(
                fmt::format(
                    "Invalid 'tool_choice': expected 'none', 'auto', 'required' or a function, got '{}'.", c),
                "tool_choice");
        }
        if (c == "required" && names.empty()) {
            throw api_errors::invalid_request("Invalid 'tool_choice': 'required' needs at least one tool.",
                                              "tool_choice");
        }
        return;
    }
    if (!choice->is_object()) throw api_errors::invalid_type("tool_choice", "a string or an object", *choice);
    RequestParams cr(*choice, "tool_choice.");
    const nlohmann::json* function = cr.object("function");
    auto name = function ? RequestParams(*function, "tool_choice.function.").string("name") : std::nullopt;
    if (!name) {
        throw api_errors::invalid_request("Missing required parameter: 'tool_choice.function.name'.",
                                          "tool_choice.function.name");
    }
    if (std::find(names.begin(), names.end(), *name) == names.end()) {
        throw api_errors::invalid_request(
            fmt::format("Invalid 'tool_choice': function '{}' is not among the request's tools.", *name),
            "tool_choice");
    }
}

std::vector<int32_t> token_id_array(const nlohmann::json& array, const std::string& param) {
    RequestParams items(array, param);
    std::vector<int32_t> ids;
    ids.reserve(array.size());
    for (size_t i = 0; i < array.size(); ++i) {
        ids.push_back(static_cast<int32_t>(items.integer_at(i, 0, std::numeric_limits<int32_t>::max())));
    }
    return ids;
}

std::vector<CompletionPrompt> parse_prompts(const RequestParams& r) {
    const nlohmann::json* prompt = r.get("prompt");
    if (!prompt) throw api_errors::invalid_request("Missing required parameter: 'prompt'.", "prompt");
    std::vector<CompletionPrompt> prompts;
    if (prompt->is_string()) {
        prompts.emplace_back(prompt->get<std::string>());
    } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number()) {
        prompts.emplace_back(token_id_array(*prompt, "prompt"));
    } else if (prompt->is_array() && !prompt->empty()) {
        for (size_t i = 0; i < prompt->size(); ++i) {
            const auto& item = (*prompt)[i];
            std::string at = fmt::format("prompt[{}]", i);
            if (item.is_string()) {
                prompts.emplace_back(item.get<std::string>());
            } else if (item.is_array()) {
                prompts.emplace_back(token_id_array(item, at));
            } else {
                throw api_errors::invalid_type(at, "a string or an array of token ids", item);
            }
        }
    } else if (prompt->is_array()) {
        throw api_errors::invalid_request("Invalid 'prompt': the array is empty.", "prompt");
    } else {
        throw api_errors::invalid_type("prompt", "a string, an array of strings or an array of token ids",
                                       *prompt);
    }
    if (prompts.size() > static_cast<size_t>(kMaxChoices)) {
        throw api_errors::invalid_request(
            fmt::format("Invalid 'prompt': at most {} prompts per request.", kMaxChoices), "prompt");
    }
    for (size_t i = 0; i < prompts.size(); ++i) {
        bool empty = std::visit([](const auto& p) { return p.empty(); }, prompts[i]);
        if (empty) {
            throw api_errors::invalid_request("Invalid 'prompt': prompts must not be empty.",
                                              prompts.size() == 1 ? "prompt" : fmt::format("prompt[{}]", i));
        }
    }
    return prompts;
}

}  // namespace

nlohmann::json parse_json_body(std::string_view text, int max_depth) {
    // Nesting depth outside strings; brackets inside strings do not count.
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                throw api_errors::invalid_json(fmt::format("nested deeper than {} levels", max_depth));
            }
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    nlohmann::json body;
    try {
        body = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw api_errors::invalid_json(fmt::format("syntax error at byte {}", e.byte));
    }
    if (!body.is_object())
        throw api_errors::invalid_json("the top-level value is " + describe_json_type(body));
    return body;
}

ChatCompletionRequest parse_chat_completion_request(const nlohmann::json& body) {
    RequestParams r(body);
    ChatCompletionRequest c;
    c.params = parse_generation_params(r);
    c.logprobs = r.boolean("logprobs").value_or(false);
    if (auto top = r.integer("top_logprobs", 0, kMaxTopLogprobs)) {
        if (!c.logprobs && *top > 0) {
            throw api_errors::invalid_request("Invalid 'top_logprobs': 'logprobs' must be true to use it.",
                                              "top_logprobs");
        }
        c.top_logprobs = static_cast<int>(*top);
    }
    c.include_reasoning = r.boolean("include_reasoning").value_or(true);
    check_messages(r);
    check_tools(r);
    r.boolean("parallel_tool_calls");
    if (auto effort = r.string("reasoning_effort")) {
        if (*effort != "low" && *effort != "medium" && *effort != "high") {
            throw api_errors::invalid_request(
                fmt::format("Invalid 'reasoning_effort': expected 'low', 'medium' or 'high', got '{}'.",
                            *effort),
                "reasoning_effort");
        }
    }
    if (const nlohmann::json* format = r.object("response_format")) {
        RequestParams fr(*format, "response_format.");
        auto type = fr.string("type");
        if (!type || (*type != "text" && *type != "json_object" && *type != "json_schema")) {
            throw api_errors::invalid_request(
                "Invalid 'response_format.type': expected 'text', 'json_object' or 'json_schema'.",
                "response_format.type");
        }
        fr.object("json_schema");
    }
    return c;
}

CompletionRequest parse_completion_request(const nlohmann::json& body) {
    RequestParams r(body);
    CompletionRequest c;
    c.params = parse_generation_params(r);
    c.prompts = parse_prompts(r);
    if (auto logprobs = r.integer("logprobs", 0, kMaxTopLogprobs)) c.logprobs = static_cast<int>(*logprobs);
    c.echo = r.boolean("echo").value_or(false);
    c.return_token_ids = r.boolean("return_token_ids").value_or(false);
    if (r.get("suffix"))
        throw api_errors::invalid_request("'suffix' is not supported by this model.", "suffix");
    if (auto best_of = r.integer("best_of", 1, kMaxChoices); best_of && *best_of != c.params.n) {
        throw api_errors::invalid_request("'best_of' other than n is not supported.", "best_of");
    }
    return c;
}

TokenizeRequest parse_tokenize_request(const nlohmann::json& body) {
    RequestParams r(body);
    TokenizeRequest t;
    t.model = r.string("model").value_or("");
    t.return_token_strs = r.boolean("return_token_strs").value_or(false);
    if (r.get("messages")) {
        check_messages(r);
        check_tools(r);
        t.chat = true;
    } else {
        t.prompt = r.string("prompt");
        if (!t.prompt) {
            throw api_errors::invalid_request("Missing required parameter: 'prompt' (or 'messages').",
                                              "prompt");
        }
    }
    return t;
}

DetokenizeRequest parse_detokenize_request(const nlohmann::json& body) {
    RequestParams r(body);
    DetokenizeRequest d;
    d.model = r.string("model").value_or("");
    const nlohmann::json* tokens = r.array("tokens");
    if (!tokens) throw api_errors::invalid_request("Missing required parameter: 'tokens'.", "tokens");
    d.tokens = token_id_array(*tokens, "tokens");
    return d;
}

SamplingParams make_sampling_params(const GenerationParams& params, const GenerationConfig& defaults,
                                    uint64_t seed, bool logprobs, int top_logprobs) {
    SamplingParams s;
    double default_temperature = defaults.do_sample == false ? 0.0 : defaults.temperature.value_or(1.0);
    s.temperature = static_cast<float>(params.temperature.value_or(default_temperature));
    s.top_p = static_cast<float>(params.top_p.value_or(defaults.top_p.value_or(1.0)));
    s.top_k = params.top_k.value_or(defaults.top_k.value_or(0));
    s.min_p = static_cast<float>(params.min_p.value_or(defaults.min_p.value_or(0.0)));
    s.repetition_penalty =
        static_cast<float>(params.repetition_penalty.value_or(defaults.repetition_penalty.value_or(1.0)));
    s.presence_penalty = static_cast<float>(params.presence_penalty);
    s.frequency_penalty = static_cast<float>(params.frequency_penalty);
    s.logit_bias = params.logit_bias;
    s.seed = seed;
    s.logprobs = logprobs;
    s.top_logprobs = top_logprobs;
    return s;
}

}  // namespace gptoss
