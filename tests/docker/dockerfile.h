// Dockerfile: a reader of the Dockerfile subset docker/ uses, for checking the images without a Docker
// engine: instructions with line continuations and comments, stages (FROM ... AS name), global ARG defaults
// substituted into FROM, ENV in both forms, exec-form (JSON) arguments, and RUN shell commands split at
// &&, || and ; outside quotes. Heredocs and the escape directive are not supported (docker/ uses neither).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gptoss::testing {

struct DockerInstruction {
    std::string keyword;    // upper case: FROM, RUN, COPY, ...
    std::string arguments;  // the rest of the instruction, continuation lines joined with single spaces
    int line = 0;           // 1-based line of the keyword
};

struct DockerStage {
    std::string image;                            // FROM's image, global ARG defaults substituted
    std::string name;                             // AS name; empty when unnamed
    std::vector<DockerInstruction> instructions;  // those after FROM, in order

    std::vector<const DockerInstruction*> find(std::string_view keyword) const;
    // ENV variables set in this stage, later ones overriding earlier ones.
    std::map<std::string, std::string> env() const;
    // The commands of every shell-form RUN, split at &&, || and ; outside quotes, trimmed, in order.
    std::vector<std::string> run_commands() const;
};

struct Dockerfile {
    std::map<std::string, std::string> global_args;  // ARGs before the first FROM, with their defaults
    std::vector<DockerStage> stages;

    // Throws std::runtime_error naming the line on malformed input.
    static Dockerfile parse(const std::string& text);
    static Dockerfile load(const std::filesystem::path& path);
    const DockerStage* stage(std::string_view name) const;
};

// A JSON-array (exec form) argument list; nullopt for the shell form.
std::optional<std::vector<std::string>> exec_form(const std::string& arguments);
// Splits a shell command line at &&, || and ; outside quotes; parts are trimmed, empty ones dropped.
std::vector<std::string> split_shell_commands(const std::string& line);
// Splits at whitespace outside quotes, removing the quotes and backslash escapes (word splitting of sh).
std::vector<std::string> split_words(const std::string& text);

struct Healthcheck {
    std::map<std::string, std::string> options;  // --interval=30s -> {"interval", "30s"}
    std::vector<std::string> command;            // exec form as given; shell form as {"/bin/sh", "-c", line}
};
// Parses HEALTHCHECK's arguments; nullopt for HEALTHCHECK NONE.
std::optional<Healthcheck> parse_healthcheck(const std::string& arguments);

}  // namespace gptoss::testing
