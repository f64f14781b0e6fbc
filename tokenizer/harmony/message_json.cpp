#include "tokenizer/harmony/message_json.h"

#include <cctype>

namespace gptoss::harmony {

namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& where, const std::string& problem) {
    throw MessageJsonError(where + ": " + problem);
}

const Json* optional_member(const Json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> optional_string(const Json& object, const char* key, const std::string& where) {
    const Json* value = optional_member(object, key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) fail(where + "." + key, "must be a string or null");
    return value->get<std::string>();
}

std::string required_string(const Json& object, const char* key, const std::string& where) {
    auto value = optional_string(object, key, where);
    if (!value) fail(where + "." + key, "is required");
    return *value;
}

ToolNamespaces tool_namespaces_from_json(const Json& json, const std::string& where) {
    if (!json.is_object()) fail(where, "must be an object keyed by namespace name");
    ToolNamespaces namespaces;
    for (const auto& [key, ns_json] : json.items()) {
        const std::string ns_where = where + "." + key;
        if (!ns_json.is_object()) fail(ns_where, "must be an object");
        ToolNamespaceConfig ns;
        ns.name = optional_string(ns_json, "name", ns_where).value_or(key);
        ns.description = optional_string(ns_json, "description", ns_where);
        if (const Json* tools = optional_member(ns_json, "tools")) {
            if (!tools->is_array()) fail(ns_where + ".tools", "must be an array");
            for (size_t i = 0; i < tools->size(); ++i) {
                const Json& tool_json = (*tools)[i];
                const std::string tool_where = ns_where + ".tools[" + std::to_string(i) + "]";
                if (!tool_json.is_object()) fail(tool_where, "must be an object");
                ToolDescription tool;
                tool.name = required_string(tool_json, "name", tool_where);
                tool.description = optional_string(tool_json, "description", tool_where).value_or("");
                if (const Json* parameters = optional_member(tool_json, "parameters"))
                    tool.parameters = *parameters;
                ns.tools.push_back(std::move(tool));
            }
        }
        namespaces.emplace(key, std::move(ns));
    }
    return namespaces;
}

ReasoningEffort effort_from_json(const Json& json, const std::string& where) {
    if (!json.is_string()) fail(where, "must be \"Low\", \"Medium\" or \"High\"");
    std::string name = json.get<std::string>();
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto effort = reasoning_effort_from_name(name);
    if (!effort)
        fail(where, "must be \"Low\", \"Medium\" or \"High\", not \"" + json.get<std::string>() + "\"");
    return *effort;
}

SystemContent system_content_from_json(const Json& json, const std::string& where) {
    SystemContent system;
    system.model_identity = optional_string(json, "model_identity", where);
    if (const Json* effort = optional_member(json, "reasoning_effort")) {
        system.reasoning_effort = effort_from_json(*effort, where + ".reasoning_effort");
    }
    system.conversation_start_date = optional_string(json, "conversation_start_date", where);
    system.knowledge_cutoff = optional_string(json, "knowledge_cutoff", where);
    if (const Json* config = optional_member(json, "channel_config")) {
        const std::string config_where = where + ".channel_config";
        if (!config->is_object()) fail(config_where, "must be an object");
        ChannelConfig channels;
        if (const Json* valid = optional_member(*config, "valid_channels")) {
            if (!valid->is_array()) fail(config_where + ".valid_channels", "must be an array of strings");
            for (const Json& channel : *valid) {
                if (!channel.is_string())
                    fail(config_where + ".valid_channels", "must be an array of strings");
                channels.valid_channels.push_back(channel.get<std::string>());
            }
        }
        if (const Json* required = optional_member(*config, "channel_required")) {
            if (!required->is_boolean()) fail(config_where + ".channel_required", "must be a boolean");
            channels.channel_required = required->get<bool>();
        }
        system.channel_config = std::move(channels);
    }
    if (const Json* tools = optional_member(json, "tools"))
        system.tools = tool_namespaces_from_json(*tools, where + ".tools");
    return system;
}

DeveloperContent developer_content_from_json(const Json& json, const std::string& where) {
    DeveloperContent developer;
    developer.instructions = optional_string(json, "instructions", where);
    if (const Json* tools = optional_member(json, "tools")) {
        developer.tools = tool_namespaces_from_json(*tools, where + ".tools");
    }
    if (const Json* formats = optional_member(json, "response_formats")) {
        if (!formats->is_array()) fail(where + ".response_formats", "must be an array");
        for (size_t i = 0; i < formats->size(); ++i) {
            const std::string format_where = where + ".response_formats[" + std::to_string(i) + "]";
            const Json& format_json = (*formats)[i];
            if (!format_json.is_object()) fail(format_where, "must be an object");
            ResponseFormat format;
            format.name = required_string(format_json, "name", format_where);
            format.description = optional_string(format_json, "description", format_where);
            if (const Json* schema = optional_member(format_json, "schema")) format.schema = *schema;
            developer.response_formats.push_back(std::move(format));
        }
    }
    return developer;
}

Content content_part_from_json(const Json& json, const std::string& where) {
    if (!json.is_object()) fail(where, "must be an object with a \"type\"");
    const std::string type = required_string(json, "type", where);
    if (type == "text") return TextContent{required_string(json, "text", where)};
    if (type == "system_content") return system_content_from_json(json, where);
    if (type == "developer_content") return developer_content_from_json(json, where);
    fail(where + ".type", "must be text, system_content or developer_content, not \"" + type + "\"");
}

Json optional_to_json(const std::optional<std::string>& value) {
    return value ? Json(*value) : Json(nullptr);
}

Json tool_namespaces_to_json(const std::optional<ToolNamespaces>& namespaces) {
    if (!namespaces) return nullptr;
    Json json = Json::object();
    for (const auto& [key, ns] : *namespaces) {
        Json tools = Json::array();
        for (const auto& tool : ns.tools) {
            tools.push_back({{"name", tool.name},
                             {"description", tool.description},
                             {"parameters", tool.parameters ? *tool.parameters : Json(nullptr)}});
        }
        json[key] = {{"name", ns.name},
                     {"description", optional_to_json(ns.description)},
                     {"tools", std::move(tools)}};
    }
    return json;
}

// Every field written out, null where absent (the shape of the peer case files).
Json system_content_to_json(const SystemContent& system) {
    Json json = {{"type", "system_content"}, {"model_identity", optional_to_json(system.model_identity)}};
    if (system.reasoning_effort) {
        std::string name(reasoning_effort_name(*system.reasoning_effort));
        name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
        json["reasoning_effort"] = name;
    } else {
        json["reasoning_effort"] = nullptr;
    }
    json["conversation_start_date"] = optional_to_json(system.conversation_start_date);
    json["knowledge_cutoff"] = optional_to_json(system.knowledge_cutoff);
    if (system.channel_config) {
        json["channel_config"] = {{"valid_channels", system.channel_config->valid_channels},
                                  {"channel_required", system.channel_config->channel_required}};
    } else {
        json["channel_config"] = nullptr;
    }
    json["tools"] = tool_namespaces_to_json(system.tools);
    return json;
}

Json developer_content_to_json(const DeveloperContent& developer) {
    Json json = {{"type", "developer_content"},
                 {"instructions", optional_to_json(developer.instructions)},
                 {"tools", tool_namespaces_to_json(developer.tools)}};
    if (!developer.response_formats.empty()) {
        Json formats = Json::array();
        for (const auto& format : developer.response_formats) {
            formats.push_back({{"name", format.name},
                               {"description", optional_to_json(format.description)},
                               {"schema", format.schema}});
        }
        json["response_formats"] = std::move(formats);
    }
    return json;
}

}  // namespace

