// `gptoss render` and `gptoss parse`: the harmony renderer and streaming parser on one peer case read from
// stdin (the shape of ../shared/peer/harmony/{render,parse}/*.json), so that anyone can check the format
// against any peer's vectors.
#include <climits>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/cli_flags.h"
#include "tokenizer/harmony/message_json.h"
#include "tokenizer/harmony/parser.h"
#include "tokenizer/harmony/renderer.h"
#include "tokenizer/tokenizer.h"
#include "tools/commands.h"

namespace gptoss::cli {

namespace {

using Json = nlohmann::ordered_json;

Json read_case_from_stdin(const std::string& command) {
    std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    try {
        Json json = Json::parse(text);
        if (!json.is_object()) throw CliError(command + ": stdin must hold one JSON object (a peer case)");
        return json;
    } catch (const nlohmann::json::parse_error& e) {
        throw CliError(command + ": stdin is not valid JSON (" + std::string(e.what()) + ")");
    }
}

const Json& object_or_empty(const Json& json, const char* key) {
    static const Json kEmpty = Json::object();
    auto it = json.find(key);
    return it == json.end() || !it->is_object() ? kEmpty : *it;
}

harmony::Role role_option(const Json& options, const char* key, harmony::Role fallback,
                          const std::string& command) {
    auto it = options.find(key);
    if (it == options.end() || it->is_null()) return fallback;
    auto role = it->is_string() ? harmony::role_from_name(it->get<std::string>()) : std::nullopt;
    if (!role)
        throw CliError(command + ": options." + key +
                       " must name a role (system, developer, user, assistant, tool)");
    return *role;
}

harmony::RenderedPieces render_case(const Json& test_case) {
    const Json& options = object_or_empty(test_case, "options");
    auto conversation_json = test_case.find("conversation");
    if (conversation_json == test_case.end()) throw CliError("render: the case has no \"conversation\"");
    const harmony::Conversation conversation = harmony::conversation_from_json(*conversation_json);
    harmony::RenderConfig config;
    if (auto drop = options.find("auto_drop_analysis"); drop != options.end() && drop->is_boolean()) {
        config.auto_drop_analysis = drop->get<bool>();
    }
    const std::string operation = test_case.value("operation", "render_conversation_for_completion");
    if (operation == "render_conversation_for_completion") {
        const harmony::Role next =
            role_option(options, "next_turn_role", harmony::Role::kAssistant, "render");
        return harmony::render_conversation_for_completion(conversation, next, config);
    }
    if (operation == "render_conversation") return harmony::render_conversation(conversation, config);
    if (operation == "render_conversation_for_training") {
        return harmony::render_conversation_for_training(conversation, config);
    }
    throw CliError(
        "render: unknown operation \"" + operation +
        "\" (render_conversation_for_completion, render_conversation, render_conversation_for_training)");
}

// Token ids as the cases write them; an id beyond int32 (e.g. u32::MAX) is outside every vocabulary.
std::vector<int32_t> case_tokens(const Json& test_case) {
    auto it = test_case.find("tokens");
    if (it == test_case.end() || !it->is_array()) throw CliError("parse: the case has no \"tokens\" array");
    std::vector<int32_t> tokens;
    for (const Json& id : *it) {
        if (!id.is_number_integer()) throw CliError("parse: \"tokens\" must hold integer token ids");
        const bool fits = id.is_number_unsigned()
                              ? id.get<uint64_t>() <= INT32_MAX
                              : id.get<int64_t>() >= INT32_MIN && id.get<int64_t>() <= INT32_MAX;
        tokens.push_back(fits ? static_cast<int32_t>(id.get<int64_t>()) : -1);
    }
    return tokens;
}

}  // namespace

int render_command(const Args& args) {
    std::string tokenizer_path;
    bool text = false;
    FlagSet flags("render", "gptoss render --tokenizer FILE [--text] < case.json",
                  "Renders one harmony render case (operation, options, conversation; the shape of "
                  "peer/harmony/render/*.json) read from stdin and prints its token ids as a JSON array.");
    flags.add_string("tokenizer", &tokenizer_path, "tokenizer.json, .tiktoken file or checkpoint folder");
    flags.add_bool("text", &text, "print the rendered text instead of token ids (no tokenizer needed)");
    if (!flags.parse(args)) {
        fmt::print("{}", flags.help());
        return 0;
    }
    const harmony::RenderedPieces pieces = render_case(read_case_from_stdin("render"));
    if (text) {
        const std::string rendered = harmony::pieces_to_text(pieces);
        std::fwrite(rendered.data(), 1, rendered.size(), stdout);
        return 0;
    }
    if (tokenizer_path.empty()) throw CliError("render: --tokenizer is required to print token ids");
    const auto tokenizer = Tokenizer::from_file(tokenizer_path);
    fmt::print("{}\n", Json(harmony::pieces_to_tokens(pieces, *tokenizer)).dump());
    return 0;
}

int parse_command(const Args& args) {
    std::string tokenizer_path;
    bool tolerant = false;
    FlagSet flags("parse", "gptoss parse --tokenizer FILE [--tolerant] < case.json",
                  "Parses the token ids of one harmony parse case (operation, options, tokens; the shape of "
                  "peer/harmony/parse/*.json) read from stdin and prints {\"messages\": [...]}, or "
                  "{\"error\": \"...\"} where harmony's parser fails.");
    flags.add_string("tokenizer", &tokenizer_path, "tokenizer.json, .tiktoken file or checkpoint folder");
    flags.add_bool("tolerant", &tolerant,
                   "parse as the server does: never fail, repair malformed output and list \"warnings\"");
    if (!flags.parse(args)) {
        fmt::print("{}", flags.help());
        return 0;
    }
    if (tokenizer_path.empty()) throw CliError("parse: --tokenizer is required");
    const Json test_case = read_case_from_stdin("parse");
    const Json& options = object_or_empty(test_case, "options");
    const std::string operation = test_case.value("operation", "parse_messages_from_completion_tokens");
    if (operation != "parse_messages_from_completion_tokens" && operation != "streamable_parser") {
        throw CliError("parse: unknown operation \"" + operation +
                       "\" (parse_messages_from_completion_tokens, streamable_parser)");
    }
    harmony::ParserOptions parser_options;
    auto role = options.find("role");
    parser_options.initial_role =
        role == options.end() || role->is_null()
            ? std::nullopt
            : std::optional(role_option(options, "role", harmony::Role::kAssistant, "parse"));
    const bool strict = options.value("strict", true);
    parser_options.mode = tolerant ? harmony::ParseMode::kTolerant
                          : strict ? harmony::ParseMode::kStrict
                                   : harmony::ParseMode::kNonStrict;
    const bool process_eos =
        operation == "parse_messages_from_completion_tokens" || options.value("call_process_eos", false);
    const std::vector<int32_t> tokens = case_tokens(test_case);

    const auto tokenizer = Tokenizer::from_file(tokenizer_path);
    harmony::StreamParser parser(tokenizer, parser_options);
    Json out;
    try {
        for (int32_t token : tokens) parser.process(token);
        if (process_eos) parser.process_eos();
        out["messages"] = Json::array();
        for (const auto& message : parser.messages())
            out["messages"].push_back(harmony::message_to_json(message));
        if (tolerant) out["warnings"] = parser.warnings();
    } catch (const harmony::ParseError& e) {
        out = {{"error", e.what()}};
    }
    fmt::print("{}\n", out.dump(-1, ' ', false, Json::error_handler_t::replace));
    return 0;
}

}  // namespace gptoss::cli
