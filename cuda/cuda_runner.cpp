// CudaRunner: the gpt-oss forward pass on one Hopper GPU, behind the engine's ModelRunner interface.
//
// One step = one upload of the step's inputs, the layer loop (all kernels on one stream, no host round
// trip), the final norm + lm_head on the rows that need logits, GPU sampling, and one download of the
// sampled ids (plus requested logprobs / logits). Sequences that need host-only sampler features get their
// logits row copied back and go through engine/sampler.h.
// Numerics: the residual stream is float32; every tensor-core input except the KV cache (bf16, as cached) and
// the lm_head input is a split bf16 pair (kernels.h), so a step tracks the float32 CpuRunner to ~1e-5 per op
// and random-weight models (chaotic: one flipped router choice changes a token's path) stay on its path.
// Shape legend: T tokens, S sequences, H hidden, Q = Hq * D, KV = Hkv * D, E experts, K experts per token,
// I intermediate, R logits rows, V vocab.
#include "cuda/cuda_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "cuda/cuda_check.h"
#include "cuda/decode_inputs.h"
#include "cuda/device_kv_cache.h"
#include "cuda/device_weights.h"
#include "cuda/kernels/kernels.h"
#include "cuda/pinned_buffer.h"
#include "cuda/step_plan.h"
#include "cuda/workspace.h"
#include "engine/batch_validation.h"
#include "engine/cpu/ops.h"
#include "engine/sampler.h"

namespace gptoss {
namespace cuda {
namespace {

// What the layer loop needs to know of a step beyond its device inputs.
struct StepShape {
    int num_tokens = 0;
    int block_size = 16;
    int full_stride = 0;  // table row strides (ignored when the StepInputs carry device strides)
    int window_stride = 0;
    int num_tiles = 0;
    int full_splits = 1;
    int window_splits = 1;
};

class CudaRunner final : public ModelRunner {
public:
    CudaRunner(std::shared_ptr<const ModelWeights> weights, const EngineConfig& engine_config, int device,
               int num_sms)
        : host_weights_(std::move(weights)),
          config_(host_weights_->config()),
          device_(device),
          num_sms_(num_sms),
          weights_(*host_weights_) {
        GPTOSS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
        initial_rows_ = std::max(64, engine_config.max_num_seqs);
        workspace_.ensure(config_, std::max(1, engine_config.max_num_batched_tokens), initial_rows_);
        enforce_eager_ = engine_config.enforce_eager;
        // Decode buckets: powers of two below the largest decode step, then that step itself.
        const int largest = std::min(engine_config.max_num_seqs, workspace_.token_capacity);
        for (int b = 1; b < largest; b *= 2) buckets_.push_back(b);
        buckets_.push_back(largest);
        max_model_len_ = engine_config.max_model_len.value_or(config_.max_position_embeddings);
        const int max_len = max_model_len_;
        decode_inputs_ = std::make_unique<DecodeInputs>(
            largest, (max_len + engine_config.block_size - 1) / engine_config.block_size + 1);
        const cpu::RopeTable rope = cpu::make_rope_table(config_);
        inv_freq_.resize(rope.inv_freq.size());
        GPTOSS_CUDA_CHECK(
            cudaMemcpy(inv_freq_.get(), rope.inv_freq.data(), inv_freq_.bytes(), cudaMemcpyHostToDevice));
        attention_scaling_ = rope.attention_scaling;
    }
    ~CudaRunner() override {
        clear_graphs();
        cudaStreamDestroy(stream_);
    }

    const ModelConfig& config() const override { return config_; }
    std::string_view backend_name() const override { return "cuda"; }
    size_t kv_bytes_per_token_per_layer() const override {
        return DeviceKvCache::bytes_per_token_per_layer(config_);
    }

