// The harmony conversation model: messages with an author, optional recipient / channel / content type, and
// content parts (text, system content, developer content). Mirrors openai/harmony's chat.rs so that a
// conversation renders to exactly the tokens gpt-oss was trained on (see ../shared/docs/harmony.md).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace gptoss::harmony {

enum class Role { kSystem, kDeveloper, kUser, kAssistant, kTool };

// "system", "developer", "user", "assistant", "tool".
std::string_view role_name(Role role);
// The role named by `name` (exact, lower case); nullopt for anything else.
std::optional<Role> role_from_name(std::string_view name);

enum class ReasoningEffort { kLow, kMedium, kHigh };

// "low", "medium", "high".
std::string_view reasoning_effort_name(ReasoningEffort effort);
std::optional<ReasoningEffort> reasoning_effort_from_name(std::string_view name);

struct ChannelConfig {
    std::vector<std::string> valid_channels;
    bool channel_required = true;

    // analysis, commentary, final; required (what gpt-oss was trained with).
    static ChannelConfig all_required();
};

// One tool of a namespace: rendered as `type NAME = (_: TS) => any;` (or `() => any` without parameters).
struct ToolDescription {
    std::string name;
    std::string description;
    // JSON Schema of the single argument object; key order is kept as given (it is rendered in that order).
    std::optional<nlohmann::ordered_json> parameters;
};

// A namespace of tools ("functions" for API function tools; "browser", "python" for built-ins).
struct ToolNamespaceConfig {
    std::string name;
    std::optional<std::string> description;
    std::vector<ToolDescription> tools;
};

// Namespaces keyed (and therefore rendered) in sorted order of their names, as harmony does.
using ToolNamespaces = std::map<std::string, ToolNamespaceConfig>;

// The system message: meta information, not the "system prompt" (that is the developer message).
struct SystemContent {
    std::optional<std::string> model_identity;
    std::optional<ReasoningEffort> reasoning_effort;
    std::optional<std::string> conversation_start_date;  // "Current date: ..."
    std::optional<std::string> knowledge_cutoff;
    std::optional<ChannelConfig> channel_config;
    std::optional<ToolNamespaces> tools;  // built-in tools (browser, python)

    // harmony's SystemContent::default(): ChatGPT identity, medium effort, cutoff 2024-06, all three
    // channels required, no date, no tools.
    static SystemContent defaults();
};

// A structured-output format, rendered as a "# Response Formats" section of the developer message
// (harmony docs/format.md "Structured output"; the harmony library itself has no API for it).
struct ResponseFormat {
    std::string name;
    std::optional<std::string> description;
    nlohmann::ordered_json schema;  // rendered as compact JSON, keys in the given order
};

// The developer message: what OpenAI APIs call the system prompt, plus function tools.
struct DeveloperContent {
    std::optional<std::string> instructions;
    std::optional<ToolNamespaces> tools;
    std::vector<ResponseFormat> response_formats;
};

struct TextContent {
    std::string text;
};

using Content = std::variant<TextContent, SystemContent, DeveloperContent>;

struct Author {
    Role role = Role::kUser;
    // For tool messages: the tool name that replaces the role word (e.g. "functions.get_weather").
    std::optional<std::string> name;
};

struct Message {
    Author author;
    std::optional<std::string> recipient;     // " to=..." in the header
    std::optional<std::string> channel;       // "analysis", "commentary", "final"
    std::optional<std::string> content_type;  // "json", "code", or "<|constrain|>json"
    std::vector<Content> content;

    static Message from_text(Role role, std::string text);
    static Message from_system(SystemContent system);
    static Message from_developer(DeveloperContent developer);
    // A tool result: author = tool `name`, addressed to the assistant on `channel` (harmony.md 8.2).
    static Message tool_result(std::string name, std::string text, std::optional<std::string> channel);

    Message& with_channel(std::string value);
    Message& with_recipient(std::string value);
    Message& with_content_type(std::string value);

    // The concatenation of the text parts.
    std::string text() const;
};

struct Conversation {
    std::vector<Message> messages;
};

}  // namespace gptoss::harmony
