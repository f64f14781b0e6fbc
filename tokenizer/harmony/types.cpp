#include "tokenizer/harmony/types.h"

#include <array>
#include <utility>

namespace gptoss::harmony {

namespace {

constexpr std::array<std::pair<Role, std::string_view>, 5> kRoleNames = {{
    {Role::kSystem, "system"},
    {Role::kDeveloper, "developer"},
    {Role::kUser, "user"},
    {Role::kAssistant, "assistant"},
    {Role::kTool, "tool"},
}};

constexpr std::array<std::pair<ReasoningEffort, std::string_view>, 3> kEffortNames = {{
    {ReasoningEffort::kLow, "low"},
    {ReasoningEffort::kMedium, "medium"},
    {ReasoningEffort::kHigh, "high"},
}};

}  // namespace

std::string_view role_name(Role role) {
    for (const auto& [r, name] : kRoleNames) {
        if (r == role) return name;
    }
    return "user";
}

std::optional<Role> role_from_name(std::string_view name) {
    for (const auto& [r, n] : kRoleNames) {
        if (n == name) return r;
    }
    return std::nullopt;
}

std::string_view reasoning_effort_name(ReasoningEffort effort) {
    for (const auto& [e, name] : kEffortNames) {
        if (e == effort) return name;
    }
    return "medium";
}

std::optional<ReasoningEffort> reasoning_effort_from_name(std::string_view name) {
    for (const auto& [e, n] : kEffortNames) {
        if (n == name) return e;
    }
    return std::nullopt;
}

ChannelConfig ChannelConfig::all_required() {
    return ChannelConfig{{"analysis", "commentary", "final"}, true};
}

SystemContent SystemContent::defaults() {
    SystemContent system;
    system.model_identity = "You are ChatGPT, a large language model trained by OpenAI.";
    system.reasoning_effort = ReasoningEffort::kMedium;
    system.knowledge_cutoff = "2024-06";
    system.channel_config = ChannelConfig::all_required();
    return system;
}

Message Message::from_text(Role role, std::string text) {
    Message message;
    message.author.role = role;
    message.content.emplace_back(TextContent{std::move(text)});
    return message;
}

Message Message::from_system(SystemContent system) {
    Message message;
    message.author.role = Role::kSystem;
    message.content.emplace_back(std::move(system));
    return message;
}

Message Message::from_developer(DeveloperContent developer) {
    Message message;
    message.author.role = Role::kDeveloper;
    message.content.emplace_back(std::move(developer));
    return message;
}

Message Message::tool_result(std::string name, std::string text, std::optional<std::string> channel) {
    Message message = from_text(Role::kTool, std::move(text));
    message.author.name = std::move(name);
    message.recipient = "assistant";
    message.channel = std::move(channel);
    return message;
}

Message& Message::with_channel(std::string value) {
    channel = std::move(value);
    return *this;
}

Message& Message::with_recipient(std::string value) {
    recipient = std::move(value);
    return *this;
}

Message& Message::with_content_type(std::string value) {
    content_type = std::move(value);
    return *this;
}

std::string Message::text() const {
    std::string out;
    for (const auto& part : content) {
        if (const auto* text = std::get_if<TextContent>(&part)) out += text->text;
    }
    return out;
}

}  // namespace gptoss::harmony
