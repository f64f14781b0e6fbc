// Error checking for every CUDA runtime and cuBLASLt call: failures throw CudaError naming the call site.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace gptoss {

class CudaError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* expression, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* expression, const char* file,
                                     int line);

}  // namespace gptoss

#define GPTOSS_CUDA_CHECK(expr)                                                    \
    do {                                                                           \
        cudaError_t gptoss_status_ = (expr);                                       \
        if (gptoss_status_ != cudaSuccess)                                         \
            ::gptoss::throw_cuda_error(gptoss_status_, #expr, __FILE__, __LINE__); \
    } while (0)

#define GPTOSS_CUBLAS_CHECK(expr)                                                    \
    do {                                                                             \
        cublasStatus_t gptoss_status_ = (expr);                                      \
        if (gptoss_status_ != CUBLAS_STATUS_SUCCESS)                                 \
            ::gptoss::throw_cublas_error(gptoss_status_, #expr, __FILE__, __LINE__); \
    } while (0)

// After a kernel launch: catches bad launch configurations at once (asynchronous faults surface later).
#define GPTOSS_CUDA_CHECK_LAUNCH() GPTOSS_CUDA_CHECK(cudaGetLastError())
