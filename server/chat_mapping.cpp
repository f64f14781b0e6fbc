// OpenAI Chat Completions request -> harmony conversation -> prompt token ids (harmony.md 12.1).
//
// Mapping rules (each has a test in tests/server/chat_mapping_test.cpp):
//   - The leading system/developer messages become the developer message's "# Instructions" (joined by a
//     blank line); a system/developer message later in the conversation becomes a developer message there.
//   - user -> user message (text parts concatenated); tool -> "functions.NAME to=assistant" on the
//     commentary channel, NAME found through tool_call_id; the legacy function role likewise by its name.
//   - assistant -> analysis (reasoning_content, else reasoning), then a commentary preamble (content) and one
//     call per tool_calls entry, or a final message (content) when it made no calls.
//   - Reasoning of turns that ended with a final answer is dropped; the current tool loop keeps its analysis.
//   - The system message: identity, knowledge cutoff 2024-06, the date from the options, reasoning effort,
//     all three channels (always), the functions line when function tools are rendered.
//   - tool_choice none renders no tools; required / a named function render them as auto does: the
//     structured-output constraint (server/structured_output.h) lets the model reason and then holds its
//     header to a call of the tools the choice allows.
#include "server/chat_mapping.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "tokenizer/harmony/formatting_tokens.h"
#include "tokenizer/harmony/renderer.h"
#include "tokenizer/tokenizer.h"

