#include "engine/weights/model_weights.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "engine/weights/safetensors.h"

namespace gptoss {

int64_t TensorView::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

namespace {

namespace fs = std::filesystem;

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw WeightsError(fmt::format("{}: cannot open the file", path.string()));
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// Shard file name -> the tensors the index says it holds.
std::map<std::string, std::vector<std::string>> read_index(const fs::path& index_path) {
    const std::string where = index_path.string();
    nlohmann::json doc = nlohmann::json::parse(read_text(index_path), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        throw WeightsError(fmt::format("{}: not a valid JSON object", where));
    }
    auto map_it = doc.find("weight_map");
    if (map_it == doc.end() || !map_it->is_object() || map_it->empty()) {
        throw WeightsError(fmt::format("{}: missing or empty object 'weight_map'", where));
    }
    std::map<std::string, std::vector<std::string>> shards;
    for (const auto& [tensor, file] : map_it->items()) {
        if (!file.is_string()) {
            throw WeightsError(fmt::format("{}: weight_map entry '{}' is not a file name", where, tensor));
        }
        const std::string& name = file.get_ref<const std::string&>();
        fs::path rel(name);
        bool escapes = rel.empty() || rel.is_absolute();
        for (const auto& part : rel) escapes |= part == "..";
        if (escapes) {
            throw WeightsError(
                fmt::format("{}: weight_map entry '{}' names the file '{}', which is not inside the "
                            "checkpoint folder",
                            where, tensor, name));
        }
        shards[name].push_back(tensor);
    }
    return shards;
}

// Shows "loading weights: x / y GB (p%), r MB/s" on a terminal; silent otherwise.
class LoadProgress {
public:
    LoadProgress(uint64_t total_bytes, bool enabled)
        : total_(total_bytes),
          enabled_(enabled && ::isatty(STDERR_FILENO)),
          start_(Clock::now()),
          last_(start_) {}

    void advance(uint64_t bytes) {
        done_ += bytes;
        if (!enabled_) return;
        auto now = Clock::now();
        if (now - last_ < std::chrono::milliseconds(200) && done_ < total_) return;
        last_ = now;
        std::fprintf(stderr, "\rloading weights: %.2f / %.2f GB (%3.0f%%), %.0f MB/s   ", done_ / 1e9,
                     total_ / 1e9, total_ ? 100.0 * done_ / total_ : 100.0, rate_mb_s());
        std::fflush(stderr);
    }
    void finish() {
        double seconds = elapsed();
        if (enabled_) {
            std::fprintf(stderr, "\rloaded weights: %.2f GB in %.1f s (%.0f MB/s)%20s\n", total_ / 1e9,
                         seconds, rate_mb_s(), "");
        }
        spdlog::info("weights loaded bytes={} seconds={:.2f} mb_per_s={:.0f}", total_, seconds, rate_mb_s());
    }

private:
    using Clock = std::chrono::steady_clock;
    double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
    double rate_mb_s() const {
        double s = elapsed();
        return s > 0 ? done_ / 1e6 / s : 0.0;
    }
    uint64_t total_;
    uint64_t done_ = 0;
    bool enabled_;
    Clock::time_point start_, last_;
};

// Finds tensors by name across the checkpoint's files and checks them against the expected dtype and shape.
class TensorLookup {
public:
    void add(const SafetensorsArchive* archive, std::vector<std::string> expected_names) {
        for (auto& name : expected_names) {
            const SafetensorsEntry* entry = archive->find(name);
            if (!entry) {
                throw WeightsError(
                    fmt::format("{}: tensor '{}' is missing (the index {} lists it in this file)",
                                archive->path().string(), name, kIndexFile));
            }
            located_[name] = {archive, entry};
        }
    }
    void add_all(const SafetensorsArchive* archive) {
        for (const auto& entry : archive->entries()) located_[entry.name] = {archive, &entry};
    }
    bool has(const std::string& name) const { return located_.count(name) != 0; }

