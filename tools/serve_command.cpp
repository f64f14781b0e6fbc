// gptoss serve: the OpenAI-compatible HTTP server. The server module runs everything (listen, load, serve,
// drain); this command only parses the flags and supplies the backend's runner.
#include <unistd.h>

#include <cstdio>

#include <spdlog/spdlog.h>

#include "config/server_config.h"
#include "engine/weights/model_weights.h"
#include "server/serve_app.h"
#include "tools/commands.h"
#include "tools/runner_factory.h"

namespace gptoss::cli {

int serve_command(const Args& args) {
    std::optional<ServerConfig> config = ServerConfig::from_args(args);
    if (!config) return 0;  // --help
    spdlog::set_level(spdlog::level::from_str(config->log_level));
    const std::string backend = resolve_backend(config->backend);  // fail before loading anything
    return run_server(*config, GPTOSS_DEMO_MODEL_DIR,
                      [backend](const std::filesystem::path& dir, const ModelConfig& model_config,
                                const ServerConfig& server_config) {
                          std::shared_ptr<const ModelWeights> weights = ModelWeights::load(
                              dir, model_config, /*show_progress=*/isatty(fileno(stderr)) != 0);
                          return make_runner(backend, std::move(weights), server_config.engine);
                      });
}

}  // namespace gptoss::cli
