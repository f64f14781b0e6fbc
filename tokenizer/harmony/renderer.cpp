#include "tokenizer/harmony/renderer.h"

#include <string_view>

#include "tokenizer/harmony/json_schema_typescript.h"
#include "tokenizer/tokenizer.h"

namespace gptoss::harmony {

namespace {

constexpr std::string_view kStart = "<|start|>";
constexpr std::string_view kMessage = "<|message|>";
constexpr std::string_view kEnd = "<|end|>";
constexpr std::string_view kCall = "<|call|>";
constexpr std::string_view kReturn = "<|return|>";
constexpr std::string_view kChannel = "<|channel|>";
constexpr std::string_view kConstrain = "<|constrain|>";

void add_token(RenderedPieces& out, std::string_view name) {
    out.push_back({true, std::string(name)});
}

void add_text(RenderedPieces& out, std::string text) {
    out.push_back({false, std::move(text)});
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out += separator;
        out += parts[i];
    }
    return out;
}

// Rust's str::lines(): split on '\n', drop a '\r' before it, and no empty last line after a final '\n'.
std::vector<std::string> text_lines(std::string_view text) {
    std::vector<std::string> lines;
    while (!text.empty()) {
        const size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        if (newline != std::string_view::npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.emplace_back(line);
        if (newline == std::string_view::npos) break;
        text.remove_prefix(newline + 1);
    }
    return lines;
}

// "# Tools" then one block per namespace (sorted by name), blocks separated by a blank line.
std::string tools_section(const ToolNamespaces& namespaces) {
    std::vector<std::string> sections{"# Tools"};
    for (const auto& [key, ns] : namespaces) {
        std::vector<std::string> lines{"## " + ns.name + "\n"};
        if (ns.description) {
            for (const auto& line : text_lines(*ns.description)) {
                // A namespace with tools comments its prose; without tools (python) the prose stands alone.
                lines.push_back(ns.tools.empty() ? line : "// " + line);
            }
        }
        if (!ns.tools.empty()) {
            lines.push_back("namespace " + ns.name + " {\n");
            for (const auto& tool : ns.tools) {
                for (const auto& line : text_lines(tool.description)) lines.push_back("// " + line);
                if (tool.parameters) {
                    lines.push_back("type " + tool.name +
                                    " = (_: " + json_schema_to_typescript(*tool.parameters) + ") => any;\n");
                } else {
                    lines.push_back("type " + tool.name + " = () => any;\n");
                }
            }
            lines.push_back("} // namespace " + ns.name);
        }
        sections.push_back(join(lines, "\n"));
    }
    return join(sections, "\n\n");
}

std::string system_text(const SystemContent& system, bool conversation_has_function_tools) {
    std::vector<std::string> sections;
    std::vector<std::string> top;
    if (system.model_identity) top.push_back(*system.model_identity);
    if (system.knowledge_cutoff) top.push_back("Knowledge cutoff: " + *system.knowledge_cutoff);
    if (system.conversation_start_date) top.push_back("Current date: " + *system.conversation_start_date);
    if (!top.empty()) sections.push_back(join(top, "\n"));
    if (system.reasoning_effort) {
        sections.push_back("Reasoning: " + std::string(reasoning_effort_name(*system.reasoning_effort)));
    }
    if (system.tools && !system.tools->empty()) sections.push_back(tools_section(*system.tools));
    if (system.channel_config && !system.channel_config->valid_channels.empty()) {
        std::string channels = "# Valid channels: " + join(system.channel_config->valid_channels, ", ") + ".";
        if (system.channel_config->channel_required)
            channels += " Channel must be included for every message.";
        if (conversation_has_function_tools) {
            channels += "\nCalls to these tools must go to the commentary channel: 'functions'.";
        }
        sections.push_back(channels);
    }
    return join(sections, "\n\n");
}

std::string response_formats_section(const std::vector<ResponseFormat>& formats) {
    std::vector<std::string> blocks;
    for (const auto& format : formats) {
        std::string block = "## " + format.name + "\n\n";
        if (format.description) {
            for (const auto& line : text_lines(*format.description)) block += "// " + line + "\n";
        }
        block += to_compact_json(format.schema);
        blocks.push_back(std::move(block));
    }
    return "# Response Formats\n\n" + join(blocks, "\n\n");
}

std::string developer_text(const DeveloperContent& developer) {
    std::vector<std::string> sections;
    if (developer.instructions) {
        sections.emplace_back("# Instructions");
        sections.push_back(*developer.instructions);
    }
    if (developer.tools && !developer.tools->empty()) sections.push_back(tools_section(*developer.tools));
    if (!developer.response_formats.empty())
        sections.push_back(response_formats_section(developer.response_formats));
    return join(sections, "\n\n");
}

bool has_function_tools(const Conversation& conversation) {
    for (const auto& message : conversation.messages) {
        for (const auto& part : message.content) {
            const auto* developer = std::get_if<DeveloperContent>(&part);
            if (developer == nullptr || !developer->tools) continue;
            auto it = developer->tools->find("functions");
            if (it != developer->tools->end() && !it->second.tools.empty()) return true;
        }
    }
    return false;
}

// Index of the messages to render after harmony's analysis-dropping rule.
std::vector<size_t> kept_messages(const Conversation& conversation, const RenderConfig& config) {
    const auto& messages = conversation.messages;
    bool last_assistant_is_final = false;
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
        if (it->author.role == Role::kAssistant) {
            last_assistant_is_final = it->channel == "final";
            break;
        }
    }
    const bool drop = config.auto_drop_analysis && last_assistant_is_final;
    size_t first_final = messages.size();
    for (size_t i = 0; i < messages.size(); ++i) {
        if (messages[i].channel == "final") {
            first_final = i;
            break;
        }
    }
    std::vector<size_t> kept;
    for (size_t i = 0; i < messages.size(); ++i) {
        if (drop && i < first_final && messages[i].channel == "analysis") continue;
        kept.push_back(i);
    }
    return kept;
}

}  // namespace