    int64_t default_kv_cache_bytes(const EngineConfig& config) const override {
        GPTOSS_CUDA_CHECK(cudaSetDevice(device_));
        size_t free_bytes = 0, total_bytes = 0;
        GPTOSS_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
        const auto target =
            static_cast<int64_t>(static_cast<double>(total_bytes) * config.gpu_memory_utilization);
        const int64_t budget = target - static_cast<int64_t>(total_bytes - free_bytes);
        if (budget <= 0)
            throw std::runtime_error(fmt::format(
                "no GPU memory is left for the KV cache: {:.2f} GiB of {:.2f} GiB are in use and "
                "--gpu-memory-utilization {} allows {:.2f} GiB; raise it or pass --kv-cache-memory",
                (total_bytes - free_bytes) / 1073741824.0, total_bytes / 1073741824.0,
                config.gpu_memory_utilization, target / 1073741824.0));
        return budget;
    }

    void allocate_kv_cache(const KvCacheLayout& layout) override {
        GPTOSS_CUDA_CHECK(cudaSetDevice(device_));
        kv_.reset();
        kv_ = std::make_unique<DeviceKvCache>(config_, layout);
        spdlog::info("cuda kv cache allocated bytes={} full_blocks={} window_blocks={} block_size={}",
                     kv_->bytes(), layout.num_full_blocks, layout.num_window_blocks, layout.block_size);
        block_size_ = layout.block_size;
        // Warm-up and capture of every decode bucket now, so no request pays for it: an eager run on padding
        // rows (cuBLASLt plans, kernel attributes, no KV writes) then the capture.
        const auto start = std::chrono::steady_clock::now();
        clear_graphs();
        for (int bucket : buckets_) {
            decode_inputs_->upload_padding(bucket, stream_);
            decode_step(bucket);
            GPTOSS_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the staging image is rewritten next
            if (!enforce_eager_) graph_for(bucket);
        }
        spdlog::info("cuda decode buckets ready buckets={} graphs={} seconds={:.2f}", buckets_.size(),
                     graphs_.size(),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }

    StepOutput execute(const BatchInputs& in) override {
        if (!kv_) throw std::logic_error("CudaRunner::execute called before allocate_kv_cache");
        if (in.block_size != kv_->layout().block_size)
            throw std::invalid_argument(
                fmt::format("BatchInputs block_size {} differs from the KV cache's {}", in.block_size,
                            kv_->layout().block_size));
        GPTOSS_CUDA_CHECK(cudaSetDevice(device_));
        validate_batch_inputs(in, config_, kv_->layout());
        StepOutput out;
        out.sampled_tokens.assign(in.num_sampled_rows(), -1);
        if (in.num_tokens == 0) return out;
        if (decode_inputs_->holds(in)) return execute_decode(in);

        const StepPlan plan = make_step_plan(in, config_, num_sms_, workspace_.split_capacity);
        const int num_rows = static_cast<int>(plan.row_token.size());
        if (workspace_.ensure(config_, in.num_tokens, std::max(initial_rows_, plan.num_sampled)))
            clear_graphs();
        const StepInputs d = upload(in, plan);

        const StepShape shape{.num_tokens = in.num_tokens,
                              .block_size = in.block_size,
                              .full_stride = in.full_table_stride,
                              .window_stride = in.window_table_stride,
                              .num_tiles = static_cast<int>(plan.tiles.seq.size()),
                              .full_splits = plan.full_splits,
                              .window_splits = plan.window_splits};
        forward(shape, d, num_rows > 0);
        if (num_rows > 0) finish(in, plan, d, out);
        GPTOSS_CUDA_CHECK(cudaStreamSynchronize(stream_));
        return out;
    }

private:
    // A decode step: inputs into the fixed buffers padded to the bucket, then the bucket's graph (or the
    // same kernels eagerly with --enforce-eager: identical launches, so identical tokens), then the
    // downloads.
    StepOutput execute_decode(const BatchInputs& in) {
        const int S = in.num_seqs;
        const int bucket = *std::lower_bound(buckets_.begin(), buckets_.end(), S);
        std::vector<SamplingRowParams> params(S);
        std::vector<int> host_sampled;
        bool any_logprobs = false;
        for (int s = 0; s < S; ++s) {
            const SamplingParams& p = *in.sampling[s].params;
            any_logprobs |= p.logprobs;
            if (p.needs_host_sampler()) {
                params[s].greedy = 1;  // the row's logits go to the host sampler; the GPU draw is unused
                host_sampled.push_back(s);
                continue;
            }
            params[s] = gpu_sampling_row(p, in.sampling[s].output_index);
        }
        decode_inputs_->upload(in, bucket, params, stream_);
        if (enforce_eager_)
            decode_step(bucket);
        else
            GPTOSS_CUDA_CHECK(cudaGraphLaunch(graph_for(bucket), stream_));

        const Workspace& w = workspace_;
        const int V = config_.vocab_size;
        std::vector<int32_t> tokens(S);
        std::vector<float> token_logprobs(S);
        std::vector<int32_t> top_tokens(any_logprobs ? static_cast<size_t>(S) * kMaxTopLogprobs : 0);
        std::vector<float> top_logprobs(top_tokens.size());
        std::vector<float> host_rows(host_sampled.size() * static_cast<size_t>(V));
        download(tokens.data(), w.sampled_tokens.get(), tokens.size());
        download(token_logprobs.data(), w.token_logprobs.get(), token_logprobs.size());
        download(top_tokens.data(), w.top_tokens.get(), top_tokens.size());
        download(top_logprobs.data(), w.top_logprobs.get(), top_logprobs.size());
        for (size_t i = 0; i < host_sampled.size(); ++i)
            download(host_rows.data() + i * V, w.logits.get() + static_cast<size_t>(host_sampled[i]) * V, V);
        GPTOSS_CUDA_CHECK(cudaStreamSynchronize(stream_));

        StepOutput out;
        out.sampled_tokens = tokens;
        if (any_logprobs) out.logprobs.resize(S);
        for (int s = 0; s < S; ++s) {
            if (!in.sampling[s].params->logprobs || in.sampling[s].params->needs_host_sampler()) continue;
            TokenLogprob& lp = out.logprobs[s];
            lp.token = tokens[s];
            lp.logprob = token_logprobs[s];
            for (int j = 0; j < params[s].num_top_logprobs; ++j)
                lp.top.push_back({top_tokens[static_cast<size_t>(s) * kMaxTopLogprobs + j],
                                  top_logprobs[static_cast<size_t>(s) * kMaxTopLogprobs + j]});
        }
        for (size_t i = 0; i < host_sampled.size(); ++i) {
            const int s = host_sampled[i];
            std::span<float> row(host_rows.data() + i * V, V);
            out.sampled_tokens[s] = sample_token(
                row, in.sampling[s], in.sampling[s].params->logprobs ? &out.logprobs[s] : nullptr);
        }
        return out;
    }

    // Every kernel of a decode step of `bucket` rows on the fixed inputs: what a graph records. Split counts
    // depend on the bucket alone (the longest context the model allows), never on this step's contexts.
    void decode_step(int bucket) {
        const ModelConfig& c = config_;
        const int max_len = max_model_len_;
        const StepInputs& d = decode_inputs_->device();
        const StepShape shape{.num_tokens = bucket,
                              .block_size = block_size_,
                              .num_tiles = bucket,
                              .full_splits = choose_attention_splits(bucket, c.num_key_value_heads, max_len,
                                                                     num_sms_, bucket, c.num_attention_heads,
                                                                     c.head_dim, workspace_.split_capacity),
                              .window_splits = choose_attention_splits(
                                  bucket, c.num_key_value_heads, c.sliding_window, num_sms_, bucket,
                                  c.num_attention_heads, c.head_dim, workspace_.split_capacity)};
        forward(shape, d, true);
        logits(d.row_token, bucket);
        sample({.logits = workspace_.logits.get(),
                .probs = workspace_.probs.get(),
                .num_rows = bucket,
                .vocab = c.vocab_size,
                .params = d.sampling,
                .tokens = workspace_.sampled_tokens.get(),
                .token_logprobs = workspace_.token_logprobs.get(),
                .top_tokens = workspace_.top_tokens.get(),
                .top_logprobs = workspace_.top_logprobs.get()},
               stream_);
    }

    cudaGraphExec_t graph_for(int bucket) {
        if (auto it = graphs_.find(bucket); it != graphs_.end()) return it->second;
        cudaGraph_t graph = nullptr;
        GPTOSS_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
        try {
            decode_step(bucket);
        } catch (...) {
            cudaStreamEndCapture(stream_, &graph);
            if (graph) cudaGraphDestroy(graph);
            throw;
        }
        GPTOSS_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
        cudaGraphExec_t exec = nullptr;
        const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
        cudaGraphDestroy(graph);
        GPTOSS_CUDA_CHECK(status);
        return graphs_.emplace(bucket, exec).first->second;
    }

    // Graphs hold the workspace's addresses: dropped whenever it is reallocated (re-captured on next use).
    void clear_graphs() {
        for (auto& [bucket, exec] : graphs_) cudaGraphExecDestroy(exec);
        graphs_.clear();
    }

    // Final norm of the residual rows `row_token` [n] (plus the last MoE output) and lm_head: logits [n, V].
    void logits(const int32_t* row_token, int n) {
        const ModelConfig& c = config_;
        rmsnorm({.residual = workspace_.x.get(),
                 .deltas = workspace_.y.get(),
                 .num_deltas = c.num_experts_per_tok,
                 .update_residual = false,
                 .weight = weights_.norm,
                 .eps = static_cast<float>(c.rms_norm_eps),
                 .row_indices = row_token,
                 .num_rows = n,
                 .hidden = c.hidden_size,
                 .out = workspace_.final_h.get()},
                stream_);
        // The last op: plain bf16 input (its rounding reaches no later decision; ~0.2% of the logits).
        linear(workspace_.final_h.get(), weights_.lm_head, nullptr, n, c.hidden_size, c.vocab_size,
               workspace_.logits.get(), false);
    }

    StepInputs upload(const BatchInputs& in, const StepPlan& plan) {
        HostImage image;
        const size_t token_ids = image.append(in.token_ids);
        const size_t positions = image.append(in.positions);
        const size_t query_start = image.append(in.query_start);
        const size_t full_table = image.append(in.full_block_table);
        const size_t full_slots = image.append(in.full_slot_mapping);
        const size_t window_first = image.append(in.window_first_block);
        const size_t window_table = image.append(in.window_block_table);
        const size_t window_slots = image.append(in.window_slot_mapping);
        const size_t tile_seq = image.append(plan.tiles.seq);
        const size_t tile_row_start = image.append(plan.tiles.row_start);
        const size_t row_token = image.append(plan.row_token);
        const size_t sampling = image.append(plan.gpu_params);
        const std::vector<std::byte>& bytes = image.bytes();
        step_device_.reserve(bytes.size());
        // The previous step ended with a stream synchronize, so the staging buffer is free to overwrite.
        step_staging_.reserve(bytes.size());
        std::memcpy(step_staging_.get(), bytes.data(), bytes.size());
        GPTOSS_CUDA_CHECK(cudaMemcpyAsync(step_device_.get(), step_staging_.get(), bytes.size(),
                                          cudaMemcpyHostToDevice, stream_));
        std::byte* base = step_device_.get();
        auto at = [&](size_t offset, bool present) { return present ? base + offset : nullptr; };
        StepInputs d;
        d.token_ids = reinterpret_cast<const int32_t*>(at(token_ids, true));
        d.positions = reinterpret_cast<const int32_t*>(at(positions, true));
        d.query_start = reinterpret_cast<const int32_t*>(at(query_start, true));
        d.full_table = reinterpret_cast<const int32_t*>(at(full_table, !in.full_block_table.empty()));
        d.full_slots = reinterpret_cast<const int64_t*>(at(full_slots, !in.full_slot_mapping.empty()));
        d.window_first_block =
            reinterpret_cast<const int32_t*>(at(window_first, !in.window_first_block.empty()));
        d.window_table = reinterpret_cast<const int32_t*>(at(window_table, !in.window_block_table.empty()));
        d.window_slots = reinterpret_cast<const int64_t*>(at(window_slots, !in.window_slot_mapping.empty()));
        d.tile_seq = reinterpret_cast<const int32_t*>(at(tile_seq, true));
        d.tile_row_start = reinterpret_cast<const int32_t*>(at(tile_row_start, true));
        d.row_token = reinterpret_cast<const int32_t*>(at(row_token, !plan.row_token.empty()));
        d.sampling = reinterpret_cast<const SamplingRowParams*>(at(sampling, !plan.gpu_params.empty()));
        return d;
    }

    // y[0:T] = x W^T + bias; split: x is a split pair [2T, in] and y has room for [2T, out].
    void linear(const uint16_t* x, const uint16_t* w, const float* bias, int tokens, int in, int out,
                float* y, bool split = true) {
        gemm_.run({.x = x,
                   .weight = w,
                   .bias = bias,
                   .num_tokens = tokens,
                   .in_features = in,
                   .out_features = out,
                   .split_input = split,
                   .y = y},
                  stream_);
    }

    // The layer loop. With need_last_moe false (no row wants logits) the last layer's MoE is skipped: it
    // feeds nothing but the logits.
    void forward(const StepShape& shape, const StepInputs& d, bool need_last_moe) {
        const ModelConfig& c = config_;
        Workspace& w = workspace_;
        const int T = shape.num_tokens, H = c.hidden_size, Q = c.q_dim(), KV = c.kv_dim(),
                  E = c.num_local_experts;
        const int K = c.num_experts_per_tok, I = c.intermediate_size, P = T * K;
        const int qkv_width = Q + 2 * KV;
        const int tile_rows = moe_gemm_tile_rows(P, E, K);
        const int max_tiles = moe_max_tiles(P, E, tile_rows);

        embedding({.table = weights_.embed_tokens,
                   .token_ids = d.token_ids,
                   .num_tokens = T,
                   .hidden = H,
                   .out = w.x.get()},
                  stream_);
        for (int layer = 0; layer < c.num_hidden_layers; ++layer) {
            const DeviceLayerWeights& lw = weights_.layers[layer];
            const bool sliding = c.is_sliding(layer);
            // x += previous layer's MoE output (the weighted combine), h = input_layernorm(x)
            rmsnorm({.residual = w.x.get(),
                     .deltas = layer > 0 ? w.y.get() : nullptr,
                     .num_deltas = layer > 0 ? K : 0,
                     .weight = lw.input_norm,
                     .eps = static_cast<float>(c.rms_norm_eps),
                     .num_rows = T,
                     .hidden = H,
                     .out = w.h.get(),
                     .out_lo = w.h.get() + static_cast<size_t>(T) * H},
                    stream_);
            linear(w.h.get(), lw.qkv_weight, lw.qkv_bias, T, H, qkv_width, w.qkv.get());
            // RoPE on q and k, then k and v into this layer's pages (one launch).
            rope({.x = w.qkv.get(),
                  .row_stride = qkv_width,
                  .num_tokens = T,
                  .num_heads = c.num_attention_heads + c.num_key_value_heads,
                  .head_dim = c.head_dim,
                  .positions = d.positions,
                  .inv_freq = inv_freq_.get(),
                  .attention_scaling = attention_scaling_,
                  .slot_mapping = sliding ? d.window_slots : d.full_slots,
                  .num_kv_heads = c.num_key_value_heads,
                  .k_cache = kv_->k(layer),
                  .v_cache = kv_->v(layer)},
                 stream_);
            const int splits = sliding ? shape.window_splits : shape.full_splits;
            attention({.q = w.qkv.get(),
                       .q_row_stride = qkv_width,
                       .k_cache = kv_->k(layer),
                       .v_cache = kv_->v(layer),
                       .block_size = shape.block_size,
                       .block_table = sliding ? d.window_table : d.full_table,
                       .table_stride = sliding ? shape.window_stride : shape.full_stride,
                       .table_stride_device = sliding ? d.window_stride : d.full_stride,
                       .first_block = sliding ? d.window_first_block : nullptr,
                       .query_start = d.query_start,
                       .positions = d.positions,
                       .num_tokens = T,
                       .num_heads = c.num_attention_heads,
                       .num_kv_heads = c.num_key_value_heads,
                       .head_dim = c.head_dim,
                       .window = sliding ? c.sliding_window : 0,
                       .sinks = lw.sinks,
                       .scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim)),
                       .tile_seq = d.tile_seq,
                       .tile_row_start = d.tile_row_start,
                       .num_tiles = shape.num_tiles,
                       .num_splits = splits,
                       .split_out = w.split_out.get(),
                       .split_max = w.split_max.get(),
                       .split_sum = w.split_sum.get(),
                       .out = w.attn.get(),
                       .out_lo = w.attn.get() + static_cast<size_t>(T) * Q},
                      stream_);
            linear(w.attn.get(), lw.o_weight, lw.o_bias, T, Q, H, w.o.get());
            if (layer + 1 == c.num_hidden_layers && !need_last_moe) break;
            // x += attention output, h = post_attention_layernorm(x)
            rmsnorm({.residual = w.x.get(),
                     .deltas = w.o.get(),
                     .num_deltas = 1,
                     .weight = lw.post_norm,
                     .eps = static_cast<float>(c.rms_norm_eps),
                     .num_rows = T,
                     .hidden = H,
                     .out = w.h.get(),
                     .out_lo = w.h.get() + static_cast<size_t>(T) * H},
                    stream_);
            linear(w.h.get(), lw.router_weight, lw.router_bias, T, H, E, w.router_logits.get());
            router_topk({.logits = w.router_logits.get(),
                         .num_tokens = T,
                         .num_experts = E,
                         .k = K,
                         .experts = w.experts.get(),
                         .weights = w.routing_weights.get()},
                        stream_);
            moe_group({.experts = w.experts.get(),
                       .num_pairs = P,
                       .num_experts = E,
                       .tile_rows = tile_rows,
                       .max_tiles = max_tiles,
                       .expert_offsets = w.expert_offsets.get(),
                       .sorted_pairs = w.sorted_pairs.get(),
                       .tile_expert = w.tile_expert.get(),
                       .tile_row_start = w.tile_row_start.get(),
                       .num_tiles = w.num_tiles.get()},
                      stream_);
            MoeGemmArgs moe{.a = w.h.get(),
                            .a_lo_offset = static_cast<int64_t>(T) * H,
                            .top_k = K,
                            .num_pairs = P,
                            .blocks = lw.gate_up_blocks,
                            .scales = lw.gate_up_scales,
                            .bias = lw.gate_up_bias,
                            .in_features = H,
                            .out_features = 2 * I,
                            .sorted_pairs = w.sorted_pairs.get(),
                            .expert_offsets = w.expert_offsets.get(),
                            .tile_expert = w.tile_expert.get(),
                            .tile_row_start = w.tile_row_start.get(),
                            .num_tiles = w.num_tiles.get(),
                            .max_tiles = max_tiles,
                            .tile_rows = tile_rows,
                            .swiglu_limit = static_cast<float>(c.swiglu_limit),
                            .routing_weights = w.routing_weights.get(),
                            .act_out = w.act.get(),
                            .act_lo_out = w.act.get() + static_cast<size_t>(P) * I,
                            .y_out = w.y.get()};
            moe.epilogue = MoeEpilogue::kGateUpSwiglu;
            moe_mxfp4_gemm(moe, stream_);
            moe.epilogue = MoeEpilogue::kDownWeighted;
            moe.a = w.act.get();
            moe.a_lo_offset = static_cast<int64_t>(P) * I;
            moe.blocks = lw.down_blocks;
            moe.scales = lw.down_scales;
            moe.bias = lw.down_bias;
            moe.in_features = I;
            moe.out_features = H;
            moe_mxfp4_gemm(moe, stream_);
        }
    }