namespace gptoss {

namespace {

using Json = nlohmann::ordered_json;
using namespace harmony;

std::string at(const std::string& where, const std::string& field) {
    return where.empty() ? field : where + "." + field;
}

std::string index(const std::string& where, size_t i) {
    return where + "[" + std::to_string(i) + "]";
}

[[noreturn]] void reject(const std::string& param, const std::string& problem) {
    throw ChatRequestError(param + " " + problem, param);
}

const Json* member(const Json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> optional_string(const Json& object, const char* key, const std::string& where) {
    const Json* value = member(object, key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) reject(at(where, key), "must be a string");
    return value->get<std::string>();
}

// Message content: a string, null, or an array of text parts ({"type": "text", "text": ...}).
std::string content_text(const Json& message, const std::string& where) {
    const Json* content = member(message, "content");
    if (content == nullptr) return "";
    if (content->is_string()) return content->get<std::string>();
    const std::string param = at(where, "content");
    if (!content->is_array()) reject(param, "must be a string or an array of content parts");
    std::string text;
    for (size_t i = 0; i < content->size(); ++i) {
        const Json& part = (*content)[i];
        const std::string part_param = index(param, i);
        if (!part.is_object()) reject(part_param, "must be an object");
        const std::string type = optional_string(part, "type", part_param).value_or("");
        if (type == "text" || type == "input_text" || type == "output_text") {
            text += optional_string(part, "text", part_param).value_or("");
        } else if (type == "refusal") {
            text += optional_string(part, "refusal", part_param).value_or("");
        } else {
            reject(at(part_param, "type"), "\"" + type + "\" is not supported: gpt-oss reads text only");
        }
    }
    return text;
}

struct ToolChoice {
    enum class Kind { kAuto, kNone, kRequired, kNamed } kind = Kind::kAuto;
    std::string name;  // kNamed
};

std::vector<ToolDescription> parse_tools(const Json& request) {
    std::vector<ToolDescription> tools;
    const Json* list = member(request, "tools");
    if (list == nullptr) return tools;
    if (!list->is_array()) reject("tools", "must be an array");
    std::set<std::string> names;
    for (size_t i = 0; i < list->size(); ++i) {
        const std::string where = index("tools", i);
        const Json& tool = (*list)[i];
        if (!tool.is_object()) reject(where, "must be an object");
        const std::string type = optional_string(tool, "type", where).value_or("function");
        if (type != "function")
            reject(at(where, "type"), "must be \"function\" (the only tool type of chat completions)");
        const Json* function = member(tool, "function");
        if (function == nullptr || !function->is_object()) reject(at(where, "function"), "must be an object");
        const std::string function_where = at(where, "function");
        ToolDescription description;
        description.name = optional_string(*function, "name", function_where).value_or("");
        if (!valid_tool_name(description.name)) {
            reject(at(function_where, "name"), "must be 1-64 letters, digits, '_', '-', '.' or ':'");
        }
        if (!names.insert(description.name).second) {
            reject(at(function_where, "name"), "repeats the tool name \"" + description.name + "\"");
        }
        description.description = optional_string(*function, "description", function_where).value_or("");
        if (const Json* parameters = member(*function, "parameters")) {
            if (!parameters->is_object())
                reject(at(function_where, "parameters"), "must be a JSON Schema object");
            description.parameters = *parameters;
        }
        tools.push_back(std::move(description));
    }
    return tools;
}

ToolChoice parse_tool_choice(const Json& request, const std::vector<ToolDescription>& tools) {
    ToolChoice choice;
    const Json* value = member(request, "tool_choice");
    if (value == nullptr) return choice;
    if (value->is_string()) {
        const std::string text = value->get<std::string>();
        if (text == "auto") return choice;
        if (text == "none")
            choice.kind = ToolChoice::Kind::kNone;
        else if (text == "required")
            choice.kind = ToolChoice::Kind::kRequired;
        else
            reject("tool_choice", "must be \"none\", \"auto\", \"required\" or a named function");
    } else if (value->is_object()) {
        const Json* function = member(*value, "function");
        std::optional<std::string> name = function != nullptr && function->is_object()
                                              ? optional_string(*function, "name", "tool_choice.function")
                                              : optional_string(*value, "name", "tool_choice");
        if (!name) reject("tool_choice.function.name", "is required for a named tool choice");
        choice.kind = ToolChoice::Kind::kNamed;
        choice.name = *name;
        const bool known =
            std::any_of(tools.begin(), tools.end(), [&](const auto& t) { return t.name == *name; });
        if (!known)
            reject("tool_choice.function.name", "names \"" + *name + "\", which is not among the tools");
    } else {
        reject("tool_choice", "must be a string or an object");
    }
    if (choice.kind != ToolChoice::Kind::kNone && choice.kind != ToolChoice::Kind::kAuto && tools.empty()) {
        reject("tool_choice", "requires a tool call but the request has no tools");
    }
    return choice;
}

ReasoningEffort parse_effort(const Json& request, const ChatMappingOptions& options) {
    const Json* value = member(request, "reasoning_effort");
    const std::string name = value == nullptr     ? options.default_reasoning_effort
                             : value->is_string() ? value->get<std::string>()
                                                  : std::string("(not a string)");
    auto effort = reasoning_effort_from_name(name);
    if (!effort) reject("reasoning_effort", "must be \"low\", \"medium\" or \"high\", not \"" + name + "\"");
    return *effort;
}

std::vector<ResponseFormat> parse_response_format(const Json& request) {
    const Json* format = member(request, "response_format");
    if (format == nullptr) return {};
    if (!format->is_object()) reject("response_format", "must be an object");
    const std::string type = optional_string(*format, "type", "response_format").value_or("");
    if (type == "text") return {};
    if (type == "json_object") {
        return {{"json_object", "Respond with a single JSON object.", Json{{"type", "object"}}}};
    }
    if (type != "json_schema")
        reject("response_format.type", "must be \"text\", \"json_object\" or \"json_schema\"");
    const Json* spec = member(*format, "json_schema");
    if (spec == nullptr || !spec->is_object()) reject("response_format.json_schema", "must be an object");
    ResponseFormat out;
    out.name = optional_string(*spec, "name", "response_format.json_schema").value_or("");
    if (out.name.empty()) reject("response_format.json_schema.name", "is required");
    out.description = optional_string(*spec, "description", "response_format.json_schema");
    const Json* schema = member(*spec, "schema");
    if (schema == nullptr || !schema->is_object())
        reject("response_format.json_schema.schema", "must be a JSON Schema object");
    out.schema = *schema;
    return {out};
}

// The request's messages after the leading system/developer ones, as harmony messages.
class MessageMapper {
public:
    std::optional<std::string> instructions;
    std::vector<Message> messages;

    void map(const Json& request) {
        const Json* list = member(request, "messages");
        if (list == nullptr || !list->is_array() || list->empty())
            reject("messages", "must be a non-empty array");
        bool leading = true;
        for (size_t i = 0; i < list->size(); ++i) {
            const std::string where = index("messages", i);
            const Json& message = (*list)[i];
            if (!message.is_object()) reject(where, "must be an object");
            const std::string role = optional_string(message, "role", where).value_or("");
            const bool instruction_role = role == "system" || role == "developer";
            leading = leading && instruction_role;
            if (leading) {
                const std::string text = content_text(message, where);
                if (!text.empty()) instructions = instructions ? *instructions + "\n\n" + text : text;
            } else if (instruction_role) {
                DeveloperContent developer;
                developer.instructions = content_text(message, where);
                if (!developer.instructions->empty())
                    messages.push_back(Message::from_developer(std::move(developer)));
            } else if (role == "user") {
                messages.push_back(Message::from_text(Role::kUser, content_text(message, where)));
            } else if (role == "assistant") {
                map_assistant(message, where);
            } else if (role == "tool") {
                const std::string id = optional_string(message, "tool_call_id", where).value_or("");
                auto call = calls_.find(id);
                if (call == calls_.end()) {
                    reject(at(where, "tool_call_id"),
                           "\"" + id + "\" does not match any earlier assistant tool call");
                }
                messages.push_back(tool_result(call->second, content_text(message, where)));
            } else if (role == "function") {
                const auto name = optional_string(message, "name", where);
                if (!name || name->empty()) reject(at(where, "name"), "is required for a function message");
                messages.push_back(tool_result(*name, content_text(message, where)));
            } else {
                reject(at(where, "role"),
                       "must be system, developer, user, assistant or tool, not \"" + role + "\"");
            }
        }
    }

private:
    static Message tool_result(const std::string& name, std::string text) {
        return Message::tool_result("functions." + name, std::move(text), "commentary");
    }

    void map_assistant(const Json& message, const std::string& where) {
        auto reasoning = optional_string(message, "reasoning_content", where);
        if (!reasoning || reasoning->empty()) reasoning = optional_string(message, "reasoning", where);
        if (reasoning && !reasoning->empty()) {
            messages.push_back(Message::from_text(Role::kAssistant, *reasoning).with_channel("analysis"));
        }
        const std::string content = content_text(message, where);
        const Json* tool_calls = member(message, "tool_calls");
        if (tool_calls != nullptr && !tool_calls->is_array())
            reject(at(where, "tool_calls"), "must be an array");
        if (tool_calls == nullptr || tool_calls->empty()) {
            if (!content.empty())
                messages.push_back(Message::from_text(Role::kAssistant, content).with_channel("final"));
            return;
        }
        if (!content.empty()) {
            messages.push_back(Message::from_text(Role::kAssistant, content).with_channel("commentary"));
        }
        for (size_t i = 0; i < tool_calls->size(); ++i) {
            const std::string call_where = index(at(where, "tool_calls"), i);
            const Json& call = (*tool_calls)[i];
            if (!call.is_object()) reject(call_where, "must be an object");
            const Json* function = member(call, "function");
            if (function == nullptr || !function->is_object())
                reject(at(call_where, "function"), "must be an object");
            const std::string name =
                optional_string(*function, "name", at(call_where, "function")).value_or("");
            if (!valid_tool_name(name))
                reject(at(call_where, "function.name"), "must be a valid function name");
            const Json* arguments = member(*function, "arguments");
            // Arguments are a JSON text; a client that sends the object itself gets it written compactly.
            const std::string args = arguments == nullptr     ? "{}"
                                     : arguments->is_string() ? arguments->get<std::string>()
                                                              : arguments->dump();
            messages.push_back(Message::from_text(Role::kAssistant, args)
                                   .with_channel("commentary")
                                   .with_recipient("functions." + name)
                                   .with_content_type("<|constrain|>json"));
            if (auto id = optional_string(call, "id", call_where)) calls_[*id] = name;
        }
    }

    std::map<std::string, std::string> calls_;  // tool_call id -> function name
};

// Drops the analysis of turns that ended with a final answer: every analysis message before the last final
// message. The analysis of a tool loop still in progress (after the last final) stays.
void drop_finished_reasoning(std::vector<Message>& messages) {
    size_t last_final = 0;
    bool has_final = false;
    for (size_t i = 0; i < messages.size(); ++i) {
        if (messages[i].author.role == Role::kAssistant && messages[i].channel == "final") {
            last_final = i;
            has_final = true;
        }
    }
    if (!has_final) return;
    std::vector<Message> kept;
    for (size_t i = 0; i < messages.size(); ++i) {
        if (i < last_final && messages[i].author.role == Role::kAssistant &&
            messages[i].channel == "analysis")
            continue;
        kept.push_back(std::move(messages[i]));
    }
    messages = std::move(kept);
}

}  // namespace

bool valid_tool_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':';
    });
}

