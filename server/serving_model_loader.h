// What `gptoss serve` and `gptoss run-batch` share before they answer a request: the HTTP-layer options a
// ServerConfig implies, and the loaded model (tokenizer, generation config, runner, engine).
#pragma once

#include "config/server_config.h"
#include "server/http_server.h"
#include "server/model_resolver.h"
#include "server/serve_app.h"

namespace gptoss {

HttpServerOptions http_server_options(const ServerConfig& config, const ResolvedModel& resolved);

// Loads the checkpoint in resolved.dir and starts its engine; logs the KV capacity. Throws on load errors.
ServingModel load_serving_model(const ResolvedModel& resolved, const ServerConfig& config,
                                const RunnerFactory& make_runner);

}  // namespace gptoss
