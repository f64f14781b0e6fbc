// Synthetic gpt-oss checkpoints in the exact Hugging Face MXFP4 release layout (gpt-oss-model.md Appendix B):
// same tensor names, shapes and dtypes, config.json with every key of the real file, generation_config.json
// for the real vocabulary, greedy sharding at 4.8 GB with the release's 0-based "-of-{count - 1}" names plus
// the index. Weights are random but shaped so activations stay O(1): bf16 normals with std 1/sqrt(fan_in),
// uniform MXFP4 codes with scale bytes 127 + round(log2(1 / (sqrt(fan_in) * 2.926))) +- 1. The same seed
// gives the same bytes whatever the number of threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gptoss::cli {

struct SyntheticShape {
    int hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0;
    int experts = 0, experts_per_token = 0, sliding_window = 0, vocab = 0;
};

// "gpt-oss-20b" (full size, ~13.8 GB), "gpt-oss-120b" (full size, ~65.2 GB in 15 shards), "tiny" (hidden 256,
// vocab 1024), "tiny-full-vocab" (tiny with the real 201088-token vocabulary), "tiny-120b" (120b's structure:
// 36 layers, 128 experts, top-4, GQA group 8, at hidden 64 and vocab 512). Throws CliError for other names.
SyntheticShape synthetic_preset(const std::string& name);
inline const std::vector<std::string> kSyntheticPresets = {"gpt-oss-20b", "gpt-oss-120b", "tiny",
                                                           "tiny-full-vocab", "tiny-120b"};

// config.json for a shape (the hub file's keys, sizes substituted).
nlohmann::json synthetic_config(const SyntheticShape& shape);

struct SyntheticOptions {
    uint64_t seed = 0;
    uint64_t shard_bytes = 4'800'000'000;  // the release converter's cap
    bool show_progress = false;            // on a terminal only
    int threads = 0;                       // generating threads; 0 = all cores
};

// Bytes of tensor data the checkpoint will hold.
uint64_t synthetic_tensor_bytes(const SyntheticShape& shape);

// One file of the checkpoint: its name, how many tensors and how many bytes of tensor data it holds.
struct SyntheticShard {
    std::string file;
    size_t num_tensors = 0;
    uint64_t tensor_bytes = 0;
};
// The files write_synthetic_checkpoint writes (greedy in tensor order, as the release converter), without
// writing them: one "model.safetensors", or the release's "model-{i:05d}-of-{count - 1:05d}.safetensors".
std::vector<SyntheticShard> plan_synthetic_shards(const SyntheticShape& shape, uint64_t shard_bytes);

// Writes the checkpoint into `dir` (created if needed). Checks free disk space first.
void write_synthetic_checkpoint(const std::filesystem::path& dir, const SyntheticShape& shape,
                                const SyntheticOptions& options);

}  // namespace gptoss::cli
