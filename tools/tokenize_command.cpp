// gptoss tokenize / detokenize: text <-> o200k_harmony token ids from the command line.
//
//   gptoss tokenize --tokenizer FILE [--allow-special] [--jsonl]   stdin text -> JSON array of ids
//   gptoss detokenize --tokenizer FILE [--jsonl]                   stdin JSON array of ids -> text
//
// FILE is a tokenizer.json, an o200k_base.tiktoken rank file, or a checkpoint folder (chosen by content).
// Without --jsonl the whole of stdin is one text, byte for byte (a trailing newline is part of it), and
// detokenize prints the text with nothing added. With --jsonl every line is one JSON value (a string for
// tokenize, an array of ids for detokenize) and one JSON value is printed per line: one vocabulary load for a
// whole batch.
#include <cstdio>
#include <iostream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/cli_flags.h"
#include "tokenizer/tokenizer.h"
#include "tools/commands.h"

namespace gptoss::cli {

namespace {

using nlohmann::json;

struct Options {
    std::string tokenizer;
    bool allow_special = false;
    bool jsonl = false;
};

// Parses the flags; false when --help was printed.
bool parse_options(const std::string& command, const Args& args, bool with_allow_special, Options& options) {
    const bool is_tokenize = with_allow_special;
    FlagSet flags(
        command,
        is_tokenize ? "--tokenizer FILE [--allow-special] [--jsonl] < text"
                    : "--tokenizer FILE [--jsonl] < ids.json",
        is_tokenize
            ? "Encodes UTF-8 text from stdin into o200k_harmony token ids (a JSON array)."
            : "Decodes a JSON array of token ids from stdin into text (invalid UTF-8 becomes U+FFFD).");
    flags.add_string(
        "tokenizer", &options.tokenizer,
        "tokenizer.json, o200k_base.tiktoken, or a checkpoint folder (the format is read from the content)");
    if (with_allow_special) {
        flags.add_bool(
            "allow-special", &options.allow_special,
            "turn special-token strings such as <|start|> into their ids (default: encode them as text)");
    }
    flags.add_bool("jsonl", &options.jsonl,
                   is_tokenize ? "read one JSON string per line, print one JSON array per line"
                               : "read one JSON array of ids per line, print one JSON string per line");
    if (!flags.parse(args)) {
        const std::string help = flags.help();
        fmt::print("{}{}", help, help.ends_with('\n') ? "" : "\n");
        return false;
    }
    if (options.tokenizer.empty()) throw CliError(fmt::format("{}: --tokenizer FILE is required", command));
    return true;
}

std::string read_stdin() {
    std::string data;
    char buffer[1 << 16];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), stdin)) > 0) data.append(buffer, n);
    if (std::ferror(stdin)) throw std::runtime_error("cannot read stdin");
    return data;
}

bool is_blank(const std::string& line) {
    return line.find_first_not_of(" \t\r") == std::string::npos;
}

json parse_line(const std::string& line, size_t line_number) {
    try {
        return json::parse(line);
    } catch (const json::exception& e) {
        throw std::runtime_error(fmt::format("stdin line {} is not valid JSON: {}", line_number, e.what()));
    }
}

std::vector<int32_t> parse_ids(const json& value, const std::string& where) {
    if (!value.is_array())
        throw std::runtime_error(fmt::format("{}: expected a JSON array of token ids", where));
    std::vector<int32_t> ids;
    ids.reserve(value.size());
    for (const auto& v : value) {
        if (!v.is_number_integer() || v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX) {
            throw std::runtime_error(fmt::format("{}: {} is not a token id (an integer)", where, v.dump()));
        }
        ids.push_back(v.get<int32_t>());
    }
    return ids;
}

std::string ids_json(const std::vector<int32_t>& ids) {
    return fmt::format("[{}]", fmt::join(ids, ","));
}

}  // namespace

int tokenize_command(const Args& args) {
    Options options;
    if (!parse_options("tokenize", args, true, options)) return 0;
    const auto tokenizer = Tokenizer::from_file(options.tokenizer);
    const SpecialTokenPolicy policy =
        options.allow_special ? SpecialTokenPolicy::all() : SpecialTokenPolicy::none();
    if (!options.jsonl) {
        fmt::print("{}\n", ids_json(tokenizer->encode(read_stdin(), policy)));
        return 0;
    }
    std::string line;
    for (size_t line_number = 1; std::getline(std::cin, line); ++line_number) {
        if (is_blank(line)) continue;
        const json value = parse_line(line, line_number);
        if (!value.is_string())
            throw std::runtime_error(fmt::format("stdin line {}: expected a JSON string", line_number));
        fmt::print("{}\n", ids_json(tokenizer->encode(value.get<std::string>(), policy)));
    }
    return 0;
}

int detokenize_command(const Args& args) {
    Options options;
    if (!parse_options("detokenize", args, false, options)) return 0;
    const auto tokenizer = Tokenizer::from_file(options.tokenizer);
    if (!options.jsonl) {
        const std::string input = read_stdin();
        if (is_blank(input)) throw std::runtime_error("stdin: expected a JSON array of token ids");
        json value;
        try {
            value = json::parse(input);
        } catch (const json::exception& e) {
            throw std::runtime_error(fmt::format("stdin is not valid JSON: {}", e.what()));
        }
        const std::string text = tokenizer->decode(parse_ids(value, "stdin"));
        std::fwrite(text.data(), 1, text.size(), stdout);
        return 0;
    }
    std::string line;
    for (size_t line_number = 1; std::getline(std::cin, line); ++line_number) {
        if (is_blank(line)) continue;
        const auto ids = parse_ids(parse_line(line, line_number), fmt::format("stdin line {}", line_number));
        fmt::print("{}\n", json(tokenizer->decode(ids)).dump());
    }
    return 0;
}

}  // namespace gptoss::cli
