// FlagSet: command-line flags for one gptoss subcommand, with GPTOSS_* environment fallbacks and --help text.
//
// Each flag binds a variable whose current value is the default (shown in --help). Precedence:
// command line > environment variable (GPTOSS_<FLAG_NAME>, dashes as underscores) > default.
// Errors (unknown flag, missing or malformed value) throw CliError with a one-line message.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gptoss {

class CliError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class FlagSet {
public:
    // use_env: whether flags fall back to GPTOSS_* environment variables (serve does; one-shot tools need
    // not).
    FlagSet(std::string command, std::string usage, std::string summary, bool use_env = false);

    void add_string(const std::string& name, std::string* target, const std::string& help);
    void add_optional_string(const std::string& name, std::optional<std::string>* target,
                             const std::string& help);
    void add_int(const std::string& name, int* target, const std::string& help);
    void add_int64(const std::string& name, int64_t* target, const std::string& help);
    void add_optional_int(const std::string& name, std::optional<int>* target, const std::string& help);
    void add_double(const std::string& name, double* target, const std::string& help);
    void add_optional_double(const std::string& name, std::optional<double>* target, const std::string& help);
    // A byte count: plain integer or with a suffix (K, M, G, T; KiB, MiB, GiB, TiB; KB, MB, GB, TB).
    void add_optional_bytes(const std::string& name, std::optional<int64_t>* target, const std::string& help);
    // A switch: "--name" sets true; "--name=false" and env values 0/false/no/off set false.
    void add_bool(const std::string& name, bool* target, const std::string& help);
    // Restricts a string flag to a fixed set of values.
    void add_choice(const std::string& name, std::string* target, std::vector<std::string> choices,
                    const std::string& help);

    // Parses argv (without the program and subcommand words). Returns false when --help was given
    // (the caller prints help() and exits 0).
    bool parse(const std::vector<std::string>& args);
    bool was_set(const std::string& name) const;
    std::string help() const;
    // The environment variable a flag falls back to, e.g. "max-num-seqs" -> "GPTOSS_MAX_NUM_SEQS".
    static std::string env_name(const std::string& flag);
    // Parses "8GiB", "512M", "1000000" -> bytes; nullopt when malformed.
    static std::optional<int64_t> parse_bytes(const std::string& text);

private:
    struct Flag {
        std::string name;
        std::string help;
        std::string default_text;
        bool is_switch = false;
        bool set = false;
        std::function<void(const std::string&)> assign;  // throws CliError with the problem
    };
    Flag& add(const std::string& name, const std::string& help, std::string default_text, bool is_switch,
              std::function<void(const std::string&)> assign);
    Flag* find(const std::string& name);
    const Flag* find(const std::string& name) const;

    std::string command_;
    std::string usage_;
    std::string summary_;
    bool use_env_;
    std::vector<Flag> flags_;
};

}  // namespace gptoss
