// The inner loops of the CPU engine: matrix-vector products over bf16 or MXFP4 weight rows, and the dot
// products and row updates of attention. Internal to engine/cpu (ops.cpp is the public face).
//
// One reduction order, always: a dot product over n columns keeps 8 lane sums of consecutive columns
// (lane l sums columns c with c % 8 == l, in increasing c, one multiply-add each), reduces them as
// ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then adds the columns past the last multiple of 8 in order, then the
// bias. Tiling, the number of tokens, the row range and the thread never change it, so a row's result does not
// depend on the rest of the batch. The implementation is picked once per process: AVX2+FMA when the CPU has
// it, else portable code (which rounds multiply-adds separately, so its last bits differ).
#pragma once

#include <cstdint>

namespace gptoss::cpu::kernels {

// A weight matrix [R, C] as stored in the checkpoint.
struct WeightMatrix {
    enum class Format { kBF16, kMXFP4 };
    Format format = Format::kBF16;
    const uint16_t* bf16 = nullptr;   // kBF16: [R, C]
    const uint8_t* blocks = nullptr;  // kMXFP4: [R, C/32, 16]
    const uint8_t* scales = nullptr;  // kMXFP4: [R, C/32]
    int rows = 0;                     // R
    int cols = 0;                     // C (a multiple of 32 for kMXFP4)
};

// y[t * y_stride + r] = sum_c W[r, c] * x[t * C + c] (+ bias[r]) for r in [r_begin, r_end), t in [0, T).
// x [T, C], bias [R] bf16 or null.
void matmul_rows(const float* x, int num_tokens, const WeightMatrix& w, const uint16_t* bias, int r_begin,
                 int r_end, float* y, int64_t y_stride);

// out[g] = scale * dot(q + g * n, k) for g in [0, num_rows), in the order above.    q [num_rows, n], k [n]
void dot_rows(const float* q, int num_rows, const float* k, int n, float scale, float* out);

// y[i] += alpha * x[i] for i in [0, n).
void axpy(float alpha, const float* x, float* y, int n);

// Which implementation runs: "avx2" or "generic".
const char* isa_name();

}  // namespace gptoss::cpu::kernels
