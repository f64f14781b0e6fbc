// Checks that a BatchInputs is internally consistent and fits the model and the KV cache layout, before a
// runner indexes anything with it. A runner calls this first; a malformed batch is a programming error in the
// engine, reported as std::invalid_argument naming the field, never an out-of-bounds access.
#pragma once

#include "config/model_config.h"
#include "engine/batch_inputs.h"
#include "engine/model_runner.h"

namespace gptoss {

void validate_batch_inputs(const BatchInputs& inputs, const ModelConfig& config, const KvCacheLayout& layout);

}  // namespace gptoss
