#include "config/model_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/fixture.h"

namespace gptoss {
namespace {

using nlohmann::json;

// openai/gpt-oss-20b config.json as published (../shared/docs/gpt-oss-model.md section 1).
json gpt_oss_20b() {
    json layer_types = json::array();
    for (int i = 0; i < 24; ++i) layer_types.push_back(i % 2 == 0 ? "sliding_attention" : "full_attention");
    return json{
        {"architectures", {"GptOssForCausalLM"}},
        {"attention_bias", true},
        {"attention_dropout", 0.0},
        {"eos_token_id", 200002},
        {"experts_per_token", 4},
        {"head_dim", 64},
        {"hidden_act", "silu"},
        {"hidden_size", 2880},
        {"initial_context_length", 4096},
        {"initializer_range", 0.02},
        {"intermediate_size", 2880},
        {"layer_types", layer_types},
        {"max_position_embeddings", 131072},
        {"model_type", "gpt_oss"},
        {"num_attention_heads", 64},
        {"num_experts_per_tok", 4},
        {"num_hidden_layers", 24},
        {"num_key_value_heads", 8},
        {"num_local_experts", 32},
        {"output_router_logits", false},
        {"pad_token_id", 199999},
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
        {"sliding_window", 128},
        {"swiglu_limit", 7.0},
        {"tie_word_embeddings", false},
        {"transformers_version", "4.55.0.dev0"},
        {"use_cache", true},
        {"vocab_size", 201088},
    };
}

ModelConfig parse(const json& j) {
    return ModelConfig::from_json_text(j.dump(), "config.json");
}

TEST(ModelConfig, ParsesGptOss20b) {
    ModelConfig c = parse(gpt_oss_20b());
    EXPECT_EQ(c.num_hidden_layers, 24);
    EXPECT_EQ(c.hidden_size, 2880);
    EXPECT_EQ(c.intermediate_size, 2880);
    EXPECT_EQ(c.num_attention_heads, 64);
    EXPECT_EQ(c.num_key_value_heads, 8);
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_EQ(c.num_local_experts, 32);
    EXPECT_EQ(c.num_experts_per_tok, 4);
    EXPECT_EQ(c.sliding_window, 128);
    EXPECT_EQ(c.vocab_size, 201088);
    EXPECT_EQ(c.max_position_embeddings, 131072);
    EXPECT_EQ(c.initial_context_length, 4096);
    EXPECT_DOUBLE_EQ(c.rope_theta, 150000.0);
    EXPECT_EQ(c.rope_scaling.rope_type, "yarn");
    EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 32.0);
    EXPECT_DOUBLE_EQ(c.rope_scaling.beta_fast, 32.0);
    EXPECT_DOUBLE_EQ(c.rope_scaling.beta_slow, 1.0);
    EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 4096);
    EXPECT_FALSE(c.rope_scaling.truncate);
    EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
    EXPECT_DOUBLE_EQ(c.swiglu_limit, 7.0);
    EXPECT_TRUE(c.attention_bias);
    EXPECT_FALSE(c.tie_word_embeddings);
    EXPECT_EQ(c.eos_token_ids, std::vector<int>{200002});
    EXPECT_EQ(c.pad_token_id, 199999);
    EXPECT_EQ(c.quantization.quant_method, "mxfp4");
    EXPECT_EQ(c.quantization.modules_to_not_convert.size(), 4u);
    EXPECT_EQ(c.num_sliding_layers(), 12);
    EXPECT_EQ(c.num_full_layers(), 12);
    EXPECT_TRUE(c.is_sliding(0));
    EXPECT_FALSE(c.is_sliding(1));
    EXPECT_TRUE(c.is_sliding(22));
    EXPECT_EQ(c.pool_layer_index(0), 0);
    EXPECT_EQ(c.pool_layer_index(1), 0);
    EXPECT_EQ(c.pool_layer_index(22), 11);
    EXPECT_EQ(c.pool_layer_index(23), 11);
    EXPECT_EQ(c.gqa_group_size(), 8);
    EXPECT_EQ(c.q_dim(), 4096);
    EXPECT_EQ(c.kv_dim(), 512);
}

TEST(ModelConfig, Parses120bShape) {
    json j = gpt_oss_20b();
    j["num_hidden_layers"] = 36;
    j["num_local_experts"] = 128;
    json types = json::array();
    for (int i = 0; i < 36; ++i) types.push_back(i % 2 == 0 ? "sliding_attention" : "full_attention");
    j["layer_types"] = types;
    ModelConfig c = parse(j);
    EXPECT_EQ(c.num_hidden_layers, 36);
    EXPECT_EQ(c.num_local_experts, 128);
    EXPECT_EQ(c.num_full_layers(), 18);
}

TEST(ModelConfig, ParsesTheTinyFixture) {
    ModelConfig c = ModelConfig::from_file(testing::tiny_gptoss_dir());
    EXPECT_EQ(c.hidden_size, 256);
    EXPECT_EQ(c.num_hidden_layers, 4);
    EXPECT_EQ(c.num_attention_heads, 8);
    EXPECT_EQ(c.num_key_value_heads, 2);
    EXPECT_EQ(c.num_local_experts, 8);
    EXPECT_EQ(c.sliding_window, 16);
    EXPECT_EQ(c.vocab_size, 1024);
    EXPECT_EQ(c.eos_token_ids, std::vector<int>{1022});
    EXPECT_FALSE(c.rope_scaling.truncate);
}

TEST(ModelConfig, ParsesTheToyFixture) {
    ModelConfig c = ModelConfig::from_file(testing::toy_harmony_dir() / "config.json");
    EXPECT_EQ(c.hidden_size, 128);
    EXPECT_EQ(c.vocab_size, 201088);
    EXPECT_EQ(c.bos_token_id, 199998);
}

