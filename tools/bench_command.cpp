// gptoss bench engine: drives the real Engine (scheduler, KV cache manager, runner) with synthetic requests
// and prints decode throughput at several batch sizes, prefill time for long prompts, and the memory a
// 32k-token context takes, each beside its physical bound on an H200 (weights and KV bytes at the
// measured 4.3 TB/s copy rate, FLOPs at the measured 790 TFLOP/s bf16 rate; see docs/perf-notes.md).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "config/cli_flags.h"
#include "config/engine_config.h"
#include "engine/engine.h"
#include "tools/commands.h"
#include "tools/model_loading.h"
#include "tools/runner_factory.h"

#ifdef GPTOSS_HAVE_CUDA
#include "cuda/cuda_runner.h"
#endif

namespace gptoss::cli {
namespace {

using Clock = std::chrono::steady_clock;
// Ceilings when the backend cannot measure its own (the CPU backend): the H200's (../shared/docs/device.md).
constexpr double kH200Bandwidth = 4.3e12;  // bytes/s, device-to-device copy
constexpr double kH200Bf16Flops = 790e12;  // FLOP/s, bf16 GEMM 8192^3

double seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// Bytes and FLOPs of the forward pass, from the checkpoint's shapes (bf16 tensors 2 B per value, MXFP4 17 B
// per 32 weights).
struct Cost {
    const ModelConfig& c;
    double bandwidth = kH200Bandwidth;   // bytes/s
    double flops_rate = kH200Bf16Flops;  // FLOP/s
    double attention_bytes() const {     // q, k, v, o weights of one layer
        return 2.0 * c.hidden_size * (2.0 * c.q_dim() + 2.0 * c.kv_dim());
    }
    double expert_bytes() const {  // one expert: gate_up + down blocks and scales
        const double weights = 3.0 * c.hidden_size * c.intermediate_size;
        return weights * 17.0 / 32.0;
    }
    double lm_head_bytes() const { return 2.0 * c.vocab_size * c.hidden_size; }
    double flops_per_token_layer() const {
        return 2.0 * c.hidden_size *
               (2.0 * c.q_dim() + 2.0 * c.kv_dim() + c.num_local_experts +
                3.0 * c.num_experts_per_tok * c.intermediate_size);
    }
    // KV bytes one token at `context` reads in every layer.
    double kv_read_bytes(double context) const {
        const double per_position = 4.0 * c.kv_dim();
        return per_position * (c.num_full_layers() * context +
                               c.num_sliding_layers() * std::min<double>(context, c.sliding_window));
    }
    // One decode step of `batch` sequences at `context`: expected distinct experts under uniform routing.
    double decode_bytes(int batch, double context) const {
        const double e = c.num_local_experts, k = c.num_experts_per_tok;
        const double experts = e * (1.0 - std::pow(1.0 - k / e, batch));
        return c.num_hidden_layers * (attention_bytes() + experts * expert_bytes()) + lm_head_bytes() +
               batch * kv_read_bytes(context);
    }
    double decode_flops(int batch, double context) const {
        const double attention = 4.0 * c.num_attention_heads * c.head_dim *
                                 (c.num_full_layers() * context +
                                  c.num_sliding_layers() * std::min<double>(context, c.sliding_window));
        return batch * (c.num_hidden_layers * flops_per_token_layer() + 2.0 * c.hidden_size * c.vocab_size +
                        attention);
    }
    double prefill_flops(int tokens) const {
        double attention = 0;
        for (int l = 0; l < c.num_hidden_layers; ++l) {
            const double keys = c.is_sliding(l) ? std::min<double>(tokens, c.sliding_window) * tokens
                                                : 0.5 * tokens * (tokens + 1.0);
            attention += 4.0 * c.num_attention_heads * c.head_dim * keys;
        }
        return tokens * c.num_hidden_layers * flops_per_token_layer() + attention +
               2.0 * c.hidden_size * c.vocab_size;
    }
    double all_weight_bytes() const {
        return c.num_hidden_layers * (attention_bytes() + c.num_local_experts * expert_bytes()) +
               lm_head_bytes();
    }
    double bound_seconds(double bytes, double flops) const {
        return std::max(bytes / bandwidth, flops / flops_rate);
    }
};

std::vector<int> parse_int_list(const std::string& text, const std::string& flag) {
    std::vector<int> values;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        try {
            values.push_back(std::stoi(item));
        } catch (const std::exception&) {
            throw CliError(fmt::format("--{} expects comma-separated integers, got '{}'", flag, item));
        }
        if (values.back() < 1) throw CliError(fmt::format("--{} values must be positive", flag));
    }
    return values;
}

// Timestamps of the token events of one request.
struct Trace {
    Clock::time_point submitted;
    std::vector<std::pair<Clock::time_point, int>> events;  // (arrival, tokens in the event)
    std::vector<int32_t> tokens;
    bool error = false;
    std::string error_text;
};

class Driver {
public:
    Driver(Engine& engine, int vocab, uint64_t seed) : engine_(engine), vocab_(vocab), rng_(seed) {}

