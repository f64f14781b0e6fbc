#include "cuda/cuda_check.h"

#include <fmt/format.h>

namespace gptoss {

void throw_cuda_error(cudaError_t status, const char* expression, const char* file, int line) {
    throw CudaError(fmt::format("CUDA error {} ({}) in {} at {}:{}", cudaGetErrorName(status),
                                cudaGetErrorString(status), expression, file, line));
}

void throw_cublas_error(cublasStatus_t status, const char* expression, const char* file, int line) {
    throw CudaError(fmt::format("cuBLASLt error {} in {} at {}:{}", cublasLtGetStatusString(status),
                                expression, file, line));
}

}  // namespace gptoss