Message message_from_json(const nlohmann::ordered_json& json, const std::string& where) {
    if (!json.is_object()) fail(where, "must be an object");
    Message message;
    const std::string role = required_string(json, "role", where);
    auto parsed_role = role_from_name(role);
    if (!parsed_role)
        fail(where + ".role", "must be system, developer, user, assistant or tool, not \"" + role + "\"");
    message.author.role = *parsed_role;
    message.author.name = optional_string(json, "name", where);
    message.recipient = optional_string(json, "recipient", where);
    message.channel = optional_string(json, "channel", where);
    message.content_type = optional_string(json, "content_type", where);
    const Json* content = optional_member(json, "content");
    if (content == nullptr) return message;
    if (content->is_string()) {
        message.content.emplace_back(TextContent{content->get<std::string>()});
    } else if (content->is_array()) {
        for (size_t i = 0; i < content->size(); ++i) {
            message.content.push_back(
                content_part_from_json((*content)[i], where + ".content[" + std::to_string(i) + "]"));
        }
    } else {
        fail(where + ".content", "must be a string or an array of content parts");
    }
    return message;
}

Conversation conversation_from_json(const nlohmann::ordered_json& json, const std::string& where) {
    if (!json.is_object()) fail(where, "must be an object with \"messages\"");
    auto it = json.find("messages");
    if (it == json.end() || !it->is_array()) fail(where + ".messages", "must be an array");
    Conversation conversation;
    for (size_t i = 0; i < it->size(); ++i) {
        conversation.messages.push_back(
            message_from_json((*it)[i], where + ".messages[" + std::to_string(i) + "]"));
    }
    return conversation;
}

nlohmann::ordered_json message_to_json(const Message& message) {
    Json json;
    json["role"] = std::string(role_name(message.author.role));
    if (message.author.name) json["name"] = *message.author.name;
    if (message.recipient) json["recipient"] = *message.recipient;
    if (message.channel) json["channel"] = *message.channel;
    if (message.content_type) json["content_type"] = *message.content_type;
    const bool single_text =
        message.content.size() == 1 && std::holds_alternative<TextContent>(message.content[0]);
    if (single_text) {
        json["content"] = message.text();
    } else {
        Json parts = Json::array();
        for (const auto& part : message.content) {
            if (const auto* text = std::get_if<TextContent>(&part)) {
                parts.push_back({{"type", "text"}, {"text", text->text}});
            } else if (const auto* system = std::get_if<SystemContent>(&part)) {
                parts.push_back(system_content_to_json(*system));
            } else {
                parts.push_back(developer_content_to_json(std::get<DeveloperContent>(part)));
            }
        }
        json["content"] = std::move(parts);
    }
    return json;
}

}  // namespace gptoss::harmony
