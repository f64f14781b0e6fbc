// AVX2 + FMA instantiation of kernels_impl.h. Compiled with -mavx2 -mfma (engine/CMakeLists.txt) and called
// only when the CPU reports both features; it includes no header with inline code other than the intrinsics.
#include <immintrin.h>

#include <cstdint>

#include "engine/cpu/kernels.h"

namespace gptoss::cpu::kernels::avx2 {
namespace {

#include "engine/cpu/kernels_avx2_vec.h"

inline void vdecode_mxfp4(const uint8_t* codes, float half_scale, V out[4]) {
    const __m128i table = _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
    const __m128i low_mask = _mm_set1_epi8(0x0F);
    __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes));
    __m128i lo = _mm_and_si128(bytes, low_mask);
    __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_mask);
    // Element 2j is the low nibble of byte j, element 2j + 1 the high one.
    __m128i first = _mm_shuffle_epi8(table, _mm_unpacklo_epi8(lo, hi));   // elements 0..15, doubled
    __m128i second = _mm_shuffle_epi8(table, _mm_unpackhi_epi8(lo, hi));  // elements 16..31
    const V s = _mm256_set1_ps(half_scale);
    out[0] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(first)), s);
    out[1] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(first, 8))), s);
    out[2] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(second)), s);
    out[3] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(second, 8))), s);
}
#include "engine/cpu/kernels_impl.h"

}  // namespace

void matmul_rows(const float* x, int T, const WeightMatrix& w, const uint16_t* bias, int r_begin, int r_end,
                 float* y, int64_t y_stride, float* panel) {
    matmul_rows_impl(x, T, w, bias, r_begin, r_end, y, y_stride, panel);
}
void attention_scores(const float* const* q_rows, int num_rows, int head_dim, const float* k,
                      int64_t key_stride, int num_keys, float scale, float* scores, int64_t score_stride) {
    attention_scores_impl(q_rows, num_rows, head_dim, k, key_stride, num_keys, scale, scores, score_stride);
}
void attention_values(const float* const* p_rows, float* const* out_rows, const int* begin, const int* end,
                      int num_rows, const float* v, int64_t key_stride, int head_dim) {
    attention_values_impl(p_rows, out_rows, begin, end, num_rows, v, key_stride, head_dim);
}

}  // namespace gptoss::cpu::kernels::avx2
