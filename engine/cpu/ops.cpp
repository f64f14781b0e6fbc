#include "engine/cpu/ops.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>

#include "engine/cpu/kernels.h"
#include "engine/weights/dtype.h"

namespace gptoss::cpu {

namespace {

using kernels::WeightMatrix;

int ceil_div(int a, int b) {
    return (a + b - 1) / b;
}

// Below this many multiply-adds a step runs on the calling thread: waking the team costs more than it saves,
// and a busy machine (or tests running side by side) can deschedule a team member for a whole time slice.
constexpr int64_t kMinParallelWork = int64_t{1} << 19;

// y[T, R] = x[T, C] W^T (+ b), split over (token chunk, row chunk) work items. Every (token, row) result is
// computed by one kernel call in the kernels' fixed order, so the split never changes a value.
void parallel_matmul(const float* x, int num_tokens, const WeightMatrix& w, const uint16_t* bias, float* y) {
    const int rows = w.rows;
    const int row_chunk = num_tokens <= 4 ? 16 : 64;
    const int token_chunk = 256;
    const int num_row_chunks = ceil_div(rows, row_chunk);
    const int num_token_chunks = ceil_div(num_tokens, token_chunk);
    const int num_items = num_row_chunks * num_token_chunks;
    const int64_t work = int64_t{num_tokens} * rows * w.cols;
#pragma omp parallel for schedule(dynamic) if (num_items > 1 && work >= kMinParallelWork)
    for (int item = 0; item < num_items; ++item) {
        const int r0 = (item % num_row_chunks) * row_chunk;
        const int t0 = (item / num_row_chunks) * token_chunk;
        const int r1 = std::min(rows, r0 + row_chunk);
        const int tn = std::min(num_tokens - t0, token_chunk);
        kernels::matmul_rows(x + static_cast<int64_t>(t0) * w.cols, tn, w, bias, r0, r1,
                             y + static_cast<int64_t>(t0) * rows, rows);
    }
}

// HF _compute_yarn_parameters' correction dimension (double precision, as in Python).
double yarn_correction_dim(double num_rotations, int dim, double base, int original_max_positions) {
    return dim * std::log(original_max_positions / (num_rotations * 2 * M_PI)) / (2 * std::log(base));
}

}  // namespace

void embedding(const uint16_t* table, std::span<const int32_t> ids, int hidden, float* out) {
    const int num_tokens = static_cast<int>(ids.size());
#pragma omp parallel for schedule(static) if (int64_t{num_tokens} * hidden >= kMinParallelWork)
    for (int t = 0; t < num_tokens; ++t) {
        const uint16_t* row = table + static_cast<int64_t>(ids[t]) * hidden;
        float* dst = out + static_cast<int64_t>(t) * hidden;
        for (int i = 0; i < hidden; ++i) dst[i] = bf16_to_float(row[i]);
    }
}

void rmsnorm(const float* x, const uint16_t* weight, float eps, int num_tokens, int hidden, float* out) {
#pragma omp parallel for schedule(static) if (int64_t{num_tokens} * hidden >= kMinParallelWork / 4)
    for (int t = 0; t < num_tokens; ++t) {
        const float* row = x + static_cast<int64_t>(t) * hidden;
        float* dst = out + static_cast<int64_t>(t) * hidden;
        double sum_squares = 0.0;  // an accurate mean, in a fixed order
        for (int i = 0; i < hidden; ++i) sum_squares += static_cast<double>(row[i]) * row[i];
        const float variance = static_cast<float>(sum_squares / hidden);
        const float inv_rms = 1.0f / std::sqrt(variance + eps);
        for (int i = 0; i < hidden; ++i) dst[i] = bf16_to_float(weight[i]) * (row[i] * inv_rms);
    }
}

void linear(const float* x, const uint16_t* weight, const uint16_t* bias, int num_tokens, int in_features,
            int out_features, float* y) {
    WeightMatrix w;
    w.format = WeightMatrix::Format::kBF16;
    w.bf16 = weight;
    w.rows = out_features;
    w.cols = in_features;
    parallel_matmul(x, num_tokens, w, bias, y);
}

RopeTable make_rope_table(const ModelConfig& config) {
    // Mirrors transformers' float32 arithmetic step by step (HF _compute_yarn_parameters /
    // _compute_default_rope_parameters), so the frequencies agree to the last bit or so.
    const int dim = config.head_dim;
    const int half = dim / 2;
    const float base = static_cast<float>(config.rope_theta);
    RopeTable table;
    table.inv_freq.resize(half);
    std::vector<float> pos_freqs(half);
    for (int i = 0; i < half; ++i) {
        const float exponent = static_cast<float>(2 * i) / static_cast<float>(dim);
        pos_freqs[i] = static_cast<float>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
    }
    const RopeScaling& rs = config.rope_scaling;
    if (rs.rope_type != "yarn") {
        for (int i = 0; i < half; ++i) table.inv_freq[i] = 1.0f / pos_freqs[i];
        table.attention_scaling = 1.0f;
        return table;
    }
    const double factor = rs.factor;
    table.attention_scaling = static_cast<float>(factor <= 1 ? 1.0 : 0.1 * std::log(factor) + 1.0);
    double low =
        yarn_correction_dim(rs.beta_fast, dim, config.rope_theta, rs.original_max_position_embeddings);
    double high =
        yarn_correction_dim(rs.beta_slow, dim, config.rope_theta, rs.original_max_position_embeddings);
    if (rs.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
    }
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(dim - 1));
    if (low == high) high += 0.001;  // HF: prevent a zero-width ramp
    const float low_f = static_cast<float>(low);
    const float span_f = static_cast<float>(high - low);
    const float factor_f = static_cast<float>(factor);
    for (int i = 0; i < half; ++i) {
        const float extrapolation = 1.0f / pos_freqs[i];
        const float interpolation = 1.0f / (factor_f * pos_freqs[i]);
        const float ramp = std::clamp((static_cast<float>(i) - low_f) / span_f, 0.0f, 1.0f);
        const float extrapolation_weight = 1.0f - ramp;
        const float a = interpolation * (1.0f - extrapolation_weight);
        const float b = extrapolation * extrapolation_weight;
        table.inv_freq[i] = a + b;
    }
    return table;
}

