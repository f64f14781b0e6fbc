// The MoE block on the GPU (moe_group -> MXFP4 gate_up GEMM + SwiGLU -> MXFP4 down GEMM x routing weight ->
// combine) vs cpu::moe, on random MXFP4 experts of gpt-oss-20b size and of the fixtures' sizes, repacked as
// DeviceWeights does. Covers the decode kernel (<= 64 tokens: 1, 2, 4 and 8 token slots, experts of several
// 8-row tiles) and both tile sizes of the grouped GEMM (128 tokens: 16 rows; prefill: 64). Activations are
// split bf16 pairs, so the GPU matches the float32 reference to float32 accuracy.
#include <algorithm>
#include <cmath>

#include "cuda/kernels/kernels.h"
#include "engine/cpu/ops.h"
#include "tests/cuda/cuda_test_util.h"

namespace gptoss::testing {
namespace {

struct Case {
    const char* name;
    int tokens, hidden, intermediate, experts, k;
    int scale_shift = 0;  // added to every e8m0 scale: reaches the decoder's large-scale branch (> 128)
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.name;
}

// Random MXFP4 weights [E, rows, cols/32, 16] + scales whose decoded RMS is about 1/sqrt(cols).
struct Mxfp4Tensor {
    std::vector<uint8_t> blocks, scales;
    Mxfp4Tensor(int experts, int rows, int cols, std::mt19937& rng, int scale_shift) {
        blocks.resize(size_t(experts) * rows * cols / 2);
        scales.resize(size_t(experts) * rows * cols / 32);
        for (uint8_t& b : blocks) b = static_cast<uint8_t>(rng());
        const int base = 127 + scale_shift +
                         static_cast<int>(std::lround(std::log2(1.0 / (std::sqrt(double(cols)) * 2.926))));
        for (uint8_t& s : scales) s = static_cast<uint8_t>(base - 1 + static_cast<int>(rng() % 3));
    }
};

// The tensor on the device in the expert GEMMs' layout (cuda::mxfp4_repack, as DeviceWeights uploads it).
struct RepackedMxfp4 {
    cuda::DeviceBuffer<uint8_t> codes, scales;
    RepackedMxfp4(const Mxfp4Tensor& t, int experts, int rows, int cols)
        : codes(t.blocks.size()), scales(t.scales.size()) {
        auto blocks = to_device(t.blocks);
        auto raw_scales = to_device(t.scales);
        cuda::mxfp4_repack({.blocks = blocks.get(),
                            .scales = raw_scales.get(),
                            .experts = experts,
                            .rows = rows,
                            .cols = cols,
                            .packed_codes = codes.get(),
                            .packed_scales = scales.get()},
                           nullptr);
        GPTOSS_CUDA_CHECK(cudaDeviceSynchronize());
    }
};

TensorView view(const void* data, size_t nbytes) {
    TensorView v;
    v.data = data;
    v.nbytes = nbytes;
    return v;
}

class CudaMoe : public ::testing::TestWithParam<Case> {};

TEST_P(CudaMoe, MatchesCpu) {
    GPTOSS_SKIP_WITHOUT_GPU();
    const Case& c = GetParam();
    const int T = c.tokens, H = c.hidden, I = c.intermediate, E = c.experts, K = c.k, P = T * K;
    std::mt19937 rng(99 + T + H);
    const Mxfp4Tensor gate_up(E, 2 * I, H, rng, c.scale_shift), down(E, H, I, rng, c.scale_shift);
    const std::vector<uint16_t> gate_up_bias = to_bf16(random_normal(size_t(E) * 2 * I, 0.1f, 1));
    const std::vector<uint16_t> down_bias = to_bf16(random_normal(size_t(E) * H, 0.1f, 2));
    const std::vector<float> h = random_normal(size_t(T) * H, 1.0f, 3);
    const std::vector<float> router_logits = random_normal(size_t(T) * E, 1.0f, 4);
    std::vector<int32_t> experts(P);
    std::vector<float> weights(P);
    cpu::router_topk(router_logits.data(), T, E, K, experts.data(), weights.data());

    ModelConfig config;
    config.hidden_size = H;
    config.intermediate_size = I;
    config.num_local_experts = E;
    config.num_experts_per_tok = K;
    config.swiglu_limit = 7.0;
    LayerWeights layer;
    layer.gate_up_blocks = view(gate_up.blocks.data(), gate_up.blocks.size());
    layer.gate_up_scales = view(gate_up.scales.data(), gate_up.scales.size());
    layer.gate_up_bias = view(gate_up_bias.data(), gate_up_bias.size() * 2);
    layer.down_blocks = view(down.blocks.data(), down.blocks.size());
    layer.down_scales = view(down.scales.data(), down.scales.size());
    layer.down_bias = view(down_bias.data(), down_bias.size() * 2);
    std::vector<float> expected(size_t(T) * H);
    cpu::moe(h.data(), experts.data(), weights.data(), T, layer, config, expected.data());

    auto d_h = to_device(to_split_bf16(h));
    auto d_experts = to_device(experts);
    auto d_weights = to_device(weights);
    const RepackedMxfp4 d_gu(gate_up, E, 2 * I, H), d_dn(down, E, H, I);
    auto d_gu_bias = to_device(from_bf16(gate_up_bias));
    auto d_dn_bias = to_device(from_bf16(down_bias));
    const int tile_rows = cuda::moe_gemm_tile_rows(P, E, K);
    const int max_tiles = cuda::moe_max_tiles(P, E, tile_rows);
    cuda::DeviceBuffer<int32_t> offsets(E + 1), sorted(P), tile_expert(max_tiles), tile_row(max_tiles),
        num_tiles(1);
    auto d_act = poisoned<uint16_t>(size_t(2) * P * I, 0x7fc0);
    auto d_y = poisoned<float>(size_t(P) * H, NAN);
    cuda::moe_group({.experts = d_experts.get(),
                     .num_pairs = P,
                     .num_experts = E,
                     .tile_rows = tile_rows,
                     .max_tiles = max_tiles,
                     .expert_offsets = offsets.get(),
                     .sorted_pairs = sorted.get(),
                     .tile_expert = tile_expert.get(),
                     .tile_row_start = tile_row.get(),
                     .num_tiles = num_tiles.get()},
                    nullptr);
    cuda::MoeGemmArgs args{.epilogue = cuda::MoeEpilogue::kGateUpSwiglu,
                           .a = d_h.get(),
                           .a_lo_offset = int64_t(T) * H,
                           .top_k = K,
                           .num_pairs = P,
                           .blocks = d_gu.codes.get(),
                           .scales = d_gu.scales.get(),
                           .bias = d_gu_bias.get(),
                           .in_features = H,
                           .out_features = 2 * I,
                           .sorted_pairs = sorted.get(),
                           .expert_offsets = offsets.get(),
                           .tile_expert = tile_expert.get(),
                           .tile_row_start = tile_row.get(),
                           .num_tiles = num_tiles.get(),
                           .max_tiles = max_tiles,
                           .tile_rows = tile_rows,
                           .swiglu_limit = 7.0f,
                           .routing_weights = d_weights.get(),
                           .act_out = d_act.get(),
                           .act_lo_out = d_act.get() + size_t(P) * I,
                           .y_out = d_y.get()};
    cuda::moe_mxfp4_gemm(args, nullptr);
    args.epilogue = cuda::MoeEpilogue::kDownWeighted;
    args.a = d_act.get();
    args.a_lo_offset = int64_t(P) * I;
    args.blocks = d_dn.codes.get();
    args.scales = d_dn.scales.get();
    args.bias = d_dn_bias.get();
    args.in_features = I;
    args.out_features = H;
    cuda::moe_mxfp4_gemm(args, nullptr);

    // The grouping: a permutation of the pairs, expert by expert.
    const std::vector<int32_t> got_offsets = to_host(offsets), got_sorted = to_host(sorted);
    std::vector<int32_t> count(E, 0);
    for (int32_t e : experts) ++count[e];
    for (int e = 0; e < E; ++e) EXPECT_EQ(got_offsets[e + 1] - got_offsets[e], count[e]) << "expert " << e;
    for (int e = 0; e < E; ++e)
        for (int i = got_offsets[e]; i < got_offsets[e + 1]; ++i) EXPECT_EQ(experts[got_sorted[i]], e);
    std::vector<int32_t> perm(got_sorted);
    std::sort(perm.begin(), perm.end());
    for (int p = 0; p < P; ++p) ASSERT_EQ(perm[p], p);

    // The combine: sum over each token's K weighted rows (what the next rmsnorm adds into the residual).
    const std::vector<float> y = to_host(d_y);
    std::vector<float> got(size_t(T) * H, 0.0f);
    for (int t = 0; t < T; ++t)
        for (int k = 0; k < K; ++k)
            for (int i = 0; i < H; ++i) got[size_t(t) * H + i] += y[(size_t(t) * K + k) * H + i];
    const double err = rel_l2(got, expected);
    EXPECT_LT(err, 1e-4) << "split bf16 activations: float32 accuracy";
    std::printf("[ moe %s ] tile_rows %d rel_l2 %.3e\n", c.name, tile_rows, err);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CudaMoe,
    ::testing::Values(
        Case{"gptoss20b_decode1", 1, 2880, 2880, 32, 4}, Case{"gptoss20b_decode2", 2, 2880, 2880, 32, 4},
        Case{"gptoss20b_decode4", 4, 2880, 2880, 32, 4}, Case{"gptoss20b_decode7", 7, 2880, 2880, 32, 4},
        Case{"gptoss20b_decode8", 8, 2880, 2880, 32, 4}, Case{"gptoss20b_batch16", 16, 2880, 2880, 32, 4},
        Case{"tiny_decode3", 3, 256, 256, 8, 4}, Case{"toy_decode1", 1, 128, 256, 8, 4},
        Case{"tiny_decode_large_scales", 2, 256, 256, 8, 4, 12},
        Case{"tiny_prefill_large_scales", 40, 256, 256, 8, 4, 12},
        Case{"tiny_decode_small_scales", 2, 256, 256, 8, 4, -90},
        Case{"gptoss20b_batch64", 64, 2880, 2880, 32, 4},
        Case{"gptoss20b_prefill300", 300, 2880, 2880, 32, 4}, Case{"tiny_16rows", 20, 256, 256, 8, 4},
        Case{"tiny_64rows", 150, 256, 256, 8, 4}, Case{"toy", 70, 128, 256, 8, 4}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gptoss::testing
