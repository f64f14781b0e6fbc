// PinnedBuffer: page-locked host memory (cudaMallocHost) for asynchronous uploads; grows on demand.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "cuda/cuda_check.h"

namespace gptoss::cuda {

class PinnedBuffer {
public:
    PinnedBuffer() = default;
    ~PinnedBuffer() {
        if (data_) cudaFreeHost(data_);
    }
    PinnedBuffer(const PinnedBuffer&) = delete;
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;

    // Grows (dropping the contents) when `bytes` does not fit.
    void reserve(size_t bytes) {
        if (bytes <= bytes_) return;
        if (data_) cudaFreeHost(data_);
        data_ = nullptr;
        bytes_ = 0;
        GPTOSS_CUDA_CHECK(cudaMallocHost(&data_, bytes));
        bytes_ = bytes;
    }
    std::byte* get() const { return static_cast<std::byte*>(data_); }

private:
    void* data_ = nullptr;
    size_t bytes_ = 0;
};

}  // namespace gptoss::cuda