void apply_rope(float* x, std::span<const int32_t> positions, int num_heads, int head_dim,
                const RopeTable& rope) {
    const int half = head_dim / 2;
    const int num_tokens = static_cast<int>(positions.size());
#pragma omp parallel for schedule(static) if (int64_t{num_tokens} * num_heads * head_dim >= \
                                              kMinParallelWork / 4)
    for (int t = 0; t < num_tokens; ++t) {
        std::vector<float> cos_v(half), sin_v(half);  // [D/2]
        const float pos = static_cast<float>(positions[t]);
        for (int i = 0; i < half; ++i) {
            const float angle = rope.inv_freq[i] * pos;  // rounded to float32, as transformers does
            cos_v[i] = static_cast<float>(std::cos(static_cast<double>(angle))) * rope.attention_scaling;
            sin_v[i] = static_cast<float>(std::sin(static_cast<double>(angle))) * rope.attention_scaling;
        }
        for (int h = 0; h < num_heads; ++h) {
            float* v = x + (static_cast<int64_t>(t) * num_heads + h) * head_dim;
            for (int i = 0; i < half; ++i) {
                const float first = v[i], second = v[i + half];
                const float a = first * cos_v[i], b = second * sin_v[i];
                const float c = second * cos_v[i], d = first * sin_v[i];
                v[i] = a - b;
                v[i + half] = c + d;
            }
        }
    }
}

void write_kv(const float* k, const float* v, std::span<const int64_t> slot_mapping,
              const KvLayerView& cache) {
    const int64_t row = static_cast<int64_t>(cache.num_kv_heads) * cache.head_dim;
    const int num_tokens = static_cast<int>(slot_mapping.size());
    for (int t = 0; t < num_tokens; ++t) {
        const int64_t slot = slot_mapping[t];
        if (slot < 0) continue;
        std::copy_n(k + t * row, row, cache.k + slot * row);
        std::copy_n(v + t * row, row, cache.v + slot * row);
    }
}