    // Final norm + lm_head on the logits rows (in chunks of the row capacity), GPU sampling of the first
    // chunk's GPU rows, and the downloads. Leaves the stream to be synchronized by the caller.
    void finish(const BatchInputs& in, const StepPlan& plan, const StepInputs& d, StepOutput& out) {
        const ModelConfig& c = config_;
        Workspace& w = workspace_;
        const int V = c.vocab_size;
        const int num_rows = static_cast<int>(plan.row_token.size());
        const int chunk = w.row_capacity;  // >= num_sampled: every sampled row is in the first chunk
        const int num_requested = num_rows - plan.num_sampled;
        out.logits.resize(static_cast<size_t>(num_requested) * V);
        std::vector<float> host_rows(static_cast<size_t>(plan.num_sampled - plan.num_gpu_sampled) * V);
        std::vector<int32_t> tokens(plan.num_gpu_sampled);
        std::vector<float> token_logprobs(plan.num_gpu_sampled);
        std::vector<int32_t> top_tokens(static_cast<size_t>(plan.num_gpu_sampled) * kMaxTopLogprobs);
        std::vector<float> top_logprobs(top_tokens.size());
        for (int first = 0; first < num_rows; first += chunk) {
            const int n = std::min(chunk, num_rows - first);
            logits(d.row_token + first, n);
            if (first == 0) {
                const int gpu = plan.num_gpu_sampled;
                sample({.logits = w.logits.get(),
                        .probs = w.probs.get(),
                        .num_rows = gpu,
                        .vocab = V,
                        .params = d.sampling,
                        .tokens = w.sampled_tokens.get(),
                        .token_logprobs = w.token_logprobs.get(),
                        .top_tokens = w.top_tokens.get(),
                        .top_logprobs = w.top_logprobs.get()},
                       stream_);
                download(tokens.data(), w.sampled_tokens.get(), tokens.size());
                download(token_logprobs.data(), w.token_logprobs.get(), token_logprobs.size());
                if (plan.any_logprobs) {
                    download(top_tokens.data(), w.top_tokens.get(), top_tokens.size());
                    download(top_logprobs.data(), w.top_logprobs.get(), top_logprobs.size());
                }
                download(host_rows.data(), w.logits.get() + static_cast<size_t>(gpu) * V, host_rows.size());
            }
            // Requested rows of this chunk: chunk rows [max(first, num_sampled), first + n).
            const int begin = std::max(first, plan.num_sampled);
            if (begin < first + n)
                download(out.logits.data() + static_cast<size_t>(begin - plan.num_sampled) * V,
                         w.logits.get() + static_cast<size_t>(begin - first) * V,
                         static_cast<size_t>(first + n - begin) * V);
        }
        GPTOSS_CUDA_CHECK(cudaStreamSynchronize(stream_));

        if (plan.any_logprobs) out.logprobs.resize(in.num_sampled_rows());
        for (int i = 0; i < plan.num_gpu_sampled; ++i) {
            const int r = plan.row_sampled[i];
            out.sampled_tokens[r] = tokens[i];
            if (!in.sampling[in.sample_seq[r]].params->logprobs) continue;
            TokenLogprob& lp = out.logprobs[r];
            lp.token = tokens[i];
            lp.logprob = token_logprobs[i];
            const int n = plan.gpu_params[i].num_top_logprobs;
            for (int j = 0; j < n; ++j)
                lp.top.push_back({top_tokens[static_cast<size_t>(i) * kMaxTopLogprobs + j],
                                  top_logprobs[static_cast<size_t>(i) * kMaxTopLogprobs + j]});
        }
        for (int i = plan.num_gpu_sampled; i < plan.num_sampled; ++i) {
            const int r = plan.row_sampled[i];
            std::span<float> row(host_rows.data() + static_cast<size_t>(i - plan.num_gpu_sampled) * V, V);
            const SequenceSampling sampling = in.row_sampling(r);
            out.sampled_tokens[r] =
                sample_token(row, sampling, sampling.params->logprobs ? &out.logprobs[r] : nullptr);
        }
    }

