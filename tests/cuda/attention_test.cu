// attention (cuda/kernels/attention.cu) vs cpu::attention over the same paged cache: many sequences of
// different lengths mixing prefill chunks and decodes, shuffled pages, GQA, per-head sinks, sliding windows
// with compact block tables that start past released blocks, and split-KV for long decodes.
#include <algorithm>
#include <numeric>

#include "cuda/kernels/kernels.h"
#include "cuda/step_plan.h"
#include "engine/cpu/ops.h"
#include "tests/cuda/cuda_test_util.h"

namespace gptoss::testing {
namespace {

struct SeqShape {
    int context;  // keys cached after the step (positions 0..context-1)
    int q_len;    // new tokens of this step: positions context-q_len..context-1
};

struct Case {
    const char* name;
    int num_heads, num_kv_heads, head_dim, window;
    std::vector<SeqShape> seqs;
    int num_splits;
    float sink_shift;  // added to the N(0, 1) sinks
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.name;
}

class CudaAttention : public ::testing::TestWithParam<Case> {};

TEST_P(CudaAttention, MatchesCpu) {
    GPTOSS_SKIP_WITHOUT_GPU();
    const Case& c = GetParam();
    const int Hq = c.num_heads, Hkv = c.num_kv_heads, D = c.head_dim, BS = 16, W = c.window;
    const int S = static_cast<int>(c.seqs.size());
    std::mt19937 rng(1234 + W + Hq + c.num_splits);

    // Pages: each sequence's needed logical blocks get shuffled page ids. With a window, the table is
    // compact: it starts at first_block (at or before the first block a query can see) and earlier blocks are
    // absent.
    std::vector<int32_t> query_start(S + 1, 0), first_block(S, 0);
    int stride = 0, needed_pages = 0;
    for (int s = 0; s < S; ++s) {
        const SeqShape& q = c.seqs[s];
        query_start[s + 1] = query_start[s] + q.q_len;
        const int lowest = q.context - q.q_len;
        first_block[s] = W > 0 ? std::max(0, (lowest - W + 1) / BS - (s % 2)) : 0;
        const int blocks = (q.context - 1) / BS + 1 - first_block[s];
        stride = std::max(stride, blocks + 1);
        needed_pages += blocks;
    }
    const int T = query_start[S];
    const int num_pages = needed_pages + 7;
    std::vector<int32_t> pages(num_pages);
    std::iota(pages.begin(), pages.end(), 0);
    std::shuffle(pages.begin(), pages.end(), rng);
    std::vector<int32_t> table(size_t(S) * stride, -1);
    int next_page = 0;
    for (int s = 0; s < S; ++s) {
        const int blocks = (c.seqs[s].context - 1) / BS + 1 - first_block[s];
        for (int b = 0; b < blocks; ++b) table[size_t(s) * stride + b] = pages[next_page++];
    }

    // Cache contents (bf16-exact floats, so both sides read the same values) and queries.
    const size_t cache_size = size_t(num_pages) * BS * Hkv * D;
    std::vector<float> k_cache = from_bf16(to_bf16(random_normal(cache_size, 1.0f, 11)));
    std::vector<float> v_cache = from_bf16(to_bf16(random_normal(cache_size, 1.0f, 12)));
    const int q_stride = (Hq + 2 * Hkv) * D;  // q sits at the start of a qkv row, as in the runner
    const std::vector<float> qkv = random_normal(size_t(T) * q_stride, 2.0f, 13);
    std::vector<float> q(size_t(T) * Hq * D);
    for (int t = 0; t < T; ++t) std::copy_n(&qkv[size_t(t) * q_stride], Hq * D, &q[size_t(t) * Hq * D]);
    std::vector<int32_t> positions(T);
    for (int s = 0; s < S; ++s)
        for (int i = 0; i < c.seqs[s].q_len; ++i)
            positions[query_start[s] + i] = c.seqs[s].context - c.seqs[s].q_len + i;
    std::vector<float> sinks_f = random_normal(Hq, 1.0f, 14);
    for (float& v : sinks_f) v += c.sink_shift;
    const std::vector<uint16_t> sinks = to_bf16(sinks_f);

    std::vector<float> expected(size_t(T) * Hq * D);
    cpu::attention(q.data(), {k_cache.data(), v_cache.data(), BS, Hkv, D},
                   {table.data(), stride, W > 0 ? first_block.data() : nullptr}, query_start, positions, Hq,
                   W, sinks.data(), expected.data());

    const cuda::AttentionTiles tiles = cuda::make_attention_tiles(query_start, Hq / Hkv);
    auto d_qkv = to_device(qkv);
    auto d_k = to_device(to_bf16(k_cache));
    auto d_v = to_device(to_bf16(v_cache));
    auto d_table = to_device(table);
    auto d_first = to_device(first_block);
    auto d_qs = to_device(query_start);
    auto d_pos = to_device(positions);
    auto d_sinks = to_device(from_bf16(sinks));
    auto d_tile_seq = to_device(tiles.seq);
    auto d_tile_row = to_device(tiles.row_start);
    cuda::DeviceBuffer<float> split_out(size_t(c.num_splits) * T * Hq * D),
        split_max(size_t(c.num_splits) * T * Hq), split_sum(size_t(c.num_splits) * T * Hq);
    auto d_out = poisoned<uint16_t>(size_t(2) * T * Hq * D, 0x7fc0);  // split pair: hi rows, lo rows
    cuda::attention({.q = d_qkv.get(),
                     .q_row_stride = q_stride,
                     .k_cache = d_k.get(),
                     .v_cache = d_v.get(),
                     .block_size = BS,
                     .block_table = d_table.get(),
                     .table_stride = stride,
                     .first_block = W > 0 ? d_first.get() : nullptr,
                     .query_start = d_qs.get(),
                     .positions = d_pos.get(),
                     .num_tokens = T,
                     .num_heads = Hq,
                     .num_kv_heads = Hkv,
                     .head_dim = D,
                     .window = W,
                     .sinks = d_sinks.get(),
                     .scale = 1.0f / std::sqrt(float(D)),
                     .tile_seq = d_tile_seq.get(),
                     .tile_row_start = d_tile_row.get(),
                     .num_tiles = static_cast<int>(tiles.seq.size()),
                     .num_splits = c.num_splits,
                     .split_out = split_out.get(),
                     .split_max = split_max.get(),
                     .split_sum = split_sum.get(),
                     .out = d_out.get(),
                     .out_lo = d_out.get() + size_t(T) * Hq * D},
                    nullptr);
    const std::vector<float> got = from_split_bf16(to_host(d_out));
    const double err = rel_l2(got, expected);
    EXPECT_LT(err, 1e-4) << "q, p and out are split pairs: float32 accuracy over the same bf16 cache";
    // Every token on its own, so a wrong decode row cannot hide behind many right prefill rows.
    double worst = 0.0;
    int worst_token = -1;
    for (int t = 0; t < T; ++t) {
        const std::vector<float> a(got.begin() + size_t(t) * Hq * D, got.begin() + size_t(t + 1) * Hq * D);
        const std::vector<float> b(expected.begin() + size_t(t) * Hq * D,
                                   expected.begin() + size_t(t + 1) * Hq * D);
        const double e = rel_l2(a, b);
        if (e > worst) {
            worst = e;
            worst_token = t;
        }
    }
    EXPECT_LT(worst, 3e-4) << "token " << worst_token << " at position "
                           << positions[std::max(worst_token, 0)];
    std::printf("[ attention %s ] rel_l2 %.3e, worst token %.3e\n", c.name, err, worst);
}

const std::vector<SeqShape> kMixed = {{300, 300}, {1000, 1}, {517, 45}, {129, 1}, {128, 128}, {17, 3},
                                      {64, 64},   {200, 1},  {33, 33},  {1, 1},   {700, 130}};
const std::vector<SeqShape> kLongDecodes = {{3000, 1}, {1500, 1}, {2049, 1}, {700, 1}, {130, 1}};

INSTANTIATE_TEST_SUITE_P(
    Shapes, CudaAttention,
    ::testing::Values(Case{"gptoss_full", 64, 8, 64, 0, kMixed, 1, 0.0f},
                      Case{"gptoss_window128", 64, 8, 64, 128, kMixed, 1, 0.0f},
                      Case{"gptoss_full_strong_sinks", 64, 8, 64, 0, kMixed, 1, 4.0f},
                      Case{"gptoss_full_split4", 64, 8, 64, 0, kLongDecodes, 4, 0.0f},
                      Case{"gptoss_full_split7_mixed", 64, 8, 64, 0, kMixed, 7, 0.0f},
                      Case{"gptoss_window_split3", 64, 8, 64, 128, kLongDecodes, 3, 0.0f},
                      Case{"tiny_window16", 8, 2, 64, 16, kMixed, 1, 0.0f},
                      Case{"toy_gqa2", 4, 2, 64, 128, kMixed, 1, 0.0f},
                      Case{"head_dim128_window16", 16, 2, 128, 16, kMixed, 2, 0.0f},
                      Case{"mha_no_gqa", 4, 4, 64, 0, kMixed, 1, 0.0f}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gptoss::testing
