#include "config/engine_config.h"

#include <fmt/format.h>

#include "config/cli_flags.h"
#include "config/model_config.h"

namespace gptoss {

void EngineConfig::validate() const {
    if (block_size <= 0 || block_size > 1024 || (block_size & (block_size - 1)) != 0) {
        throw ConfigError(
            fmt::format("--block-size must be a power of two between 1 and 1024, got {}", block_size));
    }
    if (max_num_seqs <= 0)
        throw ConfigError(fmt::format("--max-num-seqs must be positive, got {}", max_num_seqs));
    if (max_num_batched_tokens <= 0) {
        throw ConfigError(
            fmt::format("--max-num-batched-tokens must be positive, got {}", max_num_batched_tokens));
    }
    if (kv_cache_memory_bytes && *kv_cache_memory_bytes <= 0) {
        throw ConfigError(fmt::format("--kv-cache-memory must be positive, got {}", *kv_cache_memory_bytes));
    }
    if (!(gpu_memory_utilization > 0 && gpu_memory_utilization <= 1)) {
        throw ConfigError(
            fmt::format("--gpu-memory-utilization must be in (0, 1], got {}", gpu_memory_utilization));
    }
    if (max_model_len && *max_model_len <= 0) {
        throw ConfigError(fmt::format("--max-model-len must be positive, got {}", *max_model_len));
    }
    if (max_queued_requests <= 0) {
        throw ConfigError(fmt::format("--max-queued-requests must be positive, got {}", max_queued_requests));
    }
    if (cpu_threads < 0)
        throw ConfigError(fmt::format("--cpu-threads must not be negative, got {}", cpu_threads));
    if (num_speculative_tokens < 0 || num_speculative_tokens > 16) {
        throw ConfigError(
            fmt::format("--num-speculative-tokens must be between 0 and 16, got {}", num_speculative_tokens));
    }
    if (spec_ngram_min < 1 || spec_ngram_max < spec_ngram_min) {
        throw ConfigError(
            fmt::format("--spec-ngram-min ({}) must be at least 1 and at most --spec-ngram-max ({})",
                        spec_ngram_min, spec_ngram_max));
    }
    if (spec_max_num_seqs < 1)
        throw ConfigError(fmt::format("--spec-max-num-seqs must be positive, got {}", spec_max_num_seqs));
}

void EngineConfig::register_flags(FlagSet& flags) {
    flags.add_int("block-size", &block_size, "tokens per KV-cache page (both pools)");
    flags.add_int("max-num-seqs", &max_num_seqs, "most sequences scheduled in one step");
    flags.add_int("max-num-batched-tokens", &max_num_batched_tokens,
                  "token budget of one step, shared by decodes and prefill chunks");
    flags.add_optional_bytes("kv-cache-memory", &kv_cache_memory_bytes,
                             "KV-cache budget in bytes (e.g. 8GiB); default: CPU 2GiB, CUDA from "
                             "--gpu-memory-utilization");
    flags.add_double("gpu-memory-utilization", &gpu_memory_utilization,
                     "CUDA: fraction of GPU memory for weights + KV cache");
    flags.add_optional_int(
        "max-model-len", &max_model_len,
        "longest prompt + completion in tokens (default: the model's max_position_embeddings)");
    flags.add_bool("enable-prefix-caching", &enable_prefix_caching,
                   "reuse KV pages of repeated prompt prefixes");
    flags.add_bool("enforce-eager", &enforce_eager,
                   "CUDA: run decode steps eagerly instead of replaying captured CUDA graphs");
    flags.add_int("max-queued-requests", &max_queued_requests,
                  "waiting requests beyond this are refused (HTTP 503)");
    flags.add_int("cpu-threads", &cpu_threads, "threads of the CPU backend (0 = all hardware threads)");
    flags.add_int("num-speculative-tokens", &num_speculative_tokens,
                  "speculative decoding: draft tokens per sequence and step from prompt lookup (0 = off)");
    flags.add_int("spec-ngram-min", &spec_ngram_min, "speculative decoding: shortest n-gram matched");
    flags.add_int("spec-ngram-max", &spec_ngram_max, "speculative decoding: longest n-gram matched");
    flags.add_int("spec-max-num-seqs", &spec_max_num_seqs,
                  "speculative decoding: only in steps with at most this many running sequences");
}

}  // namespace gptoss
