// Picks the backend that runs the model: --backend cpu | cuda | auto. "auto" is cuda when this build has the
// CUDA backend and a GPU is present, else cpu.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/engine_config.h"
#include "engine/model_runner.h"
#include "engine/weights/model_weights.h"

namespace gptoss::cli {

inline const std::vector<std::string> kBackendChoices = {"auto", "cpu", "cuda"};

// "cpu" or "cuda" for a --backend value; throws CliError when cuda is asked for and not built in.
std::string resolve_backend(const std::string& backend);

// The runner for a resolved or "auto" backend. The CPU runner uses config.cpu_threads threads (0 = all).
std::unique_ptr<ModelRunner> make_runner(const std::string& backend,
                                         std::shared_ptr<const ModelWeights> weights,
                                         const EngineConfig& config);

}  // namespace gptoss::cli
