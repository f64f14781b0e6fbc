// ModelConfig: the architecture of a gpt-oss checkpoint, parsed from its Hugging Face config.json.
//
// Every field the forward pass reads is here, named as in config.json. Parsing is strict about types and
// ranges and never crashes on a bad file: problems throw ConfigError with a message that names the file and
// the field ("config.json: num_attention_heads (64) is not a multiple of num_key_value_heads (7)").
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gptoss {

// A configuration file that cannot be used. what() is a complete, user-facing sentence.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class LayerType { kFullAttention, kSlidingAttention };

// RoPE frequency scaling. gpt-oss uses YaRN; "default" means plain RoPE with rope_theta.
struct RopeScaling {
    std::string rope_type = "yarn";  // "yarn" | "default"
    double factor = 32.0;
    double beta_fast = 32.0;
    double beta_slow = 1.0;
    int original_max_position_embeddings = 4096;
    // HF rounds the YaRN correction range to integers unless truncate is false; gpt-oss ships false.
    bool truncate = false;
};

struct QuantizationConfig {
    std::string quant_method;  // "mxfp4" for the release; empty when the file has no quantization_config
    std::vector<std::string> modules_to_not_convert;
};

struct ModelConfig {
    std::string model_type;  // always "gpt_oss"
    int num_hidden_layers = 0;
    int hidden_size = 0;
    int intermediate_size = 0;  // per expert; gate_up is 2x this wide
    int num_attention_heads = 0;
    int num_key_value_heads = 0;
    int head_dim = 0;
    int num_local_experts = 0;    // "num_experts" is accepted as an alias
    int num_experts_per_tok = 0;  // "experts_per_token" (original format) is accepted as an alias
    int sliding_window = 0;
    std::vector<LayerType> layer_types;  // one per layer
    double rope_theta = 150000.0;
    RopeScaling rope_scaling;
    int initial_context_length = 4096;
    int max_position_embeddings = 131072;
    int vocab_size = 0;
    double rms_norm_eps = 1e-5;
    double swiglu_limit = 7.0;
    bool attention_bias = true;
    bool tie_word_embeddings = false;
    std::vector<int> eos_token_ids;  // config.json's eos_token_id (int or list)
    std::optional<int> pad_token_id;
    std::optional<int> bos_token_id;
    QuantizationConfig quantization;

    // Parses config.json text. source_name is used in error messages (usually the file path).
    static ModelConfig from_json_text(std::string_view text, std::string_view source_name = "config.json");
    // Reads <path> (a config.json file, or a checkpoint folder containing one).
    static ModelConfig from_file(const std::filesystem::path& path);

    bool is_sliding(int layer) const { return layer_types.at(layer) == LayerType::kSlidingAttention; }
    int num_sliding_layers() const;
    int num_full_layers() const;
    // Index of `layer` among the layers of its own type (its slot in that KV pool).
    int pool_layer_index(int layer) const;
    int gqa_group_size() const { return num_attention_heads / num_key_value_heads; }
    int q_dim() const { return num_attention_heads * head_dim; }
    int kv_dim() const { return num_key_value_heads * head_dim; }

    // The checks from_json_text applies; call again after editing fields by hand.
    void validate(std::string_view source_name = "config") const;
};

}  // namespace gptoss