void attention(const float* q, const KvLayerView& cache, const BlockTableView& blocks,
               std::span<const int32_t> query_start, std::span<const int32_t> positions, int num_heads,
               int window, const uint16_t* sinks, float* out) {
    const int num_seqs = static_cast<int>(query_start.size()) - 1;
    const int kv_heads = cache.num_kv_heads;
    const int D = cache.head_dim;
    const int G = num_heads / kv_heads;  // query heads per KV head
    const int BS = cache.block_size;
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    const int64_t key_stride = static_cast<int64_t>(kv_heads) * D;  // floats between consecutive slots

    // Work items: up to kQueryTile consecutive tokens of one sequence and one KV head. The tile's queries
    // share one pass over their keys (each page is read once per tile, not once per query); every row still
    // has its own key range, softmax and reduction order, so tiling never changes a value.
    constexpr int kQueryTile = 8;
    struct Tile {
        int seq, t0, t1;
    };
    std::vector<Tile> tiles;
    for (int s = 0; s < num_seqs; ++s) {
        for (int t0 = query_start[s]; t0 < query_start[s + 1]; t0 += kQueryTile) {
            tiles.push_back({s, t0, std::min(query_start[s + 1], t0 + kQueryTile)});
        }
    }
    const int num_items = static_cast<int>(tiles.size()) * kv_heads;
    int64_t work = 0;  // query rows x keys x head_dim, roughly
    for (int s = 0; s < num_seqs; ++s) {
        const int n = query_start[s + 1] - query_start[s];
        if (n == 0) continue;
        const int keys = window > 0 ? window : positions[query_start[s + 1] - 1] + 1;
        work += int64_t{n} * num_heads * keys * D;
    }
#pragma omp parallel for schedule(dynamic) if (work >= kMinParallelWork)
    for (int item = 0; item < num_items; ++item) {
        const Tile tile = tiles[item / kv_heads];
        const int kvh = item % kv_heads;
        const int32_t* table = blocks.table + static_cast<int64_t>(tile.seq) * blocks.stride;
        const int first_block = blocks.first_block ? blocks.first_block[tile.seq] : 0;

        // Row r = (token t0 + r / G, query head kvh * G + r % G) sees keys [lo[r], hi[r]].
        const int R = (tile.t1 - tile.t0) * G;
        thread_local std::vector<const float*> q_rows, p_rows;
        thread_local std::vector<float*> out_rows;
        thread_local std::vector<int> lo, hi, begin, end;
        thread_local std::vector<float> probs;  // [R, num_keys] scores, then probabilities
        for (auto* v : {&lo, &hi, &begin, &end}) v->resize(R);
        q_rows.resize(R);
        p_rows.resize(R);
        out_rows.resize(R);
        int first_key = INT32_MAX, last_key = 0;
        for (int r = 0; r < R; ++r) {
            const int t = tile.t0 + r / G;
            const int64_t head_row = static_cast<int64_t>(t) * num_heads + kvh * G + r % G;
            q_rows[r] = q + head_row * D;
            out_rows[r] = out + head_row * D;
            hi[r] = positions[t];
            lo[r] = window > 0 ? std::max(0, hi[r] - window + 1) : 0;
            first_key = std::min(first_key, lo[r]);
            last_key = std::max(last_key, hi[r]);
        }
        const int num_keys = last_key - first_key + 1;
        probs.resize(static_cast<size_t>(R) * num_keys);

        // Visits keys first_key..last_key as runs of consecutive slots within one page.
        auto for_each_run = [&](auto&& f) {
            for (int j = first_key; j <= last_key;) {
                const int count = std::min(last_key + 1, (j / BS + 1) * BS) - j;
                const int32_t page = table[j / BS - first_block];
                f(j, count, ((static_cast<int64_t>(page) * BS + j % BS) * kv_heads + kvh) * D);
                j += count;
            }
        };
        for_each_run([&](int j, int count, int64_t offset) {
            kernels::attention_scores(q_rows.data(), R, D, cache.k + offset, key_stride, count, scale,
                                      probs.data() + (j - first_key), num_keys);
        });
        // Softmax of each row over its own keys and the sink (which joins the denominator only).
        for (int r = 0; r < R; ++r) {
            float* pr = probs.data() + static_cast<size_t>(r) * num_keys;
            const int a = lo[r] - first_key, b = hi[r] - first_key;
            const float sink = bf16_to_float(sinks[kvh * G + r % G]);
            float m = sink;
            for (int j = a; j <= b; ++j) m = std::max(m, pr[j]);
            float denominator = std::exp(sink - m);
            for (int j = a; j <= b; ++j) {
                pr[j] = std::exp(pr[j] - m);
                denominator += pr[j];
            }
            for (int j = a; j <= b; ++j) pr[j] /= denominator;
            std::fill_n(out_rows[r], D, 0.0f);
        }
        for_each_run([&](int j, int count, int64_t offset) {
            for (int r = 0; r < R; ++r) {
                p_rows[r] = probs.data() + static_cast<size_t>(r) * num_keys + (j - first_key);
                begin[r] = std::clamp(lo[r] - j, 0, count);
                end[r] = std::clamp(hi[r] + 1 - j, 0, count);
            }
            kernels::attention_values(p_rows.data(), out_rows.data(), begin.data(), end.data(), R,
                                      cache.v + offset, key_stride, D);
        });
    }
}

void router_topk(const float* logits, int num_tokens, int num_experts, int k, int32_t* experts,
                 float* weights) {
    std::vector<int32_t> order(num_experts);
    for (int t = 0; t < num_tokens; ++t) {
        const float* row = logits + static_cast<int64_t>(t) * num_experts;
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](int32_t a, int32_t b) { return row[a] != row[b] ? row[a] > row[b] : a < b; });
        int32_t* e = experts + static_cast<int64_t>(t) * k;
        float* w = weights + static_cast<int64_t>(t) * k;
        const float m = row[order[0]];
        float sum = 0.0f;
        for (int i = 0; i < k; ++i) {
            e[i] = order[i];
            w[i] = std::exp(row[order[i]] - m);
            sum += w[i];
        }
        for (int i = 0; i < k; ++i) w[i] /= sum;
    }
}

