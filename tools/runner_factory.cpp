#include "tools/runner_factory.h"

#include "config/cli_flags.h"
#include "engine/cpu/cpu_runner.h"

#ifdef GPTOSS_HAVE_CUDA
#include <cuda_runtime.h>

#include "cuda/cuda_runner.h"
#endif

namespace gptoss::cli {

namespace {

bool cuda_device_present() {
#ifdef GPTOSS_HAVE_CUDA
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
#else
    return false;
#endif
}

}  // namespace

std::string resolve_backend(const std::string& backend) {
    if (backend == "cpu") return "cpu";
    if (backend == "cuda") {
#ifndef GPTOSS_HAVE_CUDA
        throw CliError(
            "--backend cuda: this gptoss was built without the CUDA backend (build with the cuda preset)");
#endif
        return "cuda";
    }
    if (backend == "auto") return cuda_device_present() ? "cuda" : "cpu";
    throw CliError("--backend must be one of auto, cpu, cuda; got '" + backend + "'");
}

std::unique_ptr<ModelRunner> make_runner(const std::string& backend,
                                         std::shared_ptr<const ModelWeights> weights,
                                         const EngineConfig& config) {
    if (resolve_backend(backend) == "cuda") {
#ifdef GPTOSS_HAVE_CUDA
        return make_cuda_runner(std::move(weights), config);
#endif
    }
    return make_cpu_runner(std::move(weights), config.cpu_threads);
}

}  // namespace gptoss::cli
