// CPU engine benchmark: prefill and decode tokens/s of one sequence on a checkpoint (the full-size synthetic
// gpt-oss-20b in bench/cpu_engine_bench.sh), next to this machine's memory bandwidth measured in the same
// run, and the decode bound it implies (bytes a decode step must read / read bandwidth).
//
// usage: cpu_engine_bench --model DIR [--threads N] [--prompt-tokens 256] [--decode-tokens 16]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "config/cli_flags.h"
#include "engine/cpu/cpu_runner.h"
#include "engine/single_sequence_driver.h"
#include "engine/weights/model_weights.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Bandwidth {
    double read_gb_s = 0;  // bytes read / s
    double copy_gb_s = 0;  // (bytes read + bytes written) / s, as STREAM counts copy
};

// STREAM-like: a read-only reduction and a copy over arrays far larger than the caches, with `threads`
// threads each owning a contiguous slice; the best of a few repetitions.
Bandwidth measure_bandwidth(size_t bytes, int threads) {
    const size_t n = bytes / sizeof(uint64_t);
    std::unique_ptr<uint64_t[]> a(new uint64_t[n]), b(new uint64_t[n]);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; ++i) a[i] = i, b[i] = 0;  // first touch by the thread that will read it
    Bandwidth best;
    for (int rep = 0; rep < 5; ++rep) {
        uint64_t total = 0;
        auto start = Clock::now();
#pragma omp parallel for num_threads(threads) schedule(static) reduction(^ : total)
        for (size_t i = 0; i < n; i += 4) total ^= a[i] + a[i + 1] + a[i + 2] + a[i + 3];
        const double read = seconds_since(start);
        if (total == 42) std::printf(" ");  // keeps the reduction alive
        start = Clock::now();
#pragma omp parallel num_threads(threads)
        {
            const size_t chunk = (n + omp_get_num_threads() - 1) / omp_get_num_threads();
            const size_t begin = std::min(n, chunk * omp_get_thread_num()), end = std::min(n, begin + chunk);
            std::memcpy(b.get() + begin, a.get() + begin, (end - begin) * sizeof(uint64_t));
        }
        const double copy = seconds_since(start);
        best.read_gb_s = std::max(best.read_gb_s, bytes / read / 1e9);
        best.copy_gb_s = std::max(best.copy_gb_s, 2.0 * bytes / copy / 1e9);
    }
    return best;
}

// Bytes one decode step reads at context length `context`: every non-expert weight, the experts it routes to,
// the embedding row, lm_head, and the float32 KV cache of the positions its layers attend to.
double decode_bytes_per_token(const gptoss::ModelWeights& w, int context) {
    const gptoss::ModelConfig& c = w.config();
    double bytes = static_cast<double>(w.lm_head.nbytes) + w.norm.nbytes +
                   static_cast<double>(w.embed_tokens.nbytes) / c.vocab_size;
    const double kv_row = 2.0 * c.num_key_value_heads * c.head_dim * sizeof(float);
    for (int l = 0; l < c.num_hidden_layers; ++l) {
        const gptoss::LayerWeights& L = w.layers[l];
        for (const auto* t :
             {&L.input_layernorm, &L.q_proj_weight, &L.q_proj_bias, &L.k_proj_weight, &L.k_proj_bias,
              &L.v_proj_weight, &L.v_proj_bias, &L.o_proj_weight, &L.o_proj_bias, &L.sinks,
              &L.post_attention_layernorm, &L.router_weight, &L.router_bias}) {
            bytes += t->nbytes;
        }
        double expert = 0;
        for (const auto* t : {&L.gate_up_blocks, &L.gate_up_scales, &L.gate_up_bias, &L.down_blocks,
                              &L.down_scales, &L.down_bias}) {
            expert += static_cast<double>(t->nbytes) / c.num_local_experts;
        }
        bytes += expert * c.num_experts_per_tok;
        bytes += kv_row * (c.is_sliding(l) ? std::min(context, c.sliding_window) : context);
    }
    return bytes;
}

