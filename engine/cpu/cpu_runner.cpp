// The float32 forward pass over the paged KV layout, composed from engine/cpu/ops.h, then sampling.
//
// Legend: T tokens of the step, S sequences, H hidden, Hq / Hkv query / KV heads, D head_dim, E experts,
// K experts per token, V vocab, N rows whose logits are needed, NB pages of a pool, BS block size,
// L_full / L_win layers of each attention type.
#include "engine/cpu/cpu_runner.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/batch_validation.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/ops.h"
#include "engine/sampler.h"

namespace gptoss {

namespace {

// K and V pages of one pool for all layers of its type: [L, NB, BS, Hkv, D] each.
struct KvPool {
    std::vector<float> k, v;
    int64_t layer_floats = 0;  // NB * BS * Hkv * D
};

class CpuRunner final : public ModelRunner {
public:
    CpuRunner(std::shared_ptr<const ModelWeights> weights, int num_threads)
        : weights_(std::move(weights)),
          config_(weights_->config()),
          num_threads_(num_threads > 0 ? num_threads
                                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
          rope_(cpu::make_rope_table(config_)) {
        spdlog::info("cpu runner threads={} kernels={}", num_threads_, cpu::kernels::isa_name());
        // The weights stay memory-mapped: a checkpoint larger than RAM (gpt-oss-120b is 65 GB) still runs,
        // but every step then reads the experts it routes to from disk.
        const uint64_t physical = uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGE_SIZE));
        if (weights_->total_bytes() > physical) {
            spdlog::warn(
                "cpu runner: the checkpoint ({:.1f} GB) is larger than this machine's memory ({:.1f} GB); it "
                "runs from the page cache and disk, far slower than from memory",
                weights_->total_bytes() / 1e9, physical / 1e9);
        }
    }

    const ModelConfig& config() const override { return config_; }
    std::string_view backend_name() const override { return "cpu"; }
    size_t kv_bytes_per_token_per_layer() const override {
        return size_t{2} * config_.num_key_value_heads * config_.head_dim * sizeof(float);
    }
    int64_t default_kv_cache_bytes(const EngineConfig&) const override {
        // 2 GiB, or an eighth of physical memory on small machines (the weights live in the page cache too).
        const int64_t physical = int64_t{sysconf(_SC_PHYS_PAGES)} * sysconf(_SC_PAGE_SIZE);
        return std::min<int64_t>(int64_t{2} << 30, physical / 8);
    }

    void allocate_kv_cache(const KvCacheLayout& layout) override {
        if (layout.block_size <= 0 || layout.num_full_blocks < 0 || layout.num_window_blocks < 0) {
            throw std::invalid_argument(
                fmt::format("KV cache layout: bad block_size {} or block counts", layout.block_size));
        }
        layout_ = layout;
        const int64_t row = int64_t{config_.num_key_value_heads} * config_.head_dim;
        auto allocate = [&](KvPool& pool, int num_layers, int num_blocks) {
            pool.layer_floats = int64_t{num_blocks} * layout.block_size * row;
            pool.k.assign(static_cast<size_t>(pool.layer_floats * num_layers), 0.0f);
            pool.v.assign(static_cast<size_t>(pool.layer_floats * num_layers), 0.0f);
        };
        allocate(full_, config_.num_full_layers(), layout.num_full_blocks);
        allocate(window_, config_.num_sliding_layers(), layout.num_window_blocks);
        allocated_ = true;
    }

    StepOutput execute(const BatchInputs& inputs) override;

private:
    void forward_layer(int layer, const BatchInputs& in);
    std::vector<int32_t> rows_needing_logits(const BatchInputs& in) const;

    std::shared_ptr<const ModelWeights> weights_;
    const ModelConfig& config_;
    int num_threads_;
    cpu::RopeTable rope_;
    KvCacheLayout layout_;
    bool allocated_ = false;
    KvPool full_, window_;