    template <class T>
    void download(T* host, const T* device, size_t count) {
        if (count == 0) return;
        GPTOSS_CUDA_CHECK(cudaMemcpyAsync(host, device, count * sizeof(T), cudaMemcpyDeviceToHost, stream_));
    }

    std::shared_ptr<const ModelWeights> host_weights_;
    ModelConfig config_;
    int device_ = 0;
    int num_sms_ = 0;
    int initial_rows_ = 0;
    cudaStream_t stream_ = nullptr;
    DeviceWeights weights_;
    std::unique_ptr<DeviceKvCache> kv_;
    Workspace workspace_;
    LinearGemm gemm_;
    DeviceBuffer<float> inv_freq_;  // [D/2]
    float attention_scaling_ = 1.0f;
    DeviceBuffer<std::byte> step_device_;
    PinnedBuffer step_staging_;
    bool enforce_eager_ = false;
    int block_size_ = 16;
    int max_model_len_ = 0;
    std::vector<int> buckets_;                     // decode batch sizes with a graph, ascending
    std::unique_ptr<DecodeInputs> decode_inputs_;  // [buckets_.back()] rows
    std::map<int, cudaGraphExec_t> graphs_;        // bucket -> its captured decode step
};

}  // namespace
}  // namespace cuda

GpuMemory gpu_memory() {
    size_t free_bytes = 0, total_bytes = 0;
    GPTOSS_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    return {total_bytes - free_bytes, total_bytes};
}