// Multiply-adds of one token's forward pass at context `context` (attention over the cache included).
double flops_per_token(const gptoss::ModelConfig& c, int context) {
    const double H = c.hidden_size, Q = c.q_dim(), KV = c.kv_dim(), I = c.intermediate_size;
    double macs = c.vocab_size * H;
    for (int l = 0; l < c.num_hidden_layers; ++l) {
        const int keys = c.is_sliding(l) ? std::min(context, c.sliding_window) : context;
        macs += H * (Q + 2 * KV) + Q * H + H * c.num_local_experts;
        macs += c.num_experts_per_tok * (H * 2 * I + I * H);
        macs += 2.0 * c.num_attention_heads * c.head_dim * keys;
    }
    return 2 * macs;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model;
    int threads = 0, prompt_tokens = 256, decode_tokens = 16;
    int64_t bandwidth_mib = 2048;
    gptoss::FlagSet flags(
        "cpu_engine_bench", "cpu_engine_bench --model DIR [--threads N]",
        "Prefill and decode tokens/s of the CPU engine, next to the memory-bandwidth bound.");
    flags.add_string("model", &model, "checkpoint folder");
    flags.add_int("threads", &threads, "threads (0 = all cores)");
    flags.add_int("prompt-tokens", &prompt_tokens, "prompt length (prefill in one step)");
    flags.add_int("decode-tokens", &decode_tokens, "tokens generated after the prompt");
    flags.add_int64("bandwidth-mib", &bandwidth_mib, "size of each STREAM array");
    try {
        if (!flags.parse({argv + 1, argv + argc})) {
            std::printf("%s", flags.help().c_str());
            return 0;
        }
        if (model.empty()) throw gptoss::CliError("--model is required");
        if (threads <= 0) threads = omp_get_num_procs();

        const Bandwidth bw = measure_bandwidth(static_cast<size_t>(bandwidth_mib) << 20, threads);
        std::printf("memory bandwidth (%d threads, %lld MiB arrays): read %.1f GB/s, copy %.1f GB/s\n",
                    threads, static_cast<long long>(bandwidth_mib), bw.read_gb_s, bw.copy_gb_s);

        const gptoss::ModelConfig config = gptoss::ModelConfig::from_file(model);
        auto start = Clock::now();
        std::shared_ptr<const gptoss::ModelWeights> weights = gptoss::ModelWeights::load(model, config, true);
        std::printf("loaded %.2f GB in %.1f s\n", weights->total_bytes() / 1e9, seconds_since(start));

        auto runner = gptoss::make_cpu_runner(weights, threads);
        gptoss::SingleSequenceDriver driver(*runner, prompt_tokens + decode_tokens);
        std::vector<int32_t> prompt(prompt_tokens);
        for (int i = 0; i < prompt_tokens; ++i) prompt[i] = (i * 7919 + 13) % (config.vocab_size - 2);
        gptoss::SamplingParams greedy;
        greedy.temperature = 0;
        driver.generate(prompt, decode_tokens, greedy);  // warm-up: caches, page tables, OpenMP team
        driver.generate(prompt, decode_tokens, greedy);

        const double prefill_s = driver.last_prefill_seconds();
        const double decode_s = driver.last_decode_seconds() / std::max(1, decode_tokens - 1);
        const int mid_context = prompt_tokens + decode_tokens / 2;
        const double bytes = decode_bytes_per_token(*weights, mid_context);
        const double bound = bw.read_gb_s * 1e9 / bytes;
        std::printf("prefill: %d tokens in %.2f s = %.1f tokens/s (%.1f GFLOP/s)\n", prompt_tokens, prefill_s,
                    prompt_tokens / prefill_s,
                    flops_per_token(config, prompt_tokens / 2) * prompt_tokens / prefill_s / 1e9);
        std::printf("decode: %.1f ms/token = %.2f tokens/s at context ~%d\n", decode_s * 1e3, 1 / decode_s,
                    mid_context);
        std::printf(
            "decode reads %.2f GB/token -> bound %.2f tokens/s at %.1f GB/s; achieved %.0f%% of the bound "
            "(%.1f GB/s effective)\n",
            bytes / 1e9, bound, bw.read_gb_s, 100.0 / decode_s / bound, bytes / decode_s / 1e9);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cpu_engine_bench: %s\n", e.what());
        return 1;
    }
}
