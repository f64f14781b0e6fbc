// The 8-lane vector type of kernels_impl.h on AVX2 + FMA, shared by the AVX2 and AVX-512 builds of the
// kernels. Included inside each build's own namespace (after <immintrin.h> and <cstdint>); everything here is
// inline.

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
inline float sfma(float a, float b, float acc) {
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(acc)));
}