RenderedPieces render_message(const Message& message, bool conversation_has_function_tools) {
    RenderedPieces out;
    add_token(out, kStart);
    if (message.author.role == Role::kTool) {
        if (!message.author.name) throw RenderError("a tool message needs the tool name as its author name");
        add_text(out, *message.author.name);
    } else {
        add_text(out, std::string(role_name(message.author.role)));
        if (message.author.name) add_text(out, ":" + *message.author.name);
    }
    if (message.recipient && *message.recipient != "all") add_text(out, " to=" + *message.recipient);
    if (message.channel) {
        add_token(out, kChannel);
        add_text(out, *message.channel);
    }
    if (message.content_type) {
        const std::string& type = *message.content_type;
        if (type.starts_with(kConstrain)) {
            add_text(out, " ");
            add_token(out, kConstrain);
            if (type.size() > kConstrain.size()) add_text(out, type.substr(kConstrain.size()));
        } else {
            add_text(out, " " + type);
        }
    }
    add_token(out, kMessage);
    for (const auto& part : message.content) {
        if (const auto* text = std::get_if<TextContent>(&part)) {
            add_text(out, text->text);
        } else if (const auto* system = std::get_if<SystemContent>(&part)) {
            if (message.author.role != Role::kSystem) {
                throw RenderError("system content may only appear in a system message, found in a " +
                                  std::string(role_name(message.author.role)) + " message");
            }
            add_text(out, system_text(*system, conversation_has_function_tools));
        } else if (const auto* developer = std::get_if<DeveloperContent>(&part)) {
            if (message.author.role != Role::kDeveloper) {
                throw RenderError("developer content may only appear in a developer message, found in a " +
                                  std::string(role_name(message.author.role)) + " message");
            }
            add_text(out, developer_text(*developer));
        }
    }
    // An assistant message with any recipient (even "all", which is not printed) is a call.
    add_token(out, message.author.role == Role::kAssistant && message.recipient ? kCall : kEnd);
    return out;
}

RenderedPieces render_conversation(const Conversation& conversation, const RenderConfig& config) {
    const bool function_tools = has_function_tools(conversation);
    RenderedPieces out;
    for (size_t index : kept_messages(conversation, config)) {
        RenderedPieces message = render_message(conversation.messages[index], function_tools);
        out.insert(out.end(), message.begin(), message.end());
    }
    return out;
}

RenderedPieces render_conversation_for_completion(const Conversation& conversation, Role next_turn_role,
                                                  const RenderConfig& config) {
    RenderedPieces out = render_conversation(conversation, config);
    add_token(out, kStart);
    add_text(out, std::string(role_name(next_turn_role)));
    return out;
}

RenderedPieces render_conversation_for_training(const Conversation& conversation,
                                                const RenderConfig& config) {
    RenderedPieces out = render_conversation(conversation, config);
    if (conversation.messages.empty() || out.empty()) return out;
    const Message& last = conversation.messages.back();
    if (last.author.role == Role::kAssistant && last.channel == "final")
        out.back() = {true, std::string(kReturn)};
    return out;
}

std::string pieces_to_text(const RenderedPieces& pieces) {
    std::string out;
    for (const auto& piece : pieces) out += piece.text;
    return out;
}

std::vector<int32_t> pieces_to_tokens(const RenderedPieces& pieces, const Tokenizer& tokenizer) {
    std::vector<int32_t> out;
    for (const auto& piece : pieces) {
        if (piece.is_formatting_token) {
            auto id = tokenizer.special_token_id(piece.text);
            if (!id) throw RenderError("the tokenizer has no special token " + piece.text);
            out.push_back(*id);
        } else if (!piece.text.empty()) {
            auto ids = tokenizer.encode_ordinary(piece.text);
            out.insert(out.end(), ids.begin(), ids.end());
        }
    }
    return out;
}

}  // namespace gptoss::harmony
