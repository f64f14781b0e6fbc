// gptoss_scripted_server: `gptoss serve` with a ScriptedRunner instead of a model backend, for the end-to-end
// tests of malformed model output and forced tool calls. Takes serve's flags plus --scripts FILE (a JSON
// object: script name -> harmony text); --model must name a checkpoint folder (its config.json and
// tokenizer.json are used, its weights are not).
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "config/server_config.h"
#include "server/serve_app.h"
#include "tests/server/scripted_runner.h"
#include "tokenizer/tokenizer.h"

int main(int argc, char** argv) {
    std::vector<std::string> args;
    std::string scripts_path;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--scripts" && i + 1 < argc) {
            scripts_path = argv[++i];
        } else {
            args.push_back(arg);
        }
    }
    auto logger = spdlog::stderr_color_mt("gptoss");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    spdlog::set_default_logger(logger);
    try {
        if (scripts_path.empty()) throw std::runtime_error("--scripts FILE is required");
        std::ifstream in(scripts_path);
        if (!in) throw std::runtime_error("cannot read --scripts " + scripts_path);
        std::map<std::string, std::string> scripts =
            nlohmann::json::parse(in).get<std::map<std::string, std::string>>();
        auto config = gptoss::ServerConfig::from_args(args);
        if (!config) return 0;
        spdlog::set_level(spdlog::level::from_str(config->log_level));
        return gptoss::run_server(*config, "",
                                  [&](const std::filesystem::path& dir,
                                      const gptoss::ModelConfig& model_config, const gptoss::ServerConfig&) {
                                      return gptoss::make_scripted_runner(
                                          model_config, gptoss::Tokenizer::from_file(dir), scripts);
                                  });
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gptoss_scripted_server: %s\n", e.what());
        return 1;
    }
}
