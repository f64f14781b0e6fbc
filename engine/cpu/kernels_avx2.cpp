// AVX2 + FMA instantiation of kernels_impl.h. Compiled with -mavx2 -mfma (engine/CMakeLists.txt) and called
// only when the CPU reports both features; it includes no header with inline code other than the intrinsics.
#include <immintrin.h>

#include <cstdint>

#include "engine/cpu/kernels.h"

namespace gptoss::cpu::kernels::avx2 {
namespace {

using V = __m256;

inline V vzero() { return _mm256_setzero_ps(); }
inline V vload(const float* p) { return _mm256_loadu_ps(p); }
inline void vstore(float* p, V v) { _mm256_storeu_ps(p, v); }
inline V vset1(float f) { return _mm256_set1_ps(f); }
inline V vfma(V a, V b, V acc) { return _mm256_fmadd_ps(a, b, acc); }
inline float vhsum(V v) {
    __m128 quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // l0+l4 .. l3+l7
    __m128 pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));                          // (l0+l4)+(l2+l6), ...
    return _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)));
}
inline V vload_bf16(const uint16_t* p) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}
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
inline float sfma(float a, float b, float acc) {
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(acc)));
}

#include "engine/cpu/kernels_impl.h"

}  // namespace

void matmul_rows(const float* x, int T, const WeightMatrix& w, const uint16_t* bias, int r_begin, int r_end,
                 float* y, int64_t y_stride, float* panel) {
    matmul_rows_impl(x, T, w, bias, r_begin, r_end, y, y_stride, panel);
}
void dot_rows(const float* q, int num_rows, const float* k, int n, float scale, float* out) {
    dot_rows_impl(q, num_rows, k, n, scale, out);
}
void axpy(float alpha, const float* x, float* y, int n) {
    axpy_impl(alpha, x, y, n);
}

}  // namespace gptoss::cpu::kernels::avx2