    // Activations of the step, reused across steps.
    std::vector<float> x_;                  // [T, H] residual stream
    std::vector<float> h_;                  // [T, H] normalised
    std::vector<float> q_;                  // [T, Hq * D]
    std::vector<float> k_, v_;              // [T, Hkv * D]
    std::vector<float> attn_;               // [T, Hq * D]
    std::vector<float> proj_;               // [T, H] attention output projection / MoE output
    std::vector<float> router_;             // [T, E]
    std::vector<int32_t> topk_;             // [T, K]
    std::vector<float> topk_w_;             // [T, K]
    std::vector<float> final_x_, final_h_;  // [N, H] rows that need logits, before and after the final norm
    std::vector<float> logits_;             // [N, V]
    std::vector<float> scratch_;            // [V] the sampler modifies its input
};

void CpuRunner::forward_layer(int layer, const BatchInputs& in) {
    const ModelConfig& c = config_;
    const LayerWeights& w = weights_->layers[layer];
    const int T = in.num_tokens, H = c.hidden_size, Q = c.q_dim(), KV = c.kv_dim();
    const float eps = static_cast<float>(c.rms_norm_eps);

    cpu::rmsnorm(x_.data(), w.input_layernorm.bf16(), eps, T, H, h_.data());
    const cpu::LinearOutput qkv[] = {{w.q_proj_weight.bf16(), w.q_proj_bias.bf16(), Q, q_.data()},
                                     {w.k_proj_weight.bf16(), w.k_proj_bias.bf16(), KV, k_.data()},
                                     {w.v_proj_weight.bf16(), w.v_proj_bias.bf16(), KV, v_.data()}};
    cpu::linear_many(h_.data(), T, H, qkv);
    cpu::apply_rope(q_.data(), in.positions, c.num_attention_heads, c.head_dim, rope_);
    cpu::apply_rope(k_.data(), in.positions, c.num_key_value_heads, c.head_dim, rope_);

    // Full layers share the full pool's pages, sliding layers the windowed pool's.
    const bool sliding = c.is_sliding(layer);
    KvPool& pool = sliding ? window_ : full_;
    const int64_t offset = pool.layer_floats * c.pool_layer_index(layer);
    cpu::KvLayerView cache{pool.k.data() + offset, pool.v.data() + offset, layout_.block_size,
                           c.num_key_value_heads, c.head_dim};
    cpu::write_kv(k_.data(), v_.data(), sliding ? in.window_slot_mapping : in.full_slot_mapping, cache);
    cpu::BlockTableView blocks =
        sliding ? cpu::BlockTableView{in.window_block_table.data(), in.window_table_stride,
                                      in.window_first_block.data()}
                : cpu::BlockTableView{in.full_block_table.data(), in.full_table_stride, nullptr};
    cpu::attention(q_.data(), cache, blocks, in.query_start, in.positions, c.num_attention_heads,
                   sliding ? c.sliding_window : 0, w.sinks.bf16(), attn_.data());
    cpu::linear(attn_.data(), w.o_proj_weight.bf16(), w.o_proj_bias.bf16(), T, Q, H, proj_.data());
    for (int64_t i = 0; i < int64_t{T} * H; ++i) x_[i] += proj_[i];

    cpu::rmsnorm(x_.data(), w.post_attention_layernorm.bf16(), eps, T, H, h_.data());
    cpu::linear(h_.data(), w.router_weight.bf16(), w.router_bias.bf16(), T, H, c.num_local_experts,
                router_.data());
    cpu::router_topk(router_.data(), T, c.num_local_experts, c.num_experts_per_tok, topk_.data(),
                     topk_w_.data());
    cpu::moe(h_.data(), topk_.data(), topk_w_.data(), T, w, c, proj_.data());
    for (int64_t i = 0; i < int64_t{T} * H; ++i) x_[i] += proj_[i];
}

// Sorted, unique token rows whose logits are needed: the sampled rows, and the rows the caller asked for.
std::vector<int32_t> CpuRunner::rows_needing_logits(const BatchInputs& in) const {
    std::vector<int32_t> rows(in.logits_token_indices);
    rows.insert(rows.end(), in.sample_token_index.begin(), in.sample_token_index.end());
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    return rows;
}

StepOutput CpuRunner::execute(const BatchInputs& in) {
    if (!allocated_) throw std::logic_error("CpuRunner::execute called before allocate_kv_cache");
    validate_batch_inputs(in, config_, layout_);
    omp_set_num_threads(num_threads_);
    const ModelConfig& c = config_;
    const int T = in.num_tokens, H = c.hidden_size, V = c.vocab_size, K = c.num_experts_per_tok;

    StepOutput out;
    if (T > 0) {
        x_.resize(size_t(T) * H);
        h_.resize(size_t(T) * H);
        q_.resize(size_t(T) * c.q_dim());
        k_.resize(size_t(T) * c.kv_dim());
        v_.resize(size_t(T) * c.kv_dim());
        attn_.resize(size_t(T) * c.q_dim());
        proj_.resize(size_t(T) * H);
        router_.resize(size_t(T) * c.num_local_experts);
        topk_.resize(size_t(T) * K);
        topk_w_.resize(size_t(T) * K);
        cpu::embedding(weights_->embed_tokens.bf16(), in.token_ids, H, x_.data());
        for (int layer = 0; layer < c.num_hidden_layers; ++layer) forward_layer(layer, in);
    }

    const std::vector<int32_t> rows = rows_needing_logits(in);
    const int N = static_cast<int>(rows.size());
    final_x_.resize(size_t(N) * H);
    final_h_.resize(size_t(N) * H);
    logits_.resize(size_t(N) * V);
    for (int i = 0; i < N; ++i) std::copy_n(&x_[size_t(rows[i]) * H], H, &final_x_[size_t(i) * H]);
    cpu::rmsnorm(final_x_.data(), weights_->norm.bf16(), static_cast<float>(c.rms_norm_eps), N, H,
                 final_h_.data());
    cpu::linear(final_h_.data(), weights_->lm_head.bf16(), nullptr, N, H, V, logits_.data());
    auto logits_row = [&](int32_t token_row) {
        size_t i = std::lower_bound(rows.begin(), rows.end(), token_row) - rows.begin();
        return logits_.data() + i * V;
    };

    const int R = in.num_sampled_rows();
    bool any_logprobs = false;
    for (int r = 0; r < R; ++r) any_logprobs |= in.sampling[in.sample_seq[r]].params->logprobs;
    out.sampled_tokens.resize(R);
    if (any_logprobs) out.logprobs.resize(R);
    scratch_.resize(V);
    for (int r = 0; r < R; ++r) {
        std::copy_n(logits_row(in.sample_token_index[r]), V, scratch_.data());
        out.sampled_tokens[r] =
            sample_token(scratch_, in.row_sampling(r), any_logprobs ? &out.logprobs[r] : nullptr);
    }
    out.logits.resize(in.logits_token_indices.size() * size_t(V));
    for (size_t i = 0; i < in.logits_token_indices.size(); ++i) {
        std::copy_n(logits_row(in.logits_token_indices[i]), V, &out.logits[i * V]);
    }
    return out;
}

}  // namespace

std::unique_ptr<ModelRunner> make_cpu_runner(std::shared_ptr<const ModelWeights> weights, int num_threads) {
    if (!weights) throw std::invalid_argument("make_cpu_runner: no weights");
    return std::make_unique<CpuRunner>(std::move(weights), num_threads);
}

}  // namespace gptoss
