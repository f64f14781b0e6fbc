#include "tools/synthetic_checkpoint.h"

#include <omp.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <future>

#include <fmt/format.h>

#include "config/cli_flags.h"
#include "engine/weights/dtype.h"
#include "engine/weights/safetensors_writer.h"

namespace gptoss::cli {

namespace {

namespace fs = std::filesystem;

// How a tensor's bytes are made.
struct Fill {
    enum class Kind { kNormal, kCodes, kScales };
    Kind kind = Kind::kNormal;
    float mean = 0, std = 0;  // kNormal (bf16)
    int scale_center = 127;   // kScales: center +- 1
};

struct PlannedTensor {
    SafetensorsTensorSpec spec;
    Fill fill;
};

// Appendix B's tensor order: embedding, each layer's tensors, final norm, lm_head.
std::vector<PlannedTensor> tensor_plan(const SyntheticShape& d) {
    const int64_t H = d.hidden, I = d.intermediate, E = d.experts, V = d.vocab;
    const int64_t Q = int64_t{d.heads} * d.head_dim, KV = int64_t{d.kv_heads} * d.head_dim;
    auto normal = [](std::string name, std::vector<int64_t> shape, double std, double mean = 0.0) {
        return PlannedTensor{{std::move(name), DType::kBF16, std::move(shape)},
                             {Fill::Kind::kNormal, static_cast<float>(mean), static_cast<float>(std)}};
    };
    auto codes = [](std::string name, std::vector<int64_t> shape) {
        return PlannedTensor{{std::move(name), DType::kU8, std::move(shape)}, {Fill::Kind::kCodes}};
    };
    auto scales = [](std::string name, std::vector<int64_t> shape, int64_t fan_in) {
        // Uniform codes have RMS sqrt(sum(v^2) / 8) ~ 2.926: scale so decoded weights have RMS ~
        // 1/sqrt(fan_in).
        const double code_rms = std::sqrt((0.25 + 1 + 2.25 + 4 + 9 + 16 + 36) / 8);
        const int center =
            127 + static_cast<int>(std::nearbyint(std::log2(1.0 / (std::sqrt(fan_in) * code_rms))));
        Fill fill{Fill::Kind::kScales};
        fill.scale_center = center;
        return PlannedTensor{{std::move(name), DType::kU8, std::move(shape)}, fill};
    };
    const double rh = 1.0 / std::sqrt(double(H)), rq = 1.0 / std::sqrt(double(Q));
    std::vector<PlannedTensor> plan = {normal("model.embed_tokens.weight", {V, H}, 1.0)};
    for (int l = 0; l < d.layers; ++l) {
        const std::string p = fmt::format("model.layers.{}.", l);
        plan.push_back(normal(p + "input_layernorm.weight", {H}, 0.1, 1.0));
        plan.push_back(normal(p + "self_attn.q_proj.weight", {Q, H}, rh));
        plan.push_back(normal(p + "self_attn.q_proj.bias", {Q}, 0.1));
        plan.push_back(normal(p + "self_attn.k_proj.weight", {KV, H}, rh));
        plan.push_back(normal(p + "self_attn.k_proj.bias", {KV}, 0.1));
        plan.push_back(normal(p + "self_attn.v_proj.weight", {KV, H}, rh));
        plan.push_back(normal(p + "self_attn.v_proj.bias", {KV}, 0.1));
        plan.push_back(normal(p + "self_attn.o_proj.weight", {H, Q}, rq));
        plan.push_back(normal(p + "self_attn.o_proj.bias", {H}, 0.1));
        plan.push_back(normal(p + "self_attn.sinks", {d.heads}, 1.0));
        plan.push_back(normal(p + "post_attention_layernorm.weight", {H}, 0.1, 1.0));
        plan.push_back(normal(p + "mlp.router.weight", {E, H}, rh));
        plan.push_back(normal(p + "mlp.router.bias", {E}, 0.1));
        // Rows of gate_up alternate gate (even) / up (odd); MXFP4 blocks run along the input axis.
        plan.push_back(codes(p + "mlp.experts.gate_up_proj_blocks", {E, 2 * I, H / 32, 16}));
        plan.push_back(scales(p + "mlp.experts.gate_up_proj_scales", {E, 2 * I, H / 32}, H));
        plan.push_back(normal(p + "mlp.experts.gate_up_proj_bias", {E, 2 * I}, 0.1));
        plan.push_back(codes(p + "mlp.experts.down_proj_blocks", {E, H, I / 32, 16}));
        plan.push_back(scales(p + "mlp.experts.down_proj_scales", {E, H, I / 32}, I));
        plan.push_back(normal(p + "mlp.experts.down_proj_bias", {E, H}, 0.1));
    }
    plan.push_back(normal("model.norm.weight", {H}, 0.1, 1.0));
    plan.push_back(normal("lm_head.weight", {V, H}, rh));
    return plan;
}

// xoshiro256** seeded through splitmix64: fast, and any (seed, tensor, chunk) gives its own stream.
class Rng {
public:
    explicit Rng(uint64_t seed) {
        for (auto& s : state_) {
            seed += 0x9e3779b97f4a7c15ull;
            uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            s = z ^ (z >> 31);
        }
    }
    uint64_t next() {
        const uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t state_[4];
};

constexpr uint64_t kChunkBytes = 1 << 20;  // unit of generation (and of the RNG streams)

// Fills bytes [offset, offset + n) of a tensor's data; offset is a multiple of kChunkBytes.
void generate_chunk(const Fill& fill, uint64_t seed, size_t tensor_index, uint64_t offset, uint8_t* out,
                    size_t n) {
    Rng rng(seed ^ (0x632be59bd9b4e019ull * (tensor_index + 1)) ^
            (0x8cb92ba72f3d8dd7ull * (offset / kChunkBytes)));
    switch (fill.kind) {
        case Fill::Kind::kCodes:
            for (size_t i = 0; i < n; i += 8) {
                uint64_t r = rng.next();
                std::memcpy(out + i, &r, std::min<size_t>(8, n - i));
            }
            break;
        case Fill::Kind::kScales:
            for (size_t i = 0; i < n; ++i)
                out[i] = static_cast<uint8_t>(fill.scale_center - 1 + rng.next() % 3);
            break;
        case Fill::Kind::kNormal: {
            // Irwin-Hall: the sum of four uniforms, centered and scaled to unit variance (close to normal,
            // bounded at +-3.46 sigma, and cheap enough to keep the 20b preset at disk speed).
            constexpr float kScale = 1.7320508f / 65536.0f;  // sqrt(3) / 2^16: four 16-bit uniforms
            uint16_t* values = reinterpret_cast<uint16_t*>(out);
            for (size_t i = 0; i < n / 2; ++i) {
                const uint64_t r = rng.next();
                const float sum = static_cast<float>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) +
                                                     ((r >> 32) & 0xFFFF) + (r >> 48)) -
                                  2.0f * 65536.0f;
                values[i] = float_to_bf16(fill.mean + fill.std * (sum * kScale));
            }
            break;
        }
    }
}

// "writing ...: x / y GB (p%), r MB/s" on a terminal; elsewhere (logs) one line per finished file.
class WriteProgress {
public:
    WriteProgress(uint64_t total, size_t num_files, bool enabled)
        : total_(total),
          num_files_(num_files),
          terminal_(enabled && ::isatty(STDERR_FILENO)),
          lines_(enabled && !terminal_),
          start_(Clock::now()) {}
    void advance(uint64_t bytes, const std::string& file) {
        done_ += bytes;
        if (!terminal_) return;
        std::fprintf(stderr, "\rwriting %s: %.2f / %.2f GB (%3.0f%%), %.0f MB/s   ", file.c_str(),
                     done_ / 1e9, total_ / 1e9, 100.0 * done_ / total_, rate_mb_s());
        std::fflush(stderr);
    }
    void file_done(const std::string& file) {
        ++files_done_;
        if (!lines_) return;
        std::fprintf(stderr, "wrote %s (%zu / %zu files, %.2f / %.2f GB, %.0f MB/s)\n", file.c_str(),
                     files_done_, num_files_, done_ / 1e9, total_ / 1e9, rate_mb_s());
    }
    void finish(const fs::path& dir) {
        if (terminal_ || lines_) {
            std::fprintf(stderr, "%swrote %.2f GB to %s in %.1f s (%.0f MB/s)%30s\n", terminal_ ? "\r" : "",
                         total_ / 1e9, dir.string().c_str(), seconds(), rate_mb_s(), "");
        }
    }

private:
    using Clock = std::chrono::steady_clock;
    double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
    double rate_mb_s() const { return seconds() > 0 ? done_ / 1e6 / seconds() : 0.0; }
    uint64_t total_, done_ = 0;
    size_t num_files_, files_done_ = 0;
    bool terminal_, lines_;
    Clock::time_point start_;
};

// Streams one shard: batches of chunks are generated in parallel while the previous batch is being written.
void write_shard(const fs::path& path, const std::vector<PlannedTensor>& plan,
                 const std::vector<size_t>& members, uint64_t seed, int threads, WriteProgress& progress) {
    std::vector<SafetensorsTensorSpec> specs;
    for (size_t i : members) specs.push_back(plan[i].spec);
    SafetensorsWriter writer(path, specs, {{"format", "pt"}}, /*direct_io=*/true);

    struct Piece {
        size_t tensor;
        uint64_t offset, bytes;
    };
    std::vector<Piece> pieces;  // the data section in kChunkBytes pieces
    for (size_t i : members) {
        const uint64_t n = plan[i].spec.nbytes();
        for (uint64_t off = 0; off < n; off += kChunkBytes)
            pieces.push_back({i, off, std::min(kChunkBytes, n - off)});
    }
    constexpr size_t kBatch = 64;  // chunks per write: 64 MiB
    std::vector<uint8_t> buffers[2] = {std::vector<uint8_t>(kBatch * kChunkBytes),
                                       std::vector<uint8_t>(kBatch * kChunkBytes)};
    std::future<void> pending;
    const std::string name = path.filename().string();
    for (size_t first = 0, b = 0; first < pieces.size(); first += kBatch, b ^= 1) {
        const size_t count = std::min(kBatch, pieces.size() - first);
        uint8_t* buffer = buffers[b].data();
        std::vector<uint64_t> at(count + 1, 0);  // where each piece lands in the buffer
        for (size_t k = 0; k < count; ++k) at[k + 1] = at[k] + pieces[first + k].bytes;
#pragma omp parallel for schedule(dynamic) num_threads(threads)
        for (size_t k = 0; k < count; ++k) {
            const Piece& piece = pieces[first + k];
            generate_chunk(plan[piece.tensor].fill, seed, piece.tensor, piece.offset, buffer + at[k],
                           piece.bytes);
        }
        if (pending.valid()) pending.get();
        pending = std::async(std::launch::async, [&writer, &progress, buffer, bytes = at[count], name] {
            writer.write(buffer, bytes);
            progress.advance(bytes, name);
        });
    }
    if (pending.valid()) pending.get();
    writer.finish();
    progress.file_done(name);
}

// Tensor indices of each file: greedy in plan order, a new file when the next tensor would pass the cap.
std::vector<std::vector<size_t>> assign_shards(const std::vector<PlannedTensor>& plan, uint64_t shard_bytes) {
    std::vector<std::vector<size_t>> shards(1);
    uint64_t shard_size = 0;
    for (size_t i = 0; i < plan.size(); ++i) {
        const uint64_t n = plan[i].spec.nbytes();
        if (!shards.back().empty() && shard_size + n > shard_bytes) {
            shards.emplace_back();
            shard_size = 0;
        }
        shards.back().push_back(i);
        shard_size += n;
    }
    return shards;
}

// The release's quirk for several files: numbered from 0, "of" the count minus one.
std::vector<std::string> shard_file_names(size_t num_shards) {
    if (num_shards == 1) return {"model.safetensors"};
    std::vector<std::string> names;
    for (size_t s = 0; s < num_shards; ++s)
        names.push_back(fmt::format("model-{:05d}-of-{:05d}.safetensors", s, num_shards - 1));
    return names;
}

}  // namespace

