// What the one-shot model commands (score, generate) share: the --model/--backend/--threads flags, loading a
// checkpoint onto a backend, and --ids lists.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/cli_flags.h"
#include "config/model_config.h"
#include "engine/model_runner.h"
#include "engine/weights/model_weights.h"

namespace gptoss::cli {

struct ModelFlags {
    std::string model;
    std::string backend = "auto";
    int threads = 0;
    void register_flags(FlagSet& flags);
};

struct LoadedModel {
    ModelConfig config;
    std::shared_ptr<const ModelWeights> weights;
    std::unique_ptr<ModelRunner> runner;
};

// Reads config.json and the weights of --model (with progress on a terminal) and builds the runner.
LoadedModel load_model(const ModelFlags& flags);

// "1,2,3" -> ids; throws CliError naming `flag` for malformed lists or ids outside [0, vocab_size).
std::vector<int32_t> parse_token_ids(const std::string& text, const std::string& flag, int vocab_size);

}  // namespace gptoss::cli
