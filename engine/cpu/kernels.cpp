// Picks the kernel implementation once per process and gives each thread its scratch panel.
#include "engine/cpu/kernels.h"

#include <cstddef>
#include <vector>

namespace gptoss::cpu::kernels {

// One definition per ISA, in kernels_avx2.cpp and kernels_generic.cpp.
#if defined(__x86_64__)
namespace avx2 {
void matmul_rows(const float* x, int T, const WeightMatrix& w, const uint16_t* bias, int r_begin, int r_end,
                 float* y, int64_t y_stride, float* panel);
void dot_rows(const float* q, int num_rows, const float* k, int n, float scale, float* out);
void axpy(float alpha, const float* x, float* y, int n);
}  // namespace avx2
#endif
namespace generic {
void matmul_rows(const float* x, int T, const WeightMatrix& w, const uint16_t* bias, int r_begin, int r_end,
                 float* y, int64_t y_stride, float* panel);
void dot_rows(const float* q, int num_rows, const float* k, int n, float scale, float* out);
void axpy(float alpha, const float* x, float* y, int n);
}  // namespace generic

namespace {

struct Table {
    decltype(&generic::matmul_rows) matmul_rows;
    decltype(&generic::dot_rows) dot_rows;
    decltype(&generic::axpy) axpy;
    const char* name;
};

Table pick() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return {avx2::matmul_rows, avx2::dot_rows, avx2::axpy, "avx2"};
    }
#endif
    return {generic::matmul_rows, generic::dot_rows, generic::axpy, "generic"};
}

const Table& table() {
    static const Table t = pick();
    return t;
}

// kRowBlock (4) rows of float32, per thread.
float* panel_for(int cols) {
    thread_local std::vector<float> panel;
    std::size_t need = static_cast<std::size_t>(4) * cols;
    if (panel.size() < need) panel.resize(need);
    return panel.data();
}

}  // namespace

void matmul_rows(const float* x, int num_tokens, const WeightMatrix& w, const uint16_t* bias, int r_begin,
                 int r_end, float* y, int64_t y_stride) {
    if (num_tokens <= 0 || r_begin >= r_end) return;
    table().matmul_rows(x, num_tokens, w, bias, r_begin, r_end, y, y_stride, panel_for(w.cols));
}

void dot_rows(const float* q, int num_rows, const float* k, int n, float scale, float* out) {
    table().dot_rows(q, num_rows, k, n, scale, out);
}

void axpy(float alpha, const float* x, float* y, int n) {
    table().axpy(alpha, x, y, n);
}

const char* isa_name() {
    return table().name;
}

}  // namespace gptoss::cpu::kernels