SyntheticShape synthetic_preset(const std::string& name) {
    // Field order: hidden, intermediate, layers, heads, kv_heads, head_dim, experts, experts_per_token,
    // sliding_window, vocab.
    SyntheticShape tiny{256, 256, 4, 8, 2, 64, 8, 4, 8, 1024};
    if (name == "gpt-oss-20b") return {2880, 2880, 24, 64, 8, 64, 32, 4, 128, 201088};
    // openai/gpt-oss-120b: the 20b's attention and expert widths with 36 layers and 128 experts (model card,
    // arXiv 2508.10925 table 1; transformers' GptOssConfig defaults, which describe the 120b). Its hub
    // checkpoint is 15 files "model-00000-of-00014" ... "model-00014-of-00014" totalling 60.77 GiB; the
    // greedy 4.8 GB split of the 687 tensors in state-dict order gives the same 15 files and 65,248,815,744
    // bytes.
    if (name == "gpt-oss-120b") return {2880, 2880, 36, 64, 8, 64, 128, 4, 128, 201088};
    if (name == "tiny") return tiny;
    if (name == "tiny-full-vocab") {
        tiny.vocab = 201088;
        return tiny;
    }
    // 120b's structure ratios shrunk in width (the golden fixture of tests/data/tiny-120b): every layer
    // count, expert count, top-k and the GQA group of 8 as released; hidden 64 (two MXFP4 blocks per row),
    // window 16 so short prompts cross it.
    if (name == "tiny-120b") return {64, 64, 36, 16, 2, 64, 128, 4, 16, 512};
    throw CliError(
        "--preset must be one of gpt-oss-20b, gpt-oss-120b, tiny, tiny-full-vocab, tiny-120b; got '" + name +
        "'");
}

