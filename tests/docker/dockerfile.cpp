#include "tests/docker/dockerfile.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tests/support/fixture.h"

namespace gptoss::testing {

namespace {

std::string trim(std::string_view s) {
    size_t begin = 0;
    size_t end = s.size();
    while (begin < end && std::isspace(static_cast<unsigned char>(s[begin]))) ++begin;
    while (end > begin && std::isspace(static_cast<unsigned char>(s[end - 1]))) --end;
    return std::string(s.substr(begin, end - begin));
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

// ${NAME}, ${NAME:-default} and $NAME from `args`; unknown names become empty, as Docker does.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& args) {
    static const std::regex variable(
        R"(\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*))");
    std::string out;
    auto begin = std::sregex_iterator(text.begin(), text.end(), variable);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
        const std::smatch& m = *it;
        out += text.substr(last, m.position() - last);
        std::string name = m[1].matched ? m[1].str() : m[4].str();
        auto found = args.find(name);
        if (found != args.end() && !found->second.empty()) {
            out += found->second;
        } else if (m[3].matched) {
            out += m[3].str();
        }
        last = m.position() + m.length();
    }
    return out + text.substr(last);
}

// NAME=value (or bare NAME) tokens of ARG / ENV, with sh quoting rules.
std::map<std::string, std::string> parse_assignments(const std::string& arguments, int line) {
    std::map<std::string, std::string> out;
    std::vector<std::string> words = split_words(arguments);
    if (!words.empty() && words[0].find('=') == std::string::npos && words.size() > 1) {
        // Legacy form: ENV NAME value with spaces.
        std::string value = trim(arguments.substr(arguments.find(words[0]) + words[0].size()));
        out[words[0]] = value;
        return out;
    }
    for (const auto& word : words) {
        size_t eq = word.find('=');
        if (eq == 0) throw std::runtime_error("Dockerfile line " + std::to_string(line) + ": empty name");
        if (eq == std::string::npos) {
            out[word] = "";
        } else {
            out[word.substr(0, eq)] = word.substr(eq + 1);
        }
    }
    return out;
}

}  // namespace

std::vector<std::string> split_words(const std::string& text) {
    std::vector<std::string> words;
    std::string current;
    bool in_word = false;
    char quote = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (quote) {
            if (c == quote) {
                quote = 0;
            } else if (c == '\\' && quote == '"' && i + 1 < text.size()) {
                current += text[++i];
            } else {
                current += c;
            }
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == '\\' && i + 1 < text.size()) {
            current += text[++i];
            in_word = true;
        } else if (std::isspace(static_cast<unsigned char>(c))) {
            if (in_word) words.push_back(current);
            current.clear();
            in_word = false;
        } else {
            current += c;
            in_word = true;
        }
    }
    if (quote) throw std::runtime_error("unterminated quote in: " + text);
    if (in_word) words.push_back(current);
    return words;
}

std::vector<std::string> split_shell_commands(const std::string& line) {
    std::vector<std::string> parts;
    std::string current;
    char quote = 0;
    auto flush = [&] {
        std::string part = trim(current);
        if (!part.empty()) parts.push_back(part);
        current.clear();
    };
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (quote) {
            if (c == quote) quote = 0;
            current += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            current += c;
        } else if ((c == '&' || c == '|') && i + 1 < line.size() && line[i + 1] == c) {
            flush();
            ++i;
        } else if (c == ';') {
            flush();
        } else {
            current += c;
        }
    }
    flush();
    return parts;
}

std::optional<std::vector<std::string>> exec_form(const std::string& arguments) {
    std::string text = trim(arguments);
    if (text.empty() || text.front() != '[') return std::nullopt;
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_array()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& item : parsed) {
        if (!item.is_string()) return std::nullopt;
        out.push_back(item.get<std::string>());
    }
    return out;
}