ChatPrompt build_chat_prompt(const nlohmann::json& request, const Tokenizer& tokenizer,
                             const ChatMappingOptions& options) {
    return build_chat_prompt(nlohmann::ordered_json(request), tokenizer, options);
}

ChatPrompt build_chat_prompt(const nlohmann::ordered_json& request, const Tokenizer& tokenizer,
                             const ChatMappingOptions& options) {
    if (!request.is_object()) reject("body", "must be a JSON object");
    const std::vector<ToolDescription> tools = parse_tools(request);
    const ToolChoice choice = parse_tool_choice(request, tools);
    SystemContent system = SystemContent::defaults();
    system.reasoning_effort = parse_effort(request, options);
    system.conversation_start_date = options.current_date;

    MessageMapper mapper;
    mapper.map(request);
    drop_finished_reasoning(mapper.messages);

    DeveloperContent developer;
    developer.instructions = mapper.instructions;
    const bool render_tools = !tools.empty() && choice.kind != ToolChoice::Kind::kNone;
    if (render_tools) developer.tools = ToolNamespaces{{"functions", {"functions", std::nullopt, tools}}};
    developer.response_formats = parse_response_format(request);

    Conversation conversation;
    conversation.messages.push_back(Message::from_system(std::move(system)));
    if (developer.instructions || developer.tools || !developer.response_formats.empty()) {
        conversation.messages.push_back(Message::from_developer(std::move(developer)));
    }
    for (auto& message : mapper.messages) conversation.messages.push_back(std::move(message));

    ChatPrompt prompt;
    prompt.token_ids = pieces_to_tokens(
        render_conversation_for_completion(conversation, Role::kAssistant, RenderConfig{true}), tokenizer);
    prompt.stop_token_ids = FormattingTokens::from_tokenizer(tokenizer).generation_stop_ids();
    if (render_tools) {
        for (const auto& tool : tools) prompt.tool_names.push_back(tool.name);
    }
    prompt.tool_calls_allowed = render_tools;
    return prompt;
}

}  // namespace gptoss