nlohmann::json synthetic_config(const SyntheticShape& d) {
    const bool real_vocab = d.vocab == 201088;
    nlohmann::json layer_types = nlohmann::json::array();
    for (int l = 0; l < d.layers; ++l)
        layer_types.push_back(l % 2 == 0 ? "sliding_attention" : "full_attention");
    return {
        {"architectures", {"GptOssForCausalLM"}},
        {"attention_bias", true},
        {"attention_dropout", 0.0},
        {"eos_token_id", real_vocab ? 200002 : d.vocab - 2},
        {"experts_per_token", d.experts_per_token},
        {"head_dim", d.head_dim},
        {"hidden_act", "silu"},
        {"hidden_size", d.hidden},
        {"initial_context_length", 4096},
        {"initializer_range", 0.02},
        {"intermediate_size", d.intermediate},
        {"layer_types", layer_types},
        {"max_position_embeddings", 131072},
        {"model_type", "gpt_oss"},
        {"num_attention_heads", d.heads},
        {"num_experts_per_tok", d.experts_per_token},
        {"num_hidden_layers", d.layers},
        {"num_key_value_heads", d.kv_heads},
        {"num_local_experts", d.experts},
        {"output_router_logits", false},
        {"pad_token_id", real_vocab ? 199999 : d.vocab - 1},
        {"quantization_config",
         {{"modules_to_not_convert",
           {"model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"}},
          {"quant_method", "mxfp4"}}},
        {"rms_norm_eps", 1e-05},
        {"rope_scaling",
         {{"beta_fast", 32.0},
          {"beta_slow", 1.0},
          {"factor", 32.0},
          {"original_max_position_embeddings", 4096},
          {"rope_type", "yarn"},
          {"truncate", false}}},
        {"rope_theta", 150000},
        {"router_aux_loss_coef", 0.9},
        {"sliding_window", d.sliding_window},
        {"swiglu_limit", 7.0},
        {"tie_word_embeddings", false},
        {"transformers_version", "4.55.0.dev0"},
        {"use_cache", true},
        {"vocab_size", d.vocab},
    };
}

