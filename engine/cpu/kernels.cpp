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
void attention_scores(const float* const* q_rows, int num_rows, int head_dim, const float* k,
                      int64_t key_stride, int num_keys, float scale, float* scores, int64_t score_stride);
void attention_values(const float* const* p_rows, float* const* out_rows, const int* begin, const int* end,
                      int num_rows, const float* v, int64_t key_stride, int head_dim);
}  // namespace avx2
#endif
namespace generic {
void matmul_rows(const float* x, int T, const WeightMatrix& w, const uint16_t* bias, int r_begin, int r_end,
                 float* y, int64_t y_stride, float* panel);
void attention_scores(const float* const* q_rows, int num_rows, int head_dim, const float* k,
                      int64_t key_stride, int num_keys, float scale, float* scores, int64_t score_stride);
void attention_values(const float* const* p_rows, float* const* out_rows, const int* begin, const int* end,
                      int num_rows, const float* v, int64_t key_stride, int head_dim);
}  // namespace generic

namespace {

struct Table {
    decltype(&generic::matmul_rows) matmul_rows;
    decltype(&generic::attention_scores) attention_scores;
    decltype(&generic::attention_values) attention_values;
    const char* name;
};

Table pick() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return {avx2::matmul_rows, avx2::attention_scores, avx2::attention_values, "avx2"};
    }
#endif
    return {generic::matmul_rows, generic::attention_scores, generic::attention_values, "generic"};
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

void attention_scores(const float* const* q_rows, int num_rows, int head_dim, const float* k,
                      int64_t key_stride, int num_keys, float scale, float* scores, int64_t score_stride) {
    table().attention_scores(q_rows, num_rows, head_dim, k, key_stride, num_keys, scale, scores,
                             score_stride);
}

void attention_values(const float* const* p_rows, float* const* out_rows, const int* begin, const int* end,
                      int num_rows, const float* v, int64_t key_stride, int head_dim) {
    table().attention_values(p_rows, out_rows, begin, end, num_rows, v, key_stride, head_dim);
}

const char* isa_name() {
    return table().name;
}

}  // namespace gptoss::cpu::kernels
