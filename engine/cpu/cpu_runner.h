// CpuRunner: the float32 reference backend (and the backend users without a GPU get).
#pragma once

#include <memory>

#include "engine/model_runner.h"
#include "engine/weights/model_weights.h"

namespace gptoss {

// num_threads: OpenMP threads used inside a step; 0 = every hardware thread.
std::unique_ptr<ModelRunner> make_cpu_runner(std::shared_ptr<const ModelWeights> weights, int num_threads);

}  // namespace gptoss