uint64_t synthetic_tensor_bytes(const SyntheticShape& shape) {
    uint64_t total = 0;
    for (const auto& t : tensor_plan(shape)) total += t.spec.nbytes();
    return total;
}

std::vector<SyntheticShard> plan_synthetic_shards(const SyntheticShape& shape, uint64_t shard_bytes) {
    const std::vector<PlannedTensor> plan = tensor_plan(shape);
    const std::vector<std::vector<size_t>> shards = assign_shards(plan, shard_bytes);
    const std::vector<std::string> names = shard_file_names(shards.size());
    std::vector<SyntheticShard> out;
    for (size_t s = 0; s < shards.size(); ++s) {
        SyntheticShard shard{names[s], shards[s].size(), 0};
        for (size_t i : shards[s]) shard.tensor_bytes += plan[i].spec.nbytes();
        out.push_back(std::move(shard));
    }
    return out;
}

void write_synthetic_checkpoint(const fs::path& dir, const SyntheticShape& shape,
                                const SyntheticOptions& options) {
    const std::vector<PlannedTensor> plan = tensor_plan(shape);
    const std::vector<std::vector<size_t>> shards = assign_shards(plan, options.shard_bytes);
    uint64_t total = 0;
    for (const auto& t : plan) total += t.spec.nbytes();

    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir))
        throw CliError(fmt::format("--out: cannot create the folder {}", dir.string()));
    struct statvfs vfs {};
    if (::statvfs(dir.c_str(), &vfs) == 0) {
        const uint64_t free_bytes = uint64_t{vfs.f_bavail} * vfs.f_frsize;
        if (free_bytes < total + (64 << 20)) {
            throw CliError(fmt::format("--out: {} has {:.2f} GB free but the checkpoint needs {:.2f} GB",
                                       dir.string(), free_bytes / 1e9, total / 1e9));
        }
    }

    const std::vector<std::string> names = shard_file_names(shards.size());
    if (shards.size() > 1) {
        nlohmann::json index = {{"metadata", {{"total_size", total}}},
                                {"weight_map", nlohmann::json::object()}};
        for (size_t s = 0; s < shards.size(); ++s) {
            for (size_t i : shards[s]) index["weight_map"][plan[i].spec.name] = names[s];
        }
        std::ofstream(dir / "model.safetensors.index.json") << index.dump(2) << "\n";
    }
    std::ofstream(dir / "config.json") << synthetic_config(shape).dump(2) << "\n";
    if (shape.vocab == 201088) {
        nlohmann::json generation = {{"bos_token_id", 199998},
                                     {"do_sample", true},
                                     {"eos_token_id", {200002, 199999, 200012}},
                                     {"pad_token_id", 199999}};
        std::ofstream(dir / "generation_config.json") << generation.dump(2) << "\n";
    }
    WriteProgress progress(total, shards.size(), options.show_progress);
    const int threads = options.threads > 0 ? options.threads : omp_get_num_procs();
    for (size_t s = 0; s < shards.size(); ++s) {
        write_shard(dir / names[s], plan, shards[s], options.seed, threads, progress);
    }
    progress.finish(dir);
}

}  // namespace gptoss::cli
