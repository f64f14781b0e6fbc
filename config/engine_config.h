// EngineConfig: how the engine schedules work and sizes its KV cache. Shared by `serve`, `bench` and tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gptoss {

class FlagSet;

struct EngineConfig {
    int block_size = 16;                           // tokens per KV page, both pools
    int max_num_seqs = 256;                        // sequences in one step
    int max_num_batched_tokens = 8192;             // token budget of one step (decodes + prefill chunks)
    std::optional<int64_t> kv_cache_memory_bytes;  // KV budget; when unset, derived per backend
    double gpu_memory_utilization = 0.9;           // CUDA only: fraction of GPU memory for weights + KV
    std::optional<int> max_model_len;              // default: the model's max_position_embeddings
    bool enable_prefix_caching = true;
    bool enforce_eager = false;      // CUDA: no graphs; decode steps launch the same kernels one by one
    int max_queued_requests = 1024;  // waiting requests beyond this are refused (HTTP 503)
    int cpu_threads = 0;             // CPU runner threads; 0 = all hardware threads
    // Speculative decoding with prompt-lookup (n-gram) drafts: up to this many draft tokens per sequence and
    // step (0 = off), matching the last n tokens for n from spec_ngram_max down to spec_ngram_min, only in
    // steps where at most spec_max_num_seqs sequences run (beyond that verification costs throughput).
    int num_speculative_tokens = 0;
    int spec_ngram_min = 2;
    int spec_ngram_max = 4;
    int spec_max_num_seqs = 16;

    // Throws ConfigError naming the offending setting.
    void validate() const;
    // Registers --block-size, --max-num-seqs, ... on a subcommand's flags.
    void register_flags(FlagSet& flags);
};

}  // namespace gptoss