void swiglu(const float* gate_up, int num_tokens, int intermediate, float limit, float* out) {
    const float alpha = 1.702f;
    const int64_t n = static_cast<int64_t>(num_tokens) * intermediate;
    for (int64_t i = 0; i < n; ++i) {
        const float gate = std::min(gate_up[2 * i], limit);
        const float up = std::clamp(gate_up[2 * i + 1], -limit, limit);
        const float glu = gate * (1.0f / (1.0f + std::exp(-(gate * alpha))));
        out[i] = (up + 1.0f) * glu;
    }
}

void mxfp4_linear(const float* x, const uint8_t* blocks, const uint8_t* scales, const uint16_t* bias,
                  int num_tokens, int in_features, int out_features, float* y) {
    WeightMatrix w;
    w.format = WeightMatrix::Format::kMXFP4;
    w.blocks = blocks;
    w.scales = scales;
    w.rows = out_features;
    w.cols = in_features;
    parallel_matmul(x, num_tokens, w, bias, y);
}

void moe(const float* h, const int32_t* experts, const float* weights, int num_tokens,
         const LayerWeights& layer, const ModelConfig& config, float* out) {
    const int H = config.hidden_size, I = config.intermediate_size, E = config.num_local_experts;
    const int K = config.num_experts_per_tok;
    // Which (token, slot) pairs each expert serves, tokens in increasing order.
    thread_local std::vector<std::vector<int>> assigned;  // [E][n_e] of t * K + slot
    assigned.resize(E);
    for (auto& list : assigned) list.clear();
    for (int t = 0; t < num_tokens; ++t) {
        for (int j = 0; j < K; ++j) assigned[experts[t * K + j]].push_back(t * K + j);
    }
    // Scratch kept between calls (resizing only ever grows it): every element read is written first.
    thread_local std::vector<float> expert_out, x, gate_up, act;  // [T, K, H], [n, H], [n, 2I], [n, I]
    expert_out.resize(std::max(expert_out.size(), static_cast<size_t>(num_tokens) * K * H));
    const int64_t gate_up_blocks_per_expert = int64_t{2} * I * (H / 32) * 16;
    const int64_t down_blocks_per_expert = int64_t{H} * (I / 32) * 16;
    for (int e = 0; e < E; ++e) {
        const auto& pairs = assigned[e];
        const int n = static_cast<int>(pairs.size());
        if (n == 0) continue;
        x.resize(std::max(x.size(), static_cast<size_t>(n) * H));
        for (int i = 0; i < n; ++i)
            std::copy_n(h + static_cast<int64_t>(pairs[i] / K) * H, H, &x[size_t(i) * H]);
        gate_up.resize(std::max(gate_up.size(), static_cast<size_t>(n) * 2 * I));
        mxfp4_linear(x.data(), layer.gate_up_blocks.u8() + e * gate_up_blocks_per_expert,
                     layer.gate_up_scales.u8() + e * gate_up_blocks_per_expert / 16,
                     layer.gate_up_bias.bf16() + int64_t{e} * 2 * I, n, H, 2 * I, gate_up.data());
        act.resize(std::max(act.size(), static_cast<size_t>(n) * I));
        swiglu(gate_up.data(), n, I, static_cast<float>(config.swiglu_limit), act.data());
        // x is reused for the down projection's output [n, H].
        mxfp4_linear(act.data(), layer.down_blocks.u8() + e * down_blocks_per_expert,
                     layer.down_scales.u8() + e * down_blocks_per_expert / 16,
                     layer.down_bias.bf16() + int64_t{e} * H, n, I, H, x.data());
        for (int i = 0; i < n; ++i) {
            std::copy_n(&x[size_t(i) * H], H, &expert_out[static_cast<size_t>(pairs[i]) * H]);
        }
    }
    // Weighted sum in increasing expert id (as transformers' per-expert loop adds them). The team reads the
    // calling thread's buffer (thread_local names would give each thread its own, empty, one).
    const float* expert_rows = expert_out.data();
#pragma omp parallel for schedule(static) if (int64_t{num_tokens} * K * H >= kMinParallelWork / 4)
    for (int t = 0; t < num_tokens; ++t) {
        std::vector<int> slots(K);
        std::iota(slots.begin(), slots.end(), 0);
        std::sort(slots.begin(), slots.end(),
                  [&](int a, int b) { return experts[t * K + a] < experts[t * K + b]; });
        float* dst = out + static_cast<int64_t>(t) * H;
        std::fill_n(dst, H, 0.0f);
        for (int j : slots) {
            const float w = weights[t * K + j];
            const float* y = expert_rows + (static_cast<size_t>(t) * K + j) * H;
            for (int i = 0; i < H; ++i) {
                const float weighted = y[i] * w;
                dst[i] += weighted;
            }
        }
    }
}

}  // namespace gptoss::cpu
