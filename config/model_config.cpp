#include "config/model_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/json_fields.h"

namespace gptoss {

using json_fields::Reader;
using nlohmann::json;

namespace {

[[noreturn]] void fail(std::string_view source, const std::string& message) {
    throw ConfigError(fmt::format("{}: {}", source, message));
}

std::vector<int> read_token_id_list(const Reader& reader, std::string_view key) {
    const json* v = reader.find(key);
    if (!v) return {};
    std::vector<int> ids;
    if (v->is_array()) {
        for (const auto& item : *v) {
            if (!item.is_number_integer() || item.get<long long>() < 0) {
                reader.fail(key, fmt::format("must hold non-negative integer token ids, found {}",
                                             json_fields::describe_type(item)));
            }
            ids.push_back(item.get<int>());
        }
        return ids;
    }
    auto one = reader.optional_int(key);
    if (*one < 0) reader.fail(key, "must be a non-negative token id");
    return {*one};
}

RopeScaling read_rope_scaling(const json& doc, std::string_view source, double* rope_theta) {
    // transformers v5 writes {"rope_parameters": {..., "rope_theta": ...}} instead of rope_scaling +
    // rope_theta.
    const char* key = nullptr;
    if (doc.contains("rope_scaling") && !doc["rope_scaling"].is_null()) {
        key = "rope_scaling";
    } else if (doc.contains("rope_parameters") && !doc["rope_parameters"].is_null()) {
        key = "rope_parameters";
    }
    RopeScaling rope;  // gpt-oss defaults (HF GptOssConfig)
    if (!key) return rope;
    const json& node = doc[key];
    if (!node.is_object()) {
        fail(source,
             fmt::format("field '{}' must be an object, got {}", key, json_fields::describe_type(node)));
    }
    Reader r(node, source, key);
    std::string type = r.optional_string("rope_type").value_or(r.optional_string("type").value_or("default"));
    if (type != "yarn" && type != "default") {
        r.fail("rope_type", fmt::format("'{}' is not supported (gpt-oss uses 'yarn')", type));
    }
    rope.rope_type = type;
    rope.factor = r.optional_number("factor").value_or(type == "yarn" ? 32.0 : 1.0);
    rope.beta_fast = r.optional_number("beta_fast").value_or(32.0);
    rope.beta_slow = r.optional_number("beta_slow").value_or(1.0);
    rope.original_max_position_embeddings = r.optional_int("original_max_position_embeddings").value_or(4096);
    // HF's own default for a missing key is true (round the correction range); gpt-oss writes false.
    rope.truncate = r.optional_bool("truncate").value_or(true);
    if (auto theta = r.optional_number("rope_theta")) *rope_theta = *theta;
    return rope;
}

}  // namespace

ModelConfig ModelConfig::from_json_text(std::string_view text, std::string_view source) {
    json doc = json_fields::parse_object(text, source);
    Reader r(doc, source);
    ModelConfig c;

    auto model_type = r.optional_string("model_type");
    if (!model_type) fail(source, "missing required field 'model_type' (expected \"gpt_oss\")");
    if (*model_type != "gpt_oss") {
        fail(source,
             fmt::format("model_type is \"{}\"; gptoss serves only \"gpt_oss\" checkpoints", *model_type));
    }
    c.model_type = *model_type;

    c.num_hidden_layers = r.required_int("num_hidden_layers");
    c.hidden_size = r.required_int("hidden_size");
    c.intermediate_size = r.required_int("intermediate_size");
    c.num_attention_heads = r.required_int("num_attention_heads");
    c.num_key_value_heads = r.required_int("num_key_value_heads");
    c.vocab_size = r.required_int("vocab_size");
    auto experts = r.optional_int_alias({"num_local_experts", "num_experts"});
    if (!experts) fail(source, "missing required field 'num_local_experts'");
    c.num_local_experts = *experts;
    auto top_k = r.optional_int_alias({"num_experts_per_tok", "experts_per_token"});
    if (!top_k) fail(source, "missing required field 'num_experts_per_tok'");
    c.num_experts_per_tok = *top_k;
    if (auto a = r.optional_int("num_experts_per_tok"), b = r.optional_int("experts_per_token");
        a && b && *a != *b) {
        fail(source, fmt::format("num_experts_per_tok ({}) and experts_per_token ({}) disagree", *a, *b));
    }

    c.head_dim = r.optional_int("head_dim").value_or(64);
    c.sliding_window = r.optional_int("sliding_window").value_or(128);
    c.rope_theta = r.optional_number("rope_theta").value_or(150000.0);
    c.rope_scaling = read_rope_scaling(doc, source, &c.rope_theta);
    c.initial_context_length = r.optional_int("initial_context_length").value_or(4096);
    c.max_position_embeddings = r.optional_int("max_position_embeddings").value_or(131072);
    c.rms_norm_eps = r.optional_number("rms_norm_eps").value_or(1e-5);
    c.swiglu_limit = r.optional_number("swiglu_limit").value_or(7.0);
    c.attention_bias = r.optional_bool("attention_bias").value_or(true);
    c.tie_word_embeddings = r.optional_bool("tie_word_embeddings").value_or(false);
    c.eos_token_ids = read_token_id_list(r, "eos_token_id");
    c.pad_token_id = r.optional_int("pad_token_id");
    c.bos_token_id = r.optional_int("bos_token_id");

    if (const json* types = r.find("layer_types")) {
        if (!types->is_array()) r.fail("layer_types", "must be an array of strings");
        for (size_t i = 0; i < types->size(); ++i) {
            const json& t = (*types)[i];
            if (t == "sliding_attention") {
                c.layer_types.push_back(LayerType::kSlidingAttention);
            } else if (t == "full_attention") {
                c.layer_types.push_back(LayerType::kFullAttention);
            } else {
                r.fail("layer_types",
                       fmt::format("entry {} is {}; expected \"sliding_attention\" or \"full_attention\"", i,
                                   t.is_string() ? "\"" + t.get<std::string>() + "\""
                                                 : json_fields::describe_type(t)));
            }
        }
    } else if (c.num_hidden_layers > 0) {
        // HF GptOssConfig's default: even layers slide, odd layers attend to everything.
        for (int i = 0; i < c.num_hidden_layers; ++i) {
            c.layer_types.push_back(i % 2 == 0 ? LayerType::kSlidingAttention : LayerType::kFullAttention);
        }
    }

    if (const json* q = r.find("quantization_config")) {
        if (!q->is_object()) r.fail("quantization_config", "must be an object");
        Reader qr(*q, source, "quantization_config");
        c.quantization.quant_method = qr.optional_string("quant_method").value_or("");
        if (const json* m = qr.find("modules_to_not_convert")) {
            if (!m->is_array()) qr.fail("modules_to_not_convert", "must be an array of strings");
            for (const auto& item : *m) {
                if (!item.is_string()) qr.fail("modules_to_not_convert", "must be an array of strings");
                c.quantization.modules_to_not_convert.push_back(item.get<std::string>());
            }
        }
    }

    c.validate(source);
    return c;
}

ModelConfig ModelConfig::from_file(const std::filesystem::path& path) {
    std::filesystem::path file = path;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) file = path / "config.json";
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(fmt::format("{}: cannot open the model configuration file", file.string()));
    std::stringstream buffer;
    buffer << in.rdbuf();
    return from_json_text(buffer.str(), file.string());
}

