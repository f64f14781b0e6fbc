// The inner loops of the CPU engine: matrix-vector products over bf16 or MXFP4 weight rows, and the dot
// products and row updates of attention. Internal to engine/cpu (ops.cpp is the public face).
//
// One reduction order, always: a dot product over n columns keeps 8 lane sums of consecutive columns
// (lane l sums columns c with c % 8 == l, in increasing c, one multiply-add each), reduces them as
// ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)), then adds the sum of the columns past the last multiple of 8 (taken
// in order), then the bias. Tiling, the number of tokens, the row range and the thread never change it, so a
// row's result does not depend on the rest of the batch. The implementation is picked once per process:
// AVX2+FMA when the CPU has it, else portable code (which rounds multiply-adds separately, so its last bits
// differ).
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

// Attention over one run of keys stored `key_stride` floats apart (consecutive slots of one KV page).
// Scores: scores[r * score_stride + j] = scale * dot(q_rows[r], k[j]) for r < R, j < num_keys, in the order
// above (each a separate dot product; rows are query heads of one or more tokens).   q_rows: R pointers to
// [D]
void attention_scores(const float* const* q_rows, int num_rows, int head_dim, const float* k,
                      int64_t key_stride, int num_keys, float scale, float* scores, int64_t score_stride);

// Values: out_rows[r][:] += sum over j in [begin[r], end[r]) of p_rows[r][j] * v[j, :], one multiply-add per
// key in increasing j.   p_rows, out_rows: R pointers
void attention_values(const float* const* p_rows, float* const* out_rows, const int* begin, const int* end,
                      int num_rows, const float* v, int64_t key_stride, int head_dim);

// Which implementation runs: "avx2" or "generic".
const char* isa_name();

}  // namespace gptoss::cpu::kernels