std::unique_ptr<ModelRunner> make_cuda_runner(std::shared_ptr<const ModelWeights> weights,
                                              const EngineConfig& config) {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess || count == 0)
        throw std::runtime_error(
            fmt::format("the CUDA backend found no usable GPU ({})",
                        status != cudaSuccess ? cudaGetErrorString(status) : "no devices"));
    const int device = 0;
    GPTOSS_CUDA_CHECK(cudaSetDevice(device));
    cudaDeviceProp prop{};
    GPTOSS_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    if (prop.major != 9 || prop.minor != 0)
        throw std::runtime_error(
            fmt::format("the CUDA backend is built for Hopper GPUs (compute capability 9.0, e.g. H100/H200); "
                        "GPU {} is {} with "
                        "compute capability {}.{}",
                        device, prop.name, prop.major, prop.minor));

    const ModelConfig& model = weights->config();
    const size_t weight_bytes = cuda::DeviceWeights::required_bytes(*weights);
    const int rows = std::max(64, config.max_num_seqs);
    const size_t workspace_bytes =
        cuda::Workspace::required_bytes(model, std::max(1, config.max_num_batched_tokens), rows);
    // The smallest useful KV cache: one step's worth of tokens in every layer.
    const size_t min_kv_bytes = cuda::DeviceKvCache::bytes_per_token_per_layer(model) *
                                model.num_hidden_layers *
                                std::max(config.block_size, config.max_num_batched_tokens);
    size_t free_bytes = 0, total_bytes = 0;
    GPTOSS_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    const size_t needed = weight_bytes + workspace_bytes + min_kv_bytes;
    if (needed > free_bytes)
        throw std::runtime_error(
            fmt::format("not enough GPU memory on {}: the weights need {:.2f} GiB, activations {:.2f} GiB "
                        "and the smallest KV "
                        "cache {:.2f} GiB, but only {:.2f} GiB of {:.2f} GiB are free",
                        prop.name, weight_bytes / 1073741824.0, workspace_bytes / 1073741824.0,
                        min_kv_bytes / 1073741824.0, free_bytes / 1073741824.0, total_bytes / 1073741824.0));
    const auto start = std::chrono::steady_clock::now();
    auto runner =
        std::make_unique<cuda::CudaRunner>(std::move(weights), config, device, prop.multiProcessorCount);
    spdlog::info("cuda runner ready gpu=\"{}\" weights_bytes={} workspace_bytes={} upload_seconds={:.2f}",
                 prop.name, weight_bytes, workspace_bytes,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return runner;
}

}  // namespace gptoss
