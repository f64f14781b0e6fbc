// Portable instantiation of kernels_impl.h (any x86-64 or other CPU): 8 lanes as a plain array.
#include <cstdint>

#include "engine/cpu/kernels.h"

namespace gptoss::cpu::kernels::generic {
namespace {

struct V {
    float l[8];
};

inline V vzero() {
    return V{};
}
inline V vload(const float* p) {
    V v;
    for (int i = 0; i < 8; ++i) v.l[i] = p[i];
    return v;
}
inline void vstore(float* p, V v) {
    for (int i = 0; i < 8; ++i) p[i] = v.l[i];
}
inline V vset1(float f) {
    V v;
    for (int i = 0; i < 8; ++i) v.l[i] = f;
    return v;
}
inline float sfma(float a, float b, float acc) {
    float product = a * b;  // rounded separately: no fused multiply-add on the baseline ISA
    return acc + product;
}
inline V vfma(V a, V b, V acc) {
    for (int i = 0; i < 8; ++i) acc.l[i] = sfma(a.l[i], b.l[i], acc.l[i]);
    return acc;
}
inline float vhsum(V v) {
    return ((v.l[0] + v.l[1]) + (v.l[2] + v.l[3])) + ((v.l[4] + v.l[5]) + (v.l[6] + v.l[7]));
}
inline void vhsum8(const V in[8], float out[8]) {
    for (int i = 0; i < 8; ++i) out[i] = vhsum(in[i]);
}
inline V vload_bf16(const uint16_t* p) {
    V v;
    for (int i = 0; i < 8; ++i) {
        uint32_t u = static_cast<uint32_t>(p[i]) << 16;
        __builtin_memcpy(&v.l[i], &u, sizeof(float));
    }
    return v;
}
inline void vdecode_mxfp4(const uint8_t* codes, float half_scale, V out[4]) {
    static constexpr float kDoubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    for (int j = 0; j < 16; ++j) {
        out[j / 4].l[(2 * j) % 8] = kDoubled[codes[j] & 0x0F] * half_scale;
        out[j / 4].l[(2 * j) % 8 + 1] = kDoubled[codes[j] >> 4] * half_scale;
    }
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

}  // namespace gptoss::cpu::kernels::generic
