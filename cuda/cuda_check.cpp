#include "cuda/cuda_check.h"

#include <fmt/format.h>

namespace gptoss {

void throw_cuda_error(cudaError_t status, const char* expression, const char* file, int line) {
    throw CudaError(fmt::format("CUDA error {} ({}) in {} at {}:{}", cudaGetErrorName(status),
                                cudaGetErrorString(status), expression, file, line));
}

}  // namespace gptoss