int ModelConfig::num_sliding_layers() const {
    return static_cast<int>(std::count(layer_types.begin(), layer_types.end(), LayerType::kSlidingAttention));
}

int ModelConfig::num_full_layers() const {
    return static_cast<int>(layer_types.size()) - num_sliding_layers();
}

int ModelConfig::pool_layer_index(int layer) const {
    LayerType type = layer_types.at(layer);
    return static_cast<int>(std::count(layer_types.begin(), layer_types.begin() + layer, type));
}

void ModelConfig::validate(std::string_view source) const {
    auto positive = [&](const char* name, long long value) {
        if (value <= 0) fail(source, fmt::format("{} must be positive, got {}", name, value));
    };
    positive("num_hidden_layers", num_hidden_layers);
    positive("hidden_size", hidden_size);
    positive("intermediate_size", intermediate_size);
    positive("num_attention_heads", num_attention_heads);
    positive("num_key_value_heads", num_key_value_heads);
    positive("head_dim", head_dim);
    positive("num_local_experts", num_local_experts);
    positive("num_experts_per_tok", num_experts_per_tok);
    positive("vocab_size", vocab_size);
    positive("max_position_embeddings", max_position_embeddings);
    if (num_attention_heads % num_key_value_heads != 0) {
        fail(source, fmt::format("num_attention_heads ({}) is not a multiple of num_key_value_heads ({})",
                                 num_attention_heads, num_key_value_heads));
    }
    if (num_experts_per_tok > num_local_experts) {
        fail(source, fmt::format("num_experts_per_tok ({}) exceeds num_local_experts ({})",
                                 num_experts_per_tok, num_local_experts));
    }
    if (head_dim % 2 != 0)
        fail(source, fmt::format("head_dim ({}) must be even for rotary embeddings", head_dim));
    // MXFP4 packs 32 values of the reduction axis into one block: both expert input widths must divide.
    if (hidden_size % 32 != 0) {
        fail(source,
             fmt::format("hidden_size ({}) must be a multiple of 32 (MXFP4 block size)", hidden_size));
    }
    if (intermediate_size % 32 != 0) {
        fail(source, fmt::format("intermediate_size ({}) must be a multiple of 32 (MXFP4 block size)",
                                 intermediate_size));
    }
    if (static_cast<int>(layer_types.size()) != num_hidden_layers) {
        fail(source, fmt::format("layer_types has {} entries but num_hidden_layers is {}", layer_types.size(),
                                 num_hidden_layers));
    }
    if (num_sliding_layers() > 0 && sliding_window <= 0) {
        fail(source,
             fmt::format("sliding_window must be positive when layer_types has sliding layers, got {}",
                         sliding_window));
    }
    if (!(rms_norm_eps > 0)) fail(source, fmt::format("rms_norm_eps must be positive, got {}", rms_norm_eps));
    if (!(rope_theta > 1)) fail(source, fmt::format("rope_theta must be greater than 1, got {}", rope_theta));
    if (!(swiglu_limit > 0)) fail(source, fmt::format("swiglu_limit must be positive, got {}", swiglu_limit));
    if (rope_scaling.rope_type == "yarn") {
        if (!(rope_scaling.factor >= 1)) {
            fail(source, fmt::format("rope_scaling.factor must be at least 1, got {}", rope_scaling.factor));
        }
        if (rope_scaling.original_max_position_embeddings <= 0) {
            fail(source, "rope_scaling.original_max_position_embeddings must be positive");
        }
        if (!(rope_scaling.beta_fast > rope_scaling.beta_slow) || !(rope_scaling.beta_slow > 0)) {
            fail(
                source,
                fmt::format("rope_scaling needs beta_fast > beta_slow > 0, got beta_fast {} and beta_slow {}",
                            rope_scaling.beta_fast, rope_scaling.beta_slow));
        }
    }
    if (!quantization.quant_method.empty() && quantization.quant_method != "mxfp4") {
        fail(source,
             fmt::format("quantization_config.quant_method is \"{}\"; only \"mxfp4\" (the gpt-oss release "
                         "format) is supported",
                         quantization.quant_method));
    }
    for (int id : eos_token_ids) {
        if (id >= vocab_size) {
            fail(source,
                 fmt::format("eos_token_id {} is outside the vocabulary (vocab_size {})", id, vocab_size));
        }
    }
    if (pad_token_id && (*pad_token_id < 0 || *pad_token_id >= vocab_size)) {
        fail(source, fmt::format("pad_token_id {} is outside the vocabulary (vocab_size {})", *pad_token_id,
                                 vocab_size));
    }
}

}  // namespace gptoss