std::optional<Healthcheck> parse_healthcheck(const std::string& arguments) {
    std::string rest = trim(arguments);
    if (upper(rest) == "NONE") return std::nullopt;
    Healthcheck check;
    while (rest.rfind("--", 0) == 0) {
        size_t end = rest.find_first_of(" \t");
        std::string option = rest.substr(2, end == std::string::npos ? std::string::npos : end - 2);
        size_t eq = option.find('=');
        check.options[option.substr(0, eq)] = eq == std::string::npos ? "" : option.substr(eq + 1);
        rest = end == std::string::npos ? "" : trim(rest.substr(end));
    }
    if (upper(rest.substr(0, 4)) != "CMD " && upper(rest.substr(0, 4)) != "CMD[") {
        throw std::runtime_error("HEALTHCHECK without CMD: " + arguments);
    }
    std::string command = trim(rest.substr(3));
    if (auto exec = exec_form(command)) {
        check.command = *exec;
    } else {
        check.command = {"/bin/sh", "-c", command};
    }
    return check;
}

std::vector<const DockerInstruction*> DockerStage::find(std::string_view keyword) const {
    std::vector<const DockerInstruction*> out;
    for (const auto& instruction : instructions) {
        if (instruction.keyword == keyword) out.push_back(&instruction);
    }
    return out;
}

std::map<std::string, std::string> DockerStage::env() const {
    std::map<std::string, std::string> out;
    for (const auto* instruction : find("ENV")) {
        for (auto& [name, value] : parse_assignments(instruction->arguments, instruction->line)) {
            out[name] = value;
        }
    }
    return out;
}

std::vector<std::string> DockerStage::run_commands() const {
    std::vector<std::string> out;
    for (const auto* instruction : find("RUN")) {
        if (exec_form(instruction->arguments)) continue;
        for (auto& command : split_shell_commands(instruction->arguments)) out.push_back(command);
    }
    return out;
}

const DockerStage* Dockerfile::stage(std::string_view name) const {
    for (const auto& s : stages) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

Dockerfile Dockerfile::parse(const std::string& text) {
    // Logical lines: comments dropped (also inside continuations, as Docker does), `\` at the end continues.
    std::vector<DockerInstruction> instructions;
    std::string pending;
    int pending_line = 0;
    int line_number = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        ++line_number;
        std::string stripped = trim(line);
        if (stripped.empty() || stripped.front() == '#') continue;
        bool continues = stripped.back() == '\\';
        if (continues) stripped = trim(stripped.substr(0, stripped.size() - 1));
        if (pending.empty()) pending_line = line_number;
        pending += pending.empty() ? stripped : " " + stripped;
        if (continues) continue;
        size_t space = pending.find_first_of(" \t");
        if (space == std::string::npos) {
            throw std::runtime_error("Dockerfile line " + std::to_string(pending_line) +
                                     ": instruction without arguments");
        }
        instructions.push_back({upper(pending.substr(0, space)), trim(pending.substr(space)), pending_line});
        pending.clear();
    }
    if (!pending.empty()) {
        throw std::runtime_error("Dockerfile line " + std::to_string(pending_line) +
                                 ": dangling continuation");
    }

    Dockerfile file;
    for (auto& instruction : instructions) {
        if (instruction.keyword == "FROM") {
            std::vector<std::string> words = split_words(instruction.arguments);
            std::vector<std::string> kept;
            for (auto& w : words) {
                if (w.rfind("--", 0) != 0) kept.push_back(w);  // --platform=...
            }
            DockerStage stage;
            if (kept.size() == 3 && upper(kept[1]) == "AS") {
                stage.name = kept[2];
            } else if (kept.size() != 1) {
                throw std::runtime_error("Dockerfile line " + std::to_string(instruction.line) +
                                         ": FROM expects 'image [AS name]'");
            }
            stage.image = substitute(kept[0], file.global_args);
            file.stages.push_back(std::move(stage));
        } else if (file.stages.empty()) {
            if (instruction.keyword != "ARG") {
                throw std::runtime_error("Dockerfile line " + std::to_string(instruction.line) +
                                         ": only ARG may come before the first FROM");
            }
            for (auto& [name, value] : parse_assignments(instruction.arguments, instruction.line)) {
                file.global_args[name] = value;
            }
        } else {
            file.stages.back().instructions.push_back(std::move(instruction));
        }
    }
    if (file.stages.empty()) throw std::runtime_error("Dockerfile has no FROM");
    return file;
}

Dockerfile Dockerfile::load(const std::filesystem::path& path) {
    try {
        return parse(read_file(path));
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(path.string() + ": " + e.what());
    }
}

}  // namespace gptoss::testing
