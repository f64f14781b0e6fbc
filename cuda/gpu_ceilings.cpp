// The two ceilings every benchmark bound is computed from, measured on the GPU at hand (METHOD.md: datasheet
// rates are leads, not bounds): device-to-device copy bandwidth (bytes read + written) and the bf16 GEMM
// rate of cuBLASLt at 8192^3 on random data. CUDA events around repeated runs after warm-up; the median.
#include <algorithm>
#include <random>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/cuda_runner.h"
#include "cuda/device_buffer.h"
#include "cuda/kernels/kernels.h"

namespace gptoss {
namespace {

// Median seconds of `repeats` runs of `work` on `stream`, after `warmup` runs.
template <class Work>
double time_median(cudaStream_t stream, int warmup, int repeats, Work work) {
    for (int i = 0; i < warmup; ++i) work();
    cudaEvent_t start = nullptr, stop = nullptr;
    GPTOSS_CUDA_CHECK(cudaEventCreate(&start));
    GPTOSS_CUDA_CHECK(cudaEventCreate(&stop));
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        GPTOSS_CUDA_CHECK(cudaEventRecord(start, stream));
        work();
        GPTOSS_CUDA_CHECK(cudaEventRecord(stop, stream));
        GPTOSS_CUDA_CHECK(cudaEventSynchronize(stop));
        float ms = 0;
        GPTOSS_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
        times.push_back(ms * 1e-3);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

}  // namespace

GpuCeilings measure_gpu_ceilings() {
    cudaStream_t stream = nullptr;
    GPTOSS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    GpuCeilings out;
    {
        const size_t bytes = size_t{1} << 30;
        cuda::DeviceBuffer<std::byte> a(bytes), b(bytes);
        GPTOSS_CUDA_CHECK(cudaMemsetAsync(a.get(), 0x5A, bytes, stream));
        const double s = time_median(stream, 2, 9, [&] {
            GPTOSS_CUDA_CHECK(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, stream));
        });
        out.copy_bytes_per_second = 2.0 * static_cast<double>(bytes) / s;
    }
    {
        constexpr int n = 8192;
        const size_t count = static_cast<size_t>(n) * n;
        std::vector<uint16_t> host(count);
        std::mt19937 rng(7);
        for (uint16_t& v : host) v = static_cast<uint16_t>(0x3C00u + (rng() & 0x3FFu)) ^ ((rng() & 1u) << 15);
        cuda::DeviceBuffer<uint16_t> x(count), w(count);
        cuda::DeviceBuffer<float> y(count);
        GPTOSS_CUDA_CHECK(cudaMemcpy(x.get(), host.data(), count * 2, cudaMemcpyHostToDevice));
        GPTOSS_CUDA_CHECK(cudaMemcpy(w.get(), host.data(), count * 2, cudaMemcpyHostToDevice));
        cuda::LinearGemm gemm;
        const cuda::LinearArgs args{.x = x.get(),
                                    .weight = w.get(),
                                    .num_tokens = n,
                                    .in_features = n,
                                    .out_features = n,
                                    .y = y.get()};
        const double s = time_median(stream, 3, 10, [&] { gemm.run(args, stream); });
        out.bf16_flops_per_second = 2.0 * n * static_cast<double>(n) * n / s;
    }
    GPTOSS_CUDA_CHECK(cudaStreamDestroy(stream));
    return out;
}

}  // namespace gptoss
