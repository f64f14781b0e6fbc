// Dense bf16 projections at decode sizes (<= 8 tokens): y[T, N] = x[T, K] W^T + bias as a weight stream on
// the CUDA cores. x is read as float32 (a split bf16 pair hi + lo is summed exactly, or plain bf16), W as
// bf16, the products and sums in float32: as accurate as the split-input tensor-core GEMM, and one pass
// (no second GEMM half, no split-sum kernel). Each warp owns ROWS weight rows and walks K 256 columns at a
// time (16 bytes per lane), with U stages of weight loads in flight before their math; W bypasses L1 so the
// small, shared x stays there.
// Legend: T tokens (<= M), K in_features, N out_features, ROWS weight rows per warp, U k stages per batch.
#include <stdexcept>

#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kUnroll = 4;  // U

__device__ __forceinline__ uint4 load_streaming(const uint16_t* p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}

__device__ __forceinline__ void bf16x8_to_float(const uint4& v, float (&out)[8]) {
    const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        out[2 * i] = __uint_as_float(words[i] << 16);
        out[2 * i + 1] = __uint_as_float(words[i] & 0xFFFF0000u);
    }
}

template <int M, int ROWS>
__global__ void __launch_bounds__(kWarps * 32) gemv_kernel(LinearArgs a, int64_t lo_offset) {
    const int lane = threadIdx.x & 31;
    const int n0 = (blockIdx.x * kWarps + (threadIdx.x >> 5)) * ROWS;
    const int K = a.in_features, N = a.out_features, T = a.num_tokens;
    if (n0 >= N) return;
    const uint16_t* w_row[ROWS];
#pragma unroll
    for (int r = 0; r < ROWS; ++r) w_row[r] = a.weight + static_cast<int64_t>(min(n0 + r, N - 1)) * K;

    float acc[ROWS][M] = {};
    for (int base = lane * 8; base < K; base += 256 * kUnroll) {
        uint4 w[kUnroll][ROWS];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int k = base + 256 * u;
#pragma unroll
            for (int r = 0; r < ROWS; ++r)
                w[u][r] = k < K ? load_streaming(w_row[r] + k) : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int k = base + 256 * u;
            if (k >= K) break;
            float wf[ROWS][8];
#pragma unroll
            for (int r = 0; r < ROWS; ++r) bf16x8_to_float(w[u][r], wf[r]);
#pragma unroll
            for (int m = 0; m < M; ++m) {
                if (m >= T) break;
                const uint16_t* xp = a.x + static_cast<int64_t>(m) * K + k;
                float x[8];
                bf16x8_to_float(*reinterpret_cast<const uint4*>(xp), x);
                if (lo_offset > 0) {
                    float lo[8];
                    bf16x8_to_float(*reinterpret_cast<const uint4*>(xp + lo_offset), lo);
#pragma unroll
                    for (int i = 0; i < 8; ++i) x[i] += lo[i];
                }
#pragma unroll
                for (int r = 0; r < ROWS; ++r)
#pragma unroll
                    for (int i = 0; i < 8; ++i) acc[r][m] = fmaf(wf[r][i], x[i], acc[r][m]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < ROWS; ++r)
#pragma unroll
        for (int m = 0; m < M; ++m) acc[r][m] = warp_sum(acc[r][m]);
            // Lane r * M + m writes output (m, n0 + r).
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
#pragma unroll
        for (int m = 0; m < M; ++m) {
            const int n = n0 + r;
            if (lane == r * M + m && m < T && n < N)
                a.y[static_cast<int64_t>(m) * N + n] = acc[r][m] + (a.bias ? a.bias[n] : 0.0f);
        }
    }
}

template <int M, int ROWS>
void launch(const LinearArgs& a, int64_t lo_offset, cudaStream_t stream) {
    const int warps = ceil_div(a.out_features, ROWS);
    gemv_kernel<M, ROWS><<<ceil_div(warps, kWarps), kWarps * 32, 0, stream>>>(a, lo_offset);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

// Four rows per warp when x is re-read often (several tokens) or the matrix is wide (lm_head): x's L1 reads
// per weight byte stay low; one row per warp otherwise, for more warps (and bytes) in flight.
template <int M>
void launch_rows(const LinearArgs& a, int64_t lo_offset, cudaStream_t stream) {
    if (M >= 4 || a.out_features >= 32768)
        launch<M, 4>(a, lo_offset, stream);
    else
        launch<M, 1>(a, lo_offset, stream);
}

}  // namespace

void linear_gemv(const LinearArgs& args, cudaStream_t stream) {
    if (args.num_tokens == 0) return;
    if (args.num_tokens > kGemvMaxTokens) throw std::invalid_argument("linear_gemv: at most 8 tokens");
    if (args.in_features % 8 != 0)
        throw std::invalid_argument("linear_gemv: in_features must be a multiple of 8");
    const int64_t lo_offset = args.split_input ? static_cast<int64_t>(args.num_tokens) * args.in_features : 0;
    if (args.num_tokens <= 1)
        launch_rows<1>(args, lo_offset, stream);
    else if (args.num_tokens <= 2)
        launch_rows<2>(args, lo_offset, stream);
    else if (args.num_tokens <= 4)
        launch_rows<4>(args, lo_offset, stream);
    else
        launch_rows<8>(args, lo_offset, stream);
}

}  // namespace gptoss::cuda
