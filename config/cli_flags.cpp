#include "config/cli_flags.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

namespace gptoss {

namespace {

std::optional<long long> parse_integer(const std::string& text) {
    if (text.empty()) return std::nullopt;
    size_t used = 0;
    try {
        long long v = std::stoll(text, &used, 10);
        if (used != text.size()) return std::nullopt;
        return v;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<double> parse_real(const std::string& text) {
    if (text.empty()) return std::nullopt;
    size_t used = 0;
    try {
        double v = std::stod(text, &used);
        if (used != text.size() || !std::isfinite(v)) return std::nullopt;
        return v;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<bool> parse_switch(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
    if (text == "0" || text == "false" || text == "no" || text == "off") return false;
    return std::nullopt;
}

std::string format_double(double v) {
    return fmt::format("{}", v);
}

}  // namespace

FlagSet::FlagSet(std::string command, std::string usage, std::string summary, bool use_env)
    : command_(std::move(command)),
      usage_(std::move(usage)),
      summary_(std::move(summary)),
      use_env_(use_env) {}

FlagSet::Flag& FlagSet::add(const std::string& name, const std::string& help, std::string default_text,
                            bool is_switch, std::function<void(const std::string&)> assign) {
    flags_.push_back(Flag{name, help, std::move(default_text), is_switch, false, std::move(assign)});
    return flags_.back();
}

void FlagSet::add_string(const std::string& name, std::string* target, const std::string& help) {
    add(name, help, target->empty() ? "" : *target, false, [target](const std::string& v) { *target = v; });
}

void FlagSet::add_optional_string(const std::string& name, std::optional<std::string>* target,
                                  const std::string& help) {
    add(name, help, target->value_or(""), false, [target](const std::string& v) { *target = v; });
}

void FlagSet::add_int(const std::string& name, int* target, const std::string& help) {
    add(name, help, std::to_string(*target), false, [target, name](const std::string& v) {
        auto x = parse_integer(v);
        if (!x || *x < std::numeric_limits<int>::min() || *x > std::numeric_limits<int>::max()) {
            throw CliError(fmt::format("--{} expects an integer, got '{}'", name, v));
        }
        *target = static_cast<int>(*x);
    });
}

void FlagSet::add_int64(const std::string& name, int64_t* target, const std::string& help) {
    add(name, help, std::to_string(*target), false, [target, name](const std::string& v) {
        auto x = parse_integer(v);
        if (!x) throw CliError(fmt::format("--{} expects an integer, got '{}'", name, v));
        *target = *x;
    });
}

void FlagSet::add_optional_int(const std::string& name, std::optional<int>* target, const std::string& help) {
    add(name, help, target->has_value() ? std::to_string(**target) : "", false,
        [target, name](const std::string& v) {
            auto x = parse_integer(v);
            if (!x || *x < std::numeric_limits<int>::min() || *x > std::numeric_limits<int>::max()) {
                throw CliError(fmt::format("--{} expects an integer, got '{}'", name, v));
            }
            *target = static_cast<int>(*x);
        });
}

void FlagSet::add_double(const std::string& name, double* target, const std::string& help) {
    add(name, help, format_double(*target), false, [target, name](const std::string& v) {
        auto x = parse_real(v);
        if (!x) throw CliError(fmt::format("--{} expects a number, got '{}'", name, v));
        *target = *x;
    });
}

void FlagSet::add_optional_double(const std::string& name, std::optional<double>* target,
                                  const std::string& help) {
    add(name, help, target->has_value() ? format_double(**target) : "", false,
        [target, name](const std::string& v) {
            auto x = parse_real(v);
            if (!x) throw CliError(fmt::format("--{} expects a number, got '{}'", name, v));
            *target = *x;
        });
}

void FlagSet::add_optional_bytes(const std::string& name, std::optional<int64_t>* target,
                                 const std::string& help) {
    add(name, help, target->has_value() ? std::to_string(**target) : "", false,
        [target, name](const std::string& v) {
            auto x = parse_bytes(v);
            if (!x)
                throw CliError(
                    fmt::format("--{} expects a byte count such as 8GiB or 500000000, got '{}'", name, v));
            *target = *x;
        });
}

void FlagSet::add_bool(const std::string& name, bool* target, const std::string& help) {
    add(name, help, *target ? "true" : "false", true, [target, name](const std::string& v) {
        auto x = parse_switch(v);
        if (!x) throw CliError(fmt::format("--{} expects true or false, got '{}'", name, v));
        *target = *x;
    });
}

void FlagSet::add_choice(const std::string& name, std::string* target, std::vector<std::string> choices,
                         const std::string& help) {
    std::string full_help = fmt::format("{} (one of: {})", help, fmt::join(choices, ", "));
    add(name, full_help, *target, false, [target, name, choices](const std::string& v) {
        if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
            throw CliError(
                fmt::format("--{} must be one of {}, got '{}'", name, fmt::join(choices, ", "), v));
        }
        *target = v;
    });
}

FlagSet::Flag* FlagSet::find(const std::string& name) {
    for (auto& f : flags_) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

const FlagSet::Flag* FlagSet::find(const std::string& name) const {
    return const_cast<FlagSet*>(this)->find(name);
}

bool FlagSet::was_set(const std::string& name) const {
    const Flag* f = find(name);
    return f && f->set;
}

std::string FlagSet::env_name(const std::string& flag) {
    std::string env = "GPTOSS_";
    for (char c : flag)
        env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return env;
}

std::optional<int64_t> FlagSet::parse_bytes(const std::string& text) {
    size_t digits = 0;
    while (digits < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
        ++digits;
    }
    auto number = parse_real(text.substr(0, digits));
    if (!number || *number < 0) return std::nullopt;
    std::string suffix = text.substr(digits);
    std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    double scale = 1;
    if (suffix.empty() || suffix == "B") {
        scale = 1;
    } else if (suffix == "K" || suffix == "KIB") {
        scale = 1024.0;
    } else if (suffix == "M" || suffix == "MIB") {
        scale = 1024.0 * 1024;
    } else if (suffix == "G" || suffix == "GIB") {
        scale = 1024.0 * 1024 * 1024;
    } else if (suffix == "T" || suffix == "TIB") {
        scale = 1024.0 * 1024 * 1024 * 1024;
    } else if (suffix == "KB") {
        scale = 1e3;
    } else if (suffix == "MB") {
        scale = 1e6;
    } else if (suffix == "GB") {
        scale = 1e9;
    } else if (suffix == "TB") {
        scale = 1e12;
    } else {
        return std::nullopt;
    }
    double bytes = *number * scale;
    if (bytes > 9.0e18) return std::nullopt;
    return static_cast<int64_t>(bytes);
}

bool FlagSet::parse(const std::vector<std::string>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--help" || arg == "-h") return false;
        if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
            throw CliError(
                fmt::format("{}: unexpected argument '{}' (flags start with --; see 'gptoss {} --help')",
                            command_, arg, command_));
        }
        std::string name = arg.substr(2);
        std::optional<std::string> value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        Flag* flag = find(name);
        if (!flag) {
            throw CliError(
                fmt::format("{}: unknown flag '--{}' (see 'gptoss {} --help')", command_, name, command_));
        }
        if (!value) {
            if (flag->is_switch) {
                value = "true";
            } else {
                if (i + 1 >= args.size())
                    throw CliError(fmt::format("{}: flag '--{}' needs a value", command_, name));
                value = args[++i];
            }
        }
        flag->assign(*value);
        flag->set = true;
    }
    if (use_env_) {
        for (auto& flag : flags_) {
            if (flag.set) continue;
            std::string env = env_name(flag.name);
            if (const char* v = std::getenv(env.c_str()); v && *v) {
                try {
                    flag.assign(v);
                } catch (const CliError& e) {
                    throw CliError(fmt::format("{} (from environment variable {})", e.what(), env));
                }
                flag.set = true;
            }
        }
    }
    return true;
}

std::string FlagSet::help() const {
    std::string out = fmt::format("usage: gptoss {} {}\n\n{}\n\nflags:\n", command_, usage_, summary_);
    for (const auto& f : flags_) {
        std::string left = f.is_switch ? fmt::format("  --{}", f.name) : fmt::format("  --{} VALUE", f.name);
        out += left;
        out += left.size() < 34 ? std::string(34 - left.size(), ' ') : "\n" + std::string(34, ' ');
        out += f.help;
        out += f.default_text.empty() ? " (default: none)" : fmt::format(" (default: {})", f.default_text);
        if (use_env_) out += fmt::format(" [env {}]", env_name(f.name));
        out += "\n";
    }
    out += "  --help                          show this text\n";
    return out;
}

}  // namespace gptoss