TEST(ModelConfig, AcceptsTransformersV5RopeParameters) {
    json j = gpt_oss_20b();
    j.erase("rope_scaling");
    j.erase("rope_theta");
    j["rope_parameters"] = {{"rope_type", "yarn"}, {"factor", 32.0},
                            {"beta_fast", 32.0},   {"beta_slow", 1.0},
                            {"truncate", false},   {"original_max_position_embeddings", 4096},
                            {"rope_theta", 150000}};
    ModelConfig c = parse(j);
    EXPECT_DOUBLE_EQ(c.rope_theta, 150000.0);
    EXPECT_EQ(c.rope_scaling.rope_type, "yarn");
    EXPECT_FALSE(c.rope_scaling.truncate);
}

TEST(ModelConfig, DefaultsLayerTypesToAlternatingSlidingFirst) {
    json j = gpt_oss_20b();
    j.erase("layer_types");
    ModelConfig c = parse(j);
    ASSERT_EQ(c.layer_types.size(), 24u);
    EXPECT_TRUE(c.is_sliding(0));
    EXPECT_FALSE(c.is_sliding(23));
}

TEST(ModelConfig, EosMayBeAList) {
    json j = gpt_oss_20b();
    j["eos_token_id"] = {200002, 199999, 200012};
    EXPECT_EQ(parse(j).eos_token_ids, (std::vector<int>{200002, 199999, 200012}));
}

// Each malformed config must fail with a message that names the problem.
struct BadConfig {
    const char* name;
    std::function<void(json&)> edit;
    const char* expected_fragment;
};

void PrintTo(const BadConfig& c, std::ostream* os) {
    *os << c.name;
}

class MalformedConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(MalformedConfig, FailsWithAPreciseMessage) {
    json j = gpt_oss_20b();
    GetParam().edit(j);
    try {
        parse(j);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(GetParam().expected_fragment), std::string::npos)
            << "message: " << e.what();
        EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << "message: " << e.what();
    }
}

const BadConfig kBadConfigs[] = {
    {"unknown_model_type", [](json& j) { j["model_type"] = "llama"; }, "model_type is \"llama\""},
    {"missing_model_type", [](json& j) { j.erase("model_type"); }, "missing required field 'model_type'"},
    {"missing_hidden_size", [](json& j) { j.erase("hidden_size"); }, "missing required field 'hidden_size'"},
    {"missing_vocab_size", [](json& j) { j.erase("vocab_size"); }, "missing required field 'vocab_size'"},
    {"missing_experts", [](json& j) { j.erase("num_local_experts"); },
     "missing required field 'num_local_experts'"},
    {"heads_do_not_divide", [](json& j) { j["num_key_value_heads"] = 7; },
     "num_attention_heads (64) is not a multiple of num_key_value_heads (7)"},
    {"hidden_size_is_a_string", [](json& j) { j["hidden_size"] = "2880"; },
     "field 'hidden_size' must be an integer, got a string"},
    {"negative_layers", [](json& j) { j["num_hidden_layers"] = -1; }, "num_hidden_layers must be positive"},
    {"layer_types_length", [](json& j) { j["layer_types"].erase(0); },
     "layer_types has 23 entries but num_hidden_layers is 24"},
    {"layer_types_unknown", [](json& j) { j["layer_types"][3] = "chunked_attention"; },
     "entry 3 is \"chunked_attention\""},
    {"topk_above_experts",
     [](json& j) {
         j["num_experts_per_tok"] = 64;
         j["experts_per_token"] = 64;
     },
     "num_experts_per_tok (64) exceeds num_local_experts (32)"},
    {"aliases_disagree", [](json& j) { j["experts_per_token"] = 2; }, "disagree"},
    {"hidden_not_multiple_of_32", [](json& j) { j["hidden_size"] = 2881; },
     "hidden_size (2881) must be a multiple of 32"},
    {"odd_head_dim", [](json& j) { j["head_dim"] = 63; }, "head_dim (63) must be even"},
    {"unsupported_rope", [](json& j) { j["rope_scaling"]["rope_type"] = "dynamic"; },
     "'dynamic' is not supported"},
    {"rope_scaling_not_object", [](json& j) { j["rope_scaling"] = 32; },
     "field 'rope_scaling' must be an object"},
    {"bad_quantization", [](json& j) { j["quantization_config"]["quant_method"] = "gptq"; },
     "only \"mxfp4\""},
    {"eos_outside_vocab", [](json& j) { j["eos_token_id"] = 300000; },
     "eos_token_id 300000 is outside the vocabulary"},
    {"bad_eps", [](json& j) { j["rms_norm_eps"] = 0; }, "rms_norm_eps must be positive"},
    {"zero_window", [](json& j) { j["sliding_window"] = 0; }, "sliding_window must be positive"},
    {"attention_bias_not_bool", [](json& j) { j["attention_bias"] = "yes"; },
     "field 'attention_bias' must be true or false"},
};

INSTANTIATE_TEST_SUITE_P(Configs, MalformedConfig, ::testing::ValuesIn(kBadConfigs),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ModelConfig, RejectsNonJsonText) {
    EXPECT_THROW(ModelConfig::from_json_text("{\"hidden_size\": 12,", "config.json"), ConfigError);
    EXPECT_THROW(ModelConfig::from_json_text("[1, 2]", "config.json"), ConfigError);
    EXPECT_THROW(ModelConfig::from_json_text("", "config.json"), ConfigError);
}

TEST(ModelConfig, MissingFileIsAClearError) {
    try {
        ModelConfig::from_file("/nonexistent/model");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/model"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
    }
}

}  // namespace
}  // namespace gptoss
