// run_server: the whole life of `gptoss serve` - resolve the model, listen, load, serve, drain on
// SIGTERM/SIGINT, exit 0. The caller supplies the ModelRunner (tools/ picks CPU or CUDA; test servers
// bring a scripted one), so the server module never depends on a backend.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "config/model_config.h"
#include "config/server_config.h"
#include "engine/model_runner.h"

namespace gptoss {

using RunnerFactory = std::function<std::unique_ptr<ModelRunner>(
    const std::filesystem::path& model_dir, const ModelConfig& model_config, const ServerConfig& config)>;

// Returns the process exit code (0 after a graceful shutdown). Throws on errors before serving starts
// (model not found, bind failure, load failure). demo_model_dir: served when --model is not given.
int run_server(const ServerConfig& config, const std::filesystem::path& demo_model_dir,
               const RunnerFactory& make_runner);

}  // namespace gptoss
