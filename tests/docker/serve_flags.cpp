#include "tests/docker/serve_flags.h"

#include <cstdlib>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "config/cli_flags.h"

extern char** environ;

namespace gptoss::testing {

namespace {

// Hides the process's GPTOSS_* variables and sets `env` for its lifetime.
class ScopedServeEnvironment {
public:
    explicit ScopedServeEnvironment(const EnvMap& env) {
        for (char** e = environ; *e; ++e) {
            std::string entry = *e;
            if (entry.rfind("GPTOSS_", 0) != 0) continue;
            size_t eq = entry.find('=');
            saved_[entry.substr(0, eq)] = entry.substr(eq + 1);
        }
        for (const auto& [name, value] : saved_) unsetenv(name.c_str());
        for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
        set_ = env;
    }
    ~ScopedServeEnvironment() {
        for (const auto& [name, value] : set_) unsetenv(name.c_str());
        for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
    }
    ScopedServeEnvironment(const ScopedServeEnvironment&) = delete;
    ScopedServeEnvironment& operator=(const ScopedServeEnvironment&) = delete;

private:
    EnvMap saved_;
    EnvMap set_;
};

std::string serve_help() {
    ScopedServeEnvironment clean({});
    std::ostringstream captured;
    std::streambuf* original = std::cout.rdbuf(captured.rdbuf());
    try {
        auto config = ServerConfig::from_args({"--help"});
        std::cout.rdbuf(original);
        if (config) throw std::runtime_error("serve --help did not print help");
    } catch (...) {
        std::cout.rdbuf(original);
        throw;
    }
    return captured.str();
}

}  // namespace

std::map<std::string, std::string> serve_env_flags() {
    std::string help = serve_help();
    std::set<std::string> env_names;
    static const std::regex env_tag(R"(\[env (GPTOSS_[A-Z0-9_]+)\])");
    for (auto it = std::sregex_iterator(help.begin(), help.end(), env_tag); it != std::sregex_iterator();
         ++it) {
        env_names.insert((*it)[1].str());
    }
    // A flag starts a help line ("  --name VALUE ..."); long ones wrap their text onto the next line.
    std::map<std::string, std::string> out;
    static const std::regex flag_line(R"(^  --([a-z0-9][a-z0-9-]*))");
    std::istringstream lines(help);
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, flag_line)) continue;
        std::string env = FlagSet::env_name(m[1].str());
        if (env_names.count(env)) out[env] = m[1].str();
    }
    if (out.size() != env_names.size()) {
        throw std::runtime_error("serve --help lists environment variables that match no flag");
    }
    return out;
}

ServerConfig effective_server_config(const EnvMap& env, const std::vector<std::string>& args) {
    ScopedServeEnvironment scoped(env);
    auto config = ServerConfig::from_args(args);
    if (!config) throw std::runtime_error("serve printed its help instead of parsing the configuration");
    return *config;
}

}  // namespace gptoss::testing
