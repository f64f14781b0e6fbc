// AVX-512 instantiation of kernels_impl.h: the AVX2 build with an MXFP4 decoder that uses 512-bit table
// permutes (about half the instructions), which is where single-token decoding spends its time.
// Every arithmetic step is the AVX2 build's (8-lane multiply-adds in the same order on the same exact decoded
// values), so both builds give identical bits. Compiled with -mavx512f/bw/dq/vl (engine/CMakeLists.txt) and
// called only when the CPU and OS support them.
#include <immintrin.h>

#include <cstdint>

#include "engine/cpu/kernels.h"

namespace gptoss::cpu::kernels::avx512 {
namespace {

#include "engine/cpu/kernels_avx2_vec.h"

// One 32-element block: a 16-entry table of the code values at this block's scale, indexed straight by the
// code bytes (a permute reads the low 4 bits of each lane: the low nibble, then the byte shifted right by 4),
// then the even and odd elements interleaved. The values are the AVX2 decoder's bit for bit.
inline void vdecode_mxfp4(const uint8_t* codes, float half_scale, V out[4]) {
    const __m512 doubled = _mm512_setr_ps(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
    const __m512 table = _mm512_mul_ps(doubled, _mm512_set1_ps(half_scale));
    const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes)));
    const __m512 even = _mm512_permutexvar_ps(bytes, table);                       // element 2j in lane j
    const __m512 odd = _mm512_permutexvar_ps(_mm512_srli_epi32(bytes, 4), table);  // element 2j + 1
    const __m512i first_half = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i second_half =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 a = _mm512_permutex2var_ps(even, first_half, odd);   // elements 0..15
    const __m512 b = _mm512_permutex2var_ps(even, second_half, odd);  // elements 16..31
    out[0] = _mm512_castps512_ps256(a);
    out[1] = _mm512_extractf32x8_ps(a, 1);
    out[2] = _mm512_castps512_ps256(b);
    out[3] = _mm512_extractf32x8_ps(b, 1);
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

}  // namespace gptoss::cpu::kernels::avx512
