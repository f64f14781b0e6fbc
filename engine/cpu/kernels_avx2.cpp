// AVX2 + FMA instantiation of kernels_impl.h. Compiled with -mavx2 -mfma (engine/CMakeLists.txt) and called
// only when the CPU reports both features; it includes no header with inline code other than the intrinsics.
#include <immintrin.h>

#include <cstdint>

#include "engine/cpu/kernels.h"

namespace gptoss::cpu::kernels::avx2 {
namespace {

using V = __m256;

inline V vzero() {
    return _mm256_setzero_ps();
}
inline V vload(const float* p) {
    return _mm256_loadu_ps(p);
}
inline void vstore(float* p, V v) {
    _mm256_storeu_ps(p, v);
}
inline V vset1(float f) {
    return _mm256_set1_ps(f);
}
inline V vfma(V a, V b, V acc) {
    return _mm256_fmadd_ps(a, b, acc);
}
inline float vhsum(V v) {
    __m128 pairs = _mm_hadd_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // l0+l1 .. l6+l7
    __m128 halves = _mm_hadd_ps(pairs, pairs);  // (l0+l1)+(l2+l3), (l4+l5)+(l6+l7)
    return _mm_cvtss_f32(_mm_add_ss(halves, _mm_movehdup_ps(halves)));
}
inline void vhsum8(const V in[8], float out[8]) {
    // hadd(hadd(a, b), hadd(c, d)) = [a0123, b0123, c0123, d0123 | a4567, b4567, c4567, d4567] with
    // a0123 = (a0+a1)+(a2+a3); adding the two halves completes each vector's sum in vhsum's order.
    V abcd = _mm256_hadd_ps(_mm256_hadd_ps(in[0], in[1]), _mm256_hadd_ps(in[2], in[3]));
    V efgh = _mm256_hadd_ps(_mm256_hadd_ps(in[4], in[5]), _mm256_hadd_ps(in[6], in[7]));
    V sums =
        _mm256_add_ps(_mm256_permute2f128_ps(abcd, efgh, 0x20), _mm256_permute2f128_ps(abcd, efgh, 0x31));
    _mm256_storeu_ps(out, sums);
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
void attention_scores(const float* const* q_rows, int num_rows, int head_dim, const float* k,
                      int64_t key_stride, int num_keys, float scale, float* scores, int64_t score_stride) {
    attention_scores_impl(q_rows, num_rows, head_dim, k, key_stride, num_keys, scale, scores, score_stride);
}
void attention_values(const float* const* p_rows, float* const* out_rows, const int* begin, const int* end,
                      int num_rows, const float* v, int64_t key_stride, int head_dim) {
    attention_values_impl(p_rows, out_rows, begin, end, num_rows, v, key_stride, head_dim);
}

}  // namespace gptoss::cpu::kernels::avx2