    std::vector<int32_t> random_prompt(int tokens) {
        std::vector<int32_t> prompt(static_cast<size_t>(tokens));
        for (int32_t& t : prompt) t = static_cast<int32_t>(rng_() % vocab_);
        return prompt;
    }

    // Submits `count` requests of random prompts (no shared prefixes) and waits for all to finish.
    std::vector<Trace> run(int count, int prompt_tokens, int max_tokens) {
        std::vector<Request> requests(count);
        for (Request& request : requests) {
            request.prompt_token_ids = random_prompt(prompt_tokens);
            request.sampling.seed = rng_();  // temperature 1, top_p 1: the OpenAI defaults
            request.stop.max_tokens = max_tokens;
        }
        return run(std::move(requests));
    }

    // One greedy request of the given prompt.
    Trace run_greedy(const std::vector<int32_t>& prompt, int max_tokens) {
        std::vector<Request> requests(1);
        requests[0].prompt_token_ids = prompt;
        requests[0].sampling.temperature = 0.0f;
        requests[0].stop.max_tokens = max_tokens;
        return run(std::move(requests))[0];
    }

    std::vector<Trace> run(std::vector<Request> requests) {
        const int count = static_cast<int>(requests.size());
        std::vector<Trace> traces(count);
        std::vector<std::shared_ptr<TokenStream>> streams(count);
        std::vector<std::thread> readers;
        for (int i = 0; i < count; ++i) {
            requests[i].id = next_id_++;
            traces[i].submitted = Clock::now();
            streams[i] = engine_.submit(std::move(requests[i]));
        }
        for (int i = 0; i < count; ++i) {
            readers.emplace_back([&, i] {
                while (!streams[i]->finished()) {
                    for (const TokenEvent& e : streams[i]->wait(std::chrono::milliseconds(100))) {
                        traces[i].events.push_back({Clock::now(), static_cast<int>(e.token_ids.size())});
                        traces[i].tokens.insert(traces[i].tokens.end(), e.token_ids.begin(),
                                                e.token_ids.end());
                        if (e.finish_reason == FinishReason::kError) {
                            traces[i].error = true;
                            traces[i].error_text = e.error;
                        }
                    }
                }
            });
        }
        for (auto& t : readers) t.join();
        for (const Trace& t : traces)
            if (t.error) throw std::runtime_error("a benchmark request failed: " + t.error_text);
        return traces;
    }

private:
    Engine& engine_;
    int vocab_;
    std::mt19937_64 rng_;
    RequestId next_id_ = 1;
};

// Decode tokens/s while every sequence of the batch is decoding: from the last first-token to the first
// finish.
double steady_decode_rate(const std::vector<Trace>& traces) {
    Clock::time_point start = traces[0].events.front().first, end = traces[0].events.back().first;
    for (const Trace& t : traces) {
        start = std::max(start, t.events.front().first);
        end = std::min(end, t.events.back().first);
    }
    int tokens = 0;
    for (const Trace& t : traces)
        for (const auto& [when, n] : t.events)
            if (when > start && when <= end) tokens += n;
    const double window = seconds(start, end);
    return window > 0 ? tokens / window : 0.0;
}

// Decode tokens/s of one request: the tokens after its first event over the time to its last.
double single_decode_rate(const Trace& t) {
    int tokens = 0;
    for (size_t i = 1; i < t.events.size(); ++i) tokens += t.events[i].second;
    const double window = seconds(t.events.front().first, t.events.back().first);
    return window > 0 ? tokens / window : 0.0;
}

// Drafts for the verification-cost benchmark: the model's own greedy continuation of the prompt, recorded
// first, so every draft is accepted, or that continuation with every token id shifted by one, so every draft
// is rejected (the printed acceptance is what the engine counted). (Random weights copy nothing, so
// acceptance is measured elsewhere; this measures cost.)
class ReplayProposer : public DraftProposer {
public:
    explicit ReplayProposer(int vocab) : vocab_(vocab) {}
    void set(std::vector<int32_t> expected, int num_tokens, bool reject) {
        std::lock_guard lock(mutex_);
        expected_ = std::move(expected);
        num_tokens_ = num_tokens;
        reject_ = reject;
    }
    std::vector<int32_t> propose(const Sequence& seq, int max_tokens) const override {
        std::lock_guard lock(mutex_);
        std::vector<int32_t> drafts;
        const int n = seq.num_tokens();
        for (int j = 0; j < std::min(max_tokens, num_tokens_) && n + j < static_cast<int>(expected_.size());
             ++j) {
            const int32_t token = expected_[static_cast<size_t>(n + j)];
            drafts.push_back(reject_ ? (token + 1) % vocab_ : token);
        }
        return drafts;
    }

private:
    mutable std::mutex mutex_;
    int vocab_;
    std::vector<int32_t> expected_;
    int num_tokens_ = 0;
    bool reject_ = false;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

struct Options {
    std::vector<int> batches = {1, 8, 64, 256};
    int prompt_tokens = 128;
    int decode_tokens = 64;
    std::vector<int> prefill_lengths = {1024, 8192};
    int long_context = 32768;
    int repeats = 3;
    std::vector<int> spec_tokens;  // draft lengths of the verification-cost runs (empty: none)
};

std::unique_ptr<Engine> make_engine(const LoadedModel& m, const ModelFlags& flags, EngineConfig config,
                                    std::shared_ptr<const DraftProposer> proposer = nullptr) {
    config.cpu_threads = flags.threads;
    return std::make_unique<Engine>(config, make_runner(flags.backend, m.weights, config), nullptr,
                                    std::move(proposer));
}

// Batch-1 decode with k draft tokens per step, all accepted and all rejected, beside no drafts, on one
// engine (the same warm-up and KV state for every line).
void bench_verification_cost(const LoadedModel& m, const ModelFlags& model_flags, EngineConfig config,
                             const Options& o, int vocab, double bound) {
    config.num_speculative_tokens = *std::max_element(o.spec_tokens.begin(), o.spec_tokens.end());
    config.spec_max_num_seqs = 1;
    auto proposer = std::make_shared<ReplayProposer>(vocab);
    auto engine = make_engine(m, model_flags, config, proposer);
    Driver driver(*engine, vocab, 3);
    const std::vector<int32_t> prompt = driver.random_prompt(o.prompt_tokens);
    driver.run_greedy(prompt, 8);  // warm
    std::vector<int32_t> expected = prompt;
    const Trace recorded = driver.run_greedy(prompt, o.decode_tokens);
    expected.insert(expected.end(), recorded.tokens.begin(), recorded.tokens.end());
    const double off = single_decode_rate(driver.run_greedy(prompt, o.decode_tokens));
    fmt::print(
        "speculative decoding, batch 1, {} tokens after a {}-token prompt: no drafts {:.1f} tok/s "
        "(single-pass bound {:.0f} tok/s)\n",
        o.decode_tokens, o.prompt_tokens, off, bound);
    for (int k : o.spec_tokens) {
        double rate[2], accepted[2];
        for (int reject = 0; reject < 2; ++reject) {
            // On a GPU a verification step is another kernel path than a decode step, so its greedy tokens
            // may part from the recorded ones where two logits nearly tie; the drafts are then the path's own
            // tokens of the previous run (a few runs reach the fixed point), and the engine's counters say
            // what share was accepted.
            std::vector<int32_t> drafts = expected;
            Trace t;
            for (int attempt = 0; attempt < 4; ++attempt) {
                proposer->set(drafts, k, reject == 1);
                const EngineStats before = engine->stats();
                t = driver.run_greedy(prompt, o.decode_tokens);
                const EngineStats after = engine->stats();
                const uint64_t proposed = after.spec_draft_tokens_total - before.spec_draft_tokens_total;
                accepted[reject] = proposed == 0 ? 0.0
                                                 : static_cast<double>(after.spec_accepted_tokens_total -
                                                                       before.spec_accepted_tokens_total) /
                                                       static_cast<double>(proposed);
                std::vector<int32_t> produced = prompt;
                produced.insert(produced.end(), t.tokens.begin(), t.tokens.end());
                if (reject == 1 || produced == drafts) break;
                drafts = std::move(produced);
            }
            rate[reject] = single_decode_rate(t);
        }
        fmt::print(
            "  k {:2}: drafts accepted ({:5.1f}%) {:9.1f} tok/s ({:.2f}x, {:5.1f}% of bound)   rejected "
            "({:4.1f}%) {:9.1f} tok/s ({:.2f}x)\n",
            k, 100.0 * accepted[0], rate[0], rate[0] / off, 100.0 * rate[0] / bound, 100.0 * accepted[1],
            rate[1], rate[1] / off);
    }
    proposer->set({}, 0, false);
}

void bench_engine(const ModelFlags& model_flags, const EngineConfig& engine_config, const Options& o) {
    if (model_flags.model.empty()) throw CliError("--model is required (a checkpoint folder)");
    LoadedModel m;
    m.config = ModelConfig::from_file(model_flags.model);
    resolve_backend(model_flags.backend);
    m.weights = ModelWeights::load(model_flags.model, m.config, /*show_progress=*/true);
    Cost cost{m.config};
    std::string ceilings = "H200 figures: this backend does not measure its own";
#ifdef GPTOSS_HAVE_CUDA
    if (resolve_backend(model_flags.backend) == "cuda") {
        const GpuCeilings measured = measure_gpu_ceilings();
        cost.bandwidth = measured.copy_bytes_per_second;
        cost.flops_rate = measured.bf16_flops_per_second;
        ceilings = "measured on this GPU in this run";
    }
#endif
    const int vocab = std::min(m.config.vocab_size, 199998);  // ordinary tokens only
    fmt::print("== bench engine: model {} ({} layers, hidden {}, {} experts, vocab {}), backend {}\n",
               model_flags.model, m.config.num_hidden_layers, m.config.hidden_size,
               m.config.num_local_experts, m.config.vocab_size, resolve_backend(model_flags.backend));
    fmt::print(
        "   bounds: bytes at {:.2f} TB/s (device copy), FLOPs at {:.0f} TFLOP/s (bf16 GEMM 8192^3): {}\n",
        cost.bandwidth / 1e12, cost.flops_rate / 1e12, ceilings);

    {
        auto engine = make_engine(m, model_flags, engine_config);
        Driver driver(*engine, vocab, 1);
        driver.run(2, 64, 8);  // warm-up: handles, plans, first launches
        for (int batch : o.batches) {
            if (batch > engine_config.max_num_seqs) {
                fmt::print("decode batch {:4}: skipped (--max-num-seqs {})\n", batch,
                           engine_config.max_num_seqs);
                continue;
            }
            driver.run(batch, o.prompt_tokens, 4);  // warm this batch size's shapes
            const std::vector<Trace> traces = driver.run(batch, o.prompt_tokens, o.decode_tokens);
            const double rate = steady_decode_rate(traces);
            const double context = o.prompt_tokens + o.decode_tokens / 2.0;
            const double bound = batch / cost.bound_seconds(cost.decode_bytes(batch, context),
                                                            cost.decode_flops(batch, context));
            fmt::print(
                "decode batch {:4}: {:9.1f} tok/s ({:7.2f} ms/step)   bound {:9.0f} tok/s ({:.2f} GB/step)   "
                "{:5.1f}% of bound\n",
                batch, rate, rate > 0 ? 1e3 * batch / rate : 0.0, bound,
                cost.decode_bytes(batch, context) / 1e9, 100.0 * rate / bound);
        }
        for (int length : o.prefill_lengths) {
            if (length + 1 > engine->max_model_len()) {
                fmt::print("prefill {:6} tokens: skipped (max_model_len {})\n", length,
                           engine->max_model_len());
                continue;
            }
            driver.run(1, length, 1);  // warm
            std::vector<double> times;
            for (int r = 0; r < o.repeats; ++r) {
                const Trace t = driver.run(1, length, 1)[0];
                times.push_back(seconds(t.submitted, t.events.front().first));
            }
            const double flops = cost.prefill_flops(length);
            const double bound = cost.bound_seconds(cost.all_weight_bytes(), flops);
            fmt::print(
                "prefill {:6} tokens: {:9.2f} ms ({:8.0f} tok/s)   bound {:8.2f} ms ({:.1f} TFLOP)   "
                "{:5.1f}% of bound\n",
                length, 1e3 * median(times), length / median(times), 1e3 * bound, flops / 1e12,
                100.0 * bound / median(times));
        }
    }

    if (!o.spec_tokens.empty()) {
        const double context = o.prompt_tokens + o.decode_tokens / 2.0;
        bench_verification_cost(
            m, model_flags, engine_config, o, vocab,
            1.0 / cost.bound_seconds(cost.decode_bytes(1, context), cost.decode_flops(1, context)));
    }

    if (o.long_context > 0) {
        // A KV budget that holds one sequence of long_context tokens (+ one step's worth of slack).
        EngineConfig config = engine_config;
        config.cpu_threads = model_flags.threads;
#ifdef GPTOSS_HAVE_CUDA
        const bool on_gpu = resolve_backend(model_flags.backend) == "cuda";
        const GpuMemory before = on_gpu ? gpu_memory() : GpuMemory{};
#endif
        auto runner = make_runner(model_flags.backend, m.weights, config);
        // The runner's own KV element size (bf16 on CUDA, float32 on the CPU).
        const int64_t per_token = int64_t{m.config.num_hidden_layers} *
                                  static_cast<int64_t>(runner->kv_bytes_per_token_per_layer());
        config.kv_cache_memory_bytes = per_token * (o.long_context + config.max_num_batched_tokens + 256);
        config.max_model_len = o.long_context + 64;
        auto engine = std::make_unique<Engine>(config, std::move(runner), nullptr);
        Driver driver(*engine, vocab, 2);
        const Trace t = driver.run(1, o.long_context, 32)[0];
        const double prefill = seconds(t.submitted, t.events.front().first);
        const double decode = (t.events.size() > 2) ? (static_cast<double>(t.events.size()) - 2) /
                                                          seconds(t.events[1].first, t.events.back().first)
                                                    : 0.0;
        const KvCapacity cap = engine->capacity();
        const double kv_needed = cost.kv_read_bytes(o.long_context);  // every cached position, once
        fmt::print("context {:6} tokens: prefill {:.2f} s, then decode {:.1f} tok/s (bound {:.0f} tok/s)\n",
                   o.long_context, prefill, decode,
                   1.0 / cost.bound_seconds(cost.decode_bytes(1, o.long_context),
                                            cost.decode_flops(1, o.long_context)));
        fmt::print(
            "memory at {} tokens: weights {:.2f} GB (checkpoint), KV needed {:.2f} GB, KV allocated {:.2f} "
            "GB "
            "({} full + {} windowed blocks)\n",
            o.long_context, m.weights->total_bytes() / 1e9, kv_needed / 1e9,
            per_token / static_cast<double>(m.config.num_hidden_layers) *
                (m.config.num_full_layers() * static_cast<double>(cap.num_full_blocks) +
                 m.config.num_sliding_layers() * static_cast<double>(cap.num_window_blocks)) *
                cap.block_size / 1e9,
            cap.num_full_blocks, cap.num_window_blocks);
#ifdef GPTOSS_HAVE_CUDA
        const GpuMemory after = on_gpu ? gpu_memory() : GpuMemory{};
        if (on_gpu)
            fmt::print(
                "gpu memory in use: {:.2f} GB with the engine at {} tokens ({:.2f} GB before it; peak of the "
                "process: weights + KV + activations + CUDA context)\n",
                after.used_bytes / 1e9, o.long_context, before.used_bytes / 1e9);
#endif
    }
}

}  // namespace

int bench_command(const Args& args) {
    if (!args.empty() && args[0] == "serve") return bench_serve_command({args.begin() + 1, args.end()});
    if (args.empty() || args[0] != "engine")
        throw CliError(
            "usage: gptoss bench engine|serve [flags] (gptoss bench engine --help, gptoss bench serve "
            "--help)");
    ModelFlags model_flags;
    EngineConfig engine_config;
    Options o;
    std::string batches = "1,8,64,256", prefill = "1024,8192", spec;
    FlagSet flags(
        "bench engine",
        "--model DIR [--backend cuda] [--batch-sizes 1,8,64,256] "
        "[--prefill-lengths 1024,8192] [--long-context 32768]",
        "Measure decode tokens/s, prefill time and long-context memory through the real engine, each "
        "beside its physical bound.");
    model_flags.register_flags(flags);
    engine_config.register_flags(flags);
    flags.add_string("batch-sizes", &batches, "decode batch sizes (concurrent requests)");
    flags.add_int("prompt-tokens", &o.prompt_tokens, "prompt length of the decode runs");
    flags.add_int("decode-tokens", &o.decode_tokens, "tokens each decode request generates");
    flags.add_string("prefill-lengths", &prefill, "prompt lengths whose prefill time is measured");
    flags.add_int("long-context", &o.long_context, "context of the memory measurement (0 = skip)");
    flags.add_int("repeats", &o.repeats, "prefill repetitions (the median is printed)");
    flags.add_string(
        "spec-tokens", &spec,
        "draft lengths whose batch-1 verification cost is measured, e.g. 1,2,4,8 (default: none)");
    if (!flags.parse({args.begin() + 1, args.end()})) {
        fmt::print("{}", flags.help());
        return 0;
    }
    o.batches = parse_int_list(batches, "batch-sizes");
    o.prefill_lengths = parse_int_list(prefill, "prefill-lengths");
    if (!spec.empty()) o.spec_tokens = parse_int_list(spec, "spec-tokens");
    if (o.prompt_tokens < 1 || o.decode_tokens < 4 || o.repeats < 1 || o.long_context < 0)
        throw CliError("--prompt-tokens, --repeats must be positive, --decode-tokens at least 4");
    bench_engine(model_flags, engine_config, o);
    return 0;
}

}  // namespace gptoss::cli