    TensorView get(const std::string& name, DType dtype, const std::vector<int64_t>& shape) const {
        auto it = located_.find(name);
        if (it == located_.end()) {
            throw WeightsError(fmt::format("{}: tensor '{}' is missing from the checkpoint", where_, name));
        }
        const auto& [archive, entry] = it->second;
        const std::string file = archive->path().string();
        if (entry->dtype != dtype) {
            throw WeightsError(fmt::format("{}: tensor '{}' has dtype {}, expected {}", file, name,
                                           dtype_name(entry->dtype), dtype_name(dtype)));
        }
        if (entry->shape != shape) {
            throw WeightsError(fmt::format("{}: tensor '{}' has shape [{}], but config.json implies [{}]",
                                           file, name, fmt::join(entry->shape, ", "),
                                           fmt::join(shape, ", ")));
        }
        return archive->view(*entry);
    }
    void set_where(std::string where) { where_ = std::move(where); }

private:
    std::map<std::string, std::pair<const SafetensorsArchive*, const SafetensorsEntry*>> located_;
    std::string where_;
};

LayerWeights load_layer(const TensorLookup& t, const ModelConfig& c, int layer) {
    const std::string p = fmt::format("model.layers.{}.", layer);
    const int64_t H = c.hidden_size, Q = c.q_dim(), KV = c.kv_dim(), E = c.num_local_experts;
    const int64_t I = c.intermediate_size, heads = c.num_attention_heads;
    const DType bf16 = DType::kBF16, u8 = DType::kU8;
    LayerWeights w;
    w.input_layernorm = t.get(p + "input_layernorm.weight", bf16, {H});
    w.q_proj_weight = t.get(p + "self_attn.q_proj.weight", bf16, {Q, H});
    w.q_proj_bias = t.get(p + "self_attn.q_proj.bias", bf16, {Q});
    w.k_proj_weight = t.get(p + "self_attn.k_proj.weight", bf16, {KV, H});
    w.k_proj_bias = t.get(p + "self_attn.k_proj.bias", bf16, {KV});
    w.v_proj_weight = t.get(p + "self_attn.v_proj.weight", bf16, {KV, H});
    w.v_proj_bias = t.get(p + "self_attn.v_proj.bias", bf16, {KV});
    w.o_proj_weight = t.get(p + "self_attn.o_proj.weight", bf16, {H, Q});
    w.o_proj_bias = t.get(p + "self_attn.o_proj.bias", bf16, {H});
    w.sinks = t.get(p + "self_attn.sinks", bf16, {heads});
    w.post_attention_layernorm = t.get(p + "post_attention_layernorm.weight", bf16, {H});
    w.router_weight = t.get(p + "mlp.router.weight", bf16, {E, H});
    w.router_bias = t.get(p + "mlp.router.bias", bf16, {E});
    w.gate_up_blocks = t.get(p + "mlp.experts.gate_up_proj_blocks", u8, {E, 2 * I, H / 32, 16});
    w.gate_up_scales = t.get(p + "mlp.experts.gate_up_proj_scales", u8, {E, 2 * I, H / 32});
    w.gate_up_bias = t.get(p + "mlp.experts.gate_up_proj_bias", bf16, {E, 2 * I});
    w.down_blocks = t.get(p + "mlp.experts.down_proj_blocks", u8, {E, H, I / 32, 16});
    w.down_scales = t.get(p + "mlp.experts.down_proj_scales", u8, {E, H, I / 32});
    w.down_bias = t.get(p + "mlp.experts.down_proj_bias", bf16, {E, H});
    return w;
}

}  // namespace

uint64_t checkpoint_tensor_bytes(const ModelConfig& c) {
    const uint64_t H = c.hidden_size, Q = c.q_dim(), KV = c.kv_dim(), E = c.num_local_experts;
    const uint64_t I = c.intermediate_size, heads = c.num_attention_heads, bf16 = 2;
    // The shapes load_layer checks: bf16 attention, norms, router; MXFP4 experts (16 bytes of codes and one
    // scale byte per 32 values) with bf16 biases.
    const uint64_t attention = bf16 * (Q * H + Q + 2 * (KV * H + KV) + H * Q + H + heads);
    const uint64_t norms_router = bf16 * (2 * H + E * H + E);
    const uint64_t gate_up = E * (2 * I) * (H / 32) * 17 + bf16 * E * 2 * I;
    const uint64_t down = E * H * (I / 32) * 17 + bf16 * E * H;
    const uint64_t embeddings = bf16 * c.vocab_size * H * (c.tie_word_embeddings ? 1 : 2);
    return embeddings + bf16 * H + c.num_hidden_layers * (attention + norms_router + gate_up + down);
}

std::unique_ptr<ModelWeights> ModelWeights::load(const std::filesystem::path& dir, const ModelConfig& config,
                                                 bool show_progress) {
    config.validate("config");
    std::unique_ptr<ModelWeights> w(new ModelWeights());
    w->config_ = config;

    TensorLookup lookup;
    std::error_code ec;
    const fs::path single = dir / kSingleFile;
    const fs::path index = dir / kIndexFile;
    if (fs::exists(single, ec)) {
        w->archives_.push_back(SafetensorsArchive::open(single));
        lookup.add_all(w->archives_.back().get());
        lookup.set_where(single.string());
    } else if (fs::exists(index, ec)) {
        // The index is the only source of truth for which shards exist (the release names its three shards
        // "-of-00002").
        for (auto& [file, names] : read_index(index)) {
            w->archives_.push_back(SafetensorsArchive::open(dir / file));
            lookup.add(w->archives_.back().get(), std::move(names));
        }
        lookup.set_where(index.string());
    } else {
        throw WeightsError(fmt::format("{}: no {} or {} in this folder; is it a Hugging Face checkpoint?",
                                       dir.string(), kSingleFile, kIndexFile));
    }

    const int64_t V = config.vocab_size, H = config.hidden_size;
    w->embed_tokens = lookup.get("model.embed_tokens.weight", DType::kBF16, {V, H});
    w->norm = lookup.get("model.norm.weight", DType::kBF16, {H});
    if (config.tie_word_embeddings && !lookup.has("lm_head.weight")) {
        w->lm_head = w->embed_tokens;
    } else {
        w->lm_head = lookup.get("lm_head.weight", DType::kBF16, {V, H});
    }
    w->layers.reserve(config.num_hidden_layers);
    for (int layer = 0; layer < config.num_hidden_layers; ++layer) {
        w->layers.push_back(load_layer(lookup, config, layer));
    }

    for (const auto& archive : w->archives_) w->total_bytes_ += archive->file_bytes();
    LoadProgress progress(w->total_bytes_, show_progress);
    for (const auto& archive : w->archives_) {
        progress.advance(archive->file_bytes() - archive->data_bytes());
        archive->prefault([&](uint64_t bytes) { progress.advance(bytes); });
    }
    progress.finish();
    return w;
}

ModelWeights::~ModelWeights() = default;

}  // namespace gptoss
