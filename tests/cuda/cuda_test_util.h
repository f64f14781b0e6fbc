// Helpers shared by the CUDA kernel tests: GPU detection (tests skip cleanly without one), host <-> device
// copies, random inputs, bf16 rounding and the relative L2 error every comparison uses.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "cuda/device_buffer.h"
#include "engine/weights/dtype.h"

namespace gptoss::testing {

inline bool gpu_available() {
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

#define GPTOSS_SKIP_WITHOUT_GPU() \
    if (!::gptoss::testing::gpu_available()) GTEST_SKIP() << "no CUDA GPU on this machine"

template <class T>
cuda::DeviceBuffer<T> to_device(const std::vector<T>& host) {
    cuda::DeviceBuffer<T> buffer(host.size());
    if (!host.empty())
        GPTOSS_CUDA_CHECK(
            cudaMemcpy(buffer.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
    return buffer;
}

template <class T>
std::vector<T> to_host(const cuda::DeviceBuffer<T>& buffer) {
    GPTOSS_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> host(buffer.size());
    if (!host.empty())
        GPTOSS_CUDA_CHECK(
            cudaMemcpy(host.data(), buffer.get(), host.size() * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
}

// A buffer filled with a poison value, so that unwritten outputs fail the comparison.
template <class T>
cuda::DeviceBuffer<T> poisoned(size_t count, T poison) {
    return to_device(std::vector<T>(count, poison));
}

inline std::vector<float> random_normal(size_t n, float stddev, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, stddev);
    std::vector<float> out(n);
    for (float& v : out) v = dist(rng);
    return out;
}

inline std::vector<uint16_t> to_bf16(const std::vector<float>& values) {
    std::vector<uint16_t> out(values.size());
    for (size_t i = 0; i < values.size(); ++i) out[i] = float_to_bf16(values[i]);
    return out;
}

inline std::vector<float> from_bf16(const std::vector<uint16_t>& bits) {
    std::vector<float> out(bits.size());
    for (size_t i = 0; i < bits.size(); ++i) out[i] = bf16_to_float(bits[i]);
    return out;
}

// The split bf16 pair of `values` (kernels.h): all hi values, then all lo values.
inline std::vector<uint16_t> to_split_bf16(const std::vector<float>& values) {
    std::vector<uint16_t> out(2 * values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        out[i] = float_to_bf16(values[i]);
        out[values.size() + i] = float_to_bf16(values[i] - bf16_to_float(out[i]));
    }
    return out;
}

// hi + lo of a split pair stored as [hi..., lo...].
inline std::vector<float> from_split_bf16(const std::vector<uint16_t>& pair) {
    const size_t n = pair.size() / 2;
    std::vector<float> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = bf16_to_float(pair[i]) + bf16_to_float(pair[n + i]);
    return out;
}

// ||a - ref|| / ||ref|| in double; NaN anywhere makes it infinite.
inline double rel_l2(const std::vector<float>& a, const std::vector<float>& ref) {
    if (a.size() != ref.size()) return INFINITY;
    double diff = 0.0, norm = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) || std::isnan(ref[i])) return INFINITY;
        diff += (double(a[i]) - ref[i]) * (double(a[i]) - ref[i]);
        norm += double(ref[i]) * ref[i];
    }
    return norm > 0.0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

}  // namespace gptoss::testing
