// Portable instantiation of kernels_impl.h (any x86-64 or other CPU): 8 lanes as a plain array.
#include <cstdint>

#include "engine/cpu/kernels.h"

namespace gptoss::cpu::kernels::generic {
namespace {

struct V {
    float l[8];
};

inline V vzero() { return V{}; }
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
    return ((v.l[0] + v.l[4]) + (v.l[2] + v.l[6])) + ((v.l[1] + v.l[5]) + (v.l[3] + v.l[7]));
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
void dot_rows(const float* q, int num_rows, const float* k, int n, float scale, float* out) {
    dot_rows_impl(q, num_rows, k, n, scale, out);
}
void axpy(float alpha, const float* x, float* y, int n) {
    axpy_impl(alpha, x, y, n);
}

}  // namespace gptoss::cpu::kernels::generic
