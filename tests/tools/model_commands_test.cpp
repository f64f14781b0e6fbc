// gptoss score, generate and make-checkpoint, run as a user runs them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/weights/model_weights.h"
#include "engine/weights/safetensors.h"
#include "tests/support/fixture.h"

namespace gptoss {
namespace {

namespace fs = std::filesystem;

// Runs `gptoss <args>`; returns stdout (stderr merged when asked), and the exit code.
std::string gptoss(const std::string& args, int* code, bool with_stderr = false) {
    return testing::run_command(testing::gptoss_executable().string() + " " + args + " --threads 1" +
                                    (with_stderr ? " 2>&1" : " 2>/dev/null"),
                                "", code);
}

std::string join(const std::vector<int32_t>& ids) {
    std::string s;
    for (int32_t id : ids) {
        if (!s.empty()) s.push_back(',');
        s.append(std::to_string(id));
    }
    return s;
}

std::vector<float> read_f32(const SafetensorsArchive& a, const std::string& name,
                            std::vector<int64_t>* shape) {
    const SafetensorsEntry* e = a.find(name);
    if (!e) return {};
    *shape = e->shape;
    const float* p = reinterpret_cast<const float*>(a.data_begin() + e->begin);
    return std::vector<float>(p, p + (e->end - e->begin) / 4);
}

TEST(ScoreCommand, WritesLogitsMatchingTheGolden) {
    gptoss::testing::TempDir dir("gptoss-cli");
    auto golden = SafetensorsArchive::open(testing::tiny_gptoss_dir() / "golden.safetensors");
    const SafetensorsEntry* ids_entry = golden->find("p_short.input_ids");
    ASSERT_NE(ids_entry, nullptr);
    const int32_t* p = reinterpret_cast<const int32_t*>(golden->data_begin() + ids_entry->begin);
    const std::vector<int32_t> ids(p, p + ids_entry->shape[0]);
    int code = -1;
    const fs::path out = dir.path() / "logits.safetensors";
    gptoss("score --backend cpu --model " + testing::tiny_gptoss_dir().string() + " --ids " + join(ids) +
               " --out " + out.string(),
           &code);
    ASSERT_EQ(code, 0);
    auto written = SafetensorsArchive::open(out);
    std::vector<int64_t> shape, golden_shape;
    const auto logits = read_f32(*written, "logits", &shape);
    const auto expected = read_f32(*golden, "p_short.logits_f32", &golden_shape);
    ASSERT_EQ(shape, (std::vector<int64_t>{static_cast<int64_t>(ids.size()), 1024}));
    ASSERT_EQ(written->find("logits")->dtype, DType::kF32);
    double diff = 0, ref = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
        diff += (logits[i] - expected[i]) * double(logits[i] - expected[i]);
        ref += double(expected[i]) * expected[i];
    }
    EXPECT_LE(std::sqrt(diff / ref), 1e-4);
}

// The AVX-512 and AVX2 kernel builds give identical bits; the portable build agrees to rounding. (The build
// is picked once per process, so each runs in its own `gptoss score`.)
TEST(ScoreCommand, KernelBuildsAgree) {
    gptoss::testing::TempDir dir("gptoss-cli");
    std::vector<int32_t> ids;
    for (int i = 0; i < 40; ++i) ids.push_back((i * 37 + 5) % 1000);
    std::map<std::string, std::vector<float>> logits;
    for (const std::string build : {"", "avx2", "generic"}) {
        const fs::path out = dir.path() / ("logits" + build + ".safetensors");
        int code = -1;
        testing::run_command("GPTOSS_CPU_KERNELS=" + build + " " + testing::gptoss_executable().string() +
                                 " score --threads 2 --model " + testing::tiny_gptoss_dir().string() +
                                 " --ids " + join(ids) + " --out " + out.string(),
                             "", &code);
        ASSERT_EQ(code, 0) << build;
        std::vector<int64_t> shape;
        logits[build] = read_f32(*SafetensorsArchive::open(out), "logits", &shape);
    }
    EXPECT_EQ(logits[""], logits["avx2"]);
    double diff = 0, ref = 0;
    for (size_t i = 0; i < logits[""].size(); ++i) {
        diff += (logits["generic"][i] - logits[""][i]) * double(logits["generic"][i] - logits[""][i]);
        ref += double(logits[""][i]) * logits[""][i];
    }
    EXPECT_LE(std::sqrt(diff / ref), 1e-5);
}

TEST(ScoreCommand, ClearErrors) {
    int code = 0;
    const std::string model = " --model " + testing::tiny_gptoss_dir().string();
    std::string err = gptoss("score" + model + " --ids 1,x,3 --out /tmp/x.safetensors", &code, true);
    EXPECT_EQ(code, 2);
    EXPECT_NE(err.find("--ids"), std::string::npos) << err;
    err = gptoss("score" + model + " --ids 1,5000 --out /tmp/x.safetensors", &code, true);
    EXPECT_EQ(code, 2);
    EXPECT_NE(err.find("5000"), std::string::npos) << err;
    err = gptoss("score --model /nonexistent --ids 1 --out /tmp/x.safetensors", &code, true);
    EXPECT_NE(code, 0);
    EXPECT_NE(err.find("/nonexistent"), std::string::npos) << err;
    err = gptoss("score" + model + " --ids 1", &code, true);
    EXPECT_EQ(code, 2);
    EXPECT_NE(err.find("--out"), std::string::npos) << err;
}

TEST(GenerateCommand, GreedyWithIgnoreEosReproducesTheGolden) {
    auto golden = SafetensorsArchive::open(testing::tiny_gptoss_dir() / "golden.safetensors");
    for (const std::string name : {"p_window"}) {
        const SafetensorsEntry* ids = golden->find(name + ".input_ids");
        const SafetensorsEntry* greedy = golden->find(name + ".greedy_f32");
        ASSERT_TRUE(ids && greedy);
        const int32_t* p = reinterpret_cast<const int32_t*>(golden->data_begin() + ids->begin);
        const int32_t* g = reinterpret_cast<const int32_t*>(golden->data_begin() + greedy->begin);
        const std::vector<int32_t> prompt(p, p + ids->shape[0]), expected(g, g + greedy->shape[0]);
        int code = -1;
        std::string out =
            gptoss("generate --model " + testing::tiny_gptoss_dir().string() + " --ids " + join(prompt) +
                       " --max-tokens " + std::to_string(expected.size()) + " --ignore-eos",
                   &code);
        ASSERT_EQ(code, 0);
        EXPECT_EQ(nlohmann::json::parse(out).get<std::vector<int32_t>>(), expected);
    }
}

TEST(GenerateCommand, StopsAtGenerationConfigEos) {
    const auto golden = testing::read_json(testing::toy_harmony_dir() / "golden.json");
    int checked = 0;
    for (const auto& c : golden["cases"]) {
        if (checked == 3) break;
        const auto prompt = c["prompt_ids"].get<std::vector<int32_t>>();
        const auto expected = c["greedy_ids"].get<std::vector<int32_t>>();
        int code = -1;
        std::string out = gptoss("generate --model " + testing::toy_harmony_dir().string() + " --ids " +
                                     join(prompt) + " --max-tokens " + std::to_string(expected.size() + 20),
                                 &code);
        ASSERT_EQ(code, 0);
        EXPECT_EQ(nlohmann::json::parse(out).get<std::vector<int32_t>>(), expected) << c["prompt_text"];
        ++checked;
    }
}

TEST(GenerateCommand, SeededSamplingIsReproducible) {
    const std::string args =
        "generate --model " + testing::tiny_gptoss_dir().string() +
        " --ids 1,2,3 --max-tokens 12 --ignore-eos --temperature 1.0 --top-p 0.9 --seed ";
    int code = -1;
    const std::string a = gptoss(args + "7", &code);
    ASSERT_EQ(code, 0);
    EXPECT_EQ(gptoss(args + "7", &code), a);
    EXPECT_NE(gptoss(args + "8", &code), a);
    EXPECT_EQ(nlohmann::json::parse(a).size(), 12u);
}

TEST(MakeCheckpointCommand, TinyPresetInTheReleaseLayout) {
    gptoss::testing::TempDir dir("gptoss-cli");
    int code = -1;
    const fs::path out = dir.path() / "ckpt";
    gptoss("make-checkpoint --preset tiny --layers 3 --seed 5 --shard-bytes 3MB --out " + out.string(),
           &code);
    ASSERT_EQ(code, 0);
    // Greedy 3 MB shards, named from 0 and "of" the count minus one, listed by the index.
    const auto index = testing::read_json(out / "model.safetensors.index.json");
    std::set<std::string> files;
    for (const auto& [tensor, file] : index["weight_map"].items()) files.insert(file.get<std::string>());
    EXPECT_EQ(files, (std::set<std::string>{"model-00000-of-00001.safetensors",
                                            "model-00001-of-00001.safetensors"}));
    EXPECT_EQ(index["weight_map"].size(), 3u * 19 + 3);
    const auto config = testing::read_json(out / "config.json");
    for (const char* key : {"architectures",
                            "attention_bias",
                            "attention_dropout",
                            "eos_token_id",
                            "experts_per_token",
                            "head_dim",
                            "hidden_act",
                            "hidden_size",
                            "initial_context_length",
                            "initializer_range",
                            "intermediate_size",
                            "layer_types",
                            "max_position_embeddings",
                            "model_type",
                            "num_attention_heads",
                            "num_experts_per_tok",
                            "num_hidden_layers",
                            "num_key_value_heads",
                            "num_local_experts",
                            "output_router_logits",
                            "pad_token_id",
                            "quantization_config",
                            "rms_norm_eps",
                            "rope_scaling",
                            "rope_theta",
                            "router_aux_loss_coef",
                            "sliding_window",
                            "swiglu_limit",
                            "tie_word_embeddings",
                            "transformers_version",
                            "use_cache",
                            "vocab_size"}) {
        EXPECT_TRUE(config.contains(key)) << key;
    }
    EXPECT_EQ(config["num_hidden_layers"], 3);
    EXPECT_FALSE(fs::exists(out / "generation_config.json"));  // only for the real vocabulary

    // It loads, and the scale bytes follow Appendix B: 127 + round(log2(1 / (sqrt(256) * 2.926))) +- 1.
    const ModelConfig model_config = ModelConfig::from_file(out);
    auto weights = ModelWeights::load(out, model_config);
    const TensorView& scales = weights->layers[1].gate_up_scales;
    int lowest = 255, highest = 0;
    for (size_t i = 0; i < scales.nbytes; ++i) {
        lowest = std::min<int>(lowest, scales.u8()[i]);
        highest = std::max<int>(highest, scales.u8()[i]);
    }
    EXPECT_EQ(lowest, 120);
    EXPECT_EQ(highest, 122);
    EXPECT_FLOAT_EQ(bf16_to_float(weights->layers[0].input_layernorm.bf16()[0]) > 0.5f, true);

    // The same seed writes the same bytes (one file or several); the logits are finite.
    const fs::path again = dir.path() / "again";
    gptoss("make-checkpoint --preset tiny --layers 3 --seed 5 --out " + again.string(), &code);
    ASSERT_EQ(code, 0);
    auto single = ModelWeights::load(again, ModelConfig::from_file(again));
    EXPECT_EQ(std::memcmp(single->lm_head.data, weights->lm_head.data, weights->lm_head.nbytes), 0);
    EXPECT_EQ(std::memcmp(single->layers[2].down_blocks.data, weights->layers[2].down_blocks.data,
                          weights->layers[2].down_blocks.nbytes),
              0);
    const fs::path logits = dir.path() / "logits.safetensors";
    gptoss("score --model " + again.string() + " --ids 1,2,3,4,5,6,7,8,9,10 --out " + logits.string(), &code);
    ASSERT_EQ(code, 0);
    auto archive = SafetensorsArchive::open(logits);
    std::vector<int64_t> shape;
    for (float v : read_f32(*archive, "logits", &shape)) ASSERT_TRUE(std::isfinite(v));
}

TEST(MakeCheckpointCommand, Release120bLayoutWithoutWritingIt) {
    int code = -1;
    const std::string plan = gptoss("make-checkpoint --preset gpt-oss-120b --dry-run", &code);
    ASSERT_EQ(code, 0);
    // 36 layers x 19 tensors + 3, and the byte count that reproduces the hub's 60.77 GiB.
    EXPECT_NE(plan.find("gpt-oss-120b: 687 tensors, 65248815744 bytes of tensor data in 15 file(s)\n"),
              std::string::npos)
        << plan;
    for (int i = 0; i < 15; ++i) {
        const std::string file =
            "model-000" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "-of-00014.safetensors ";
        EXPECT_NE(plan.find("\n" + file), std::string::npos) << file << " in\n" << plan;
    }
    EXPECT_EQ(plan.find("-of-00015"), std::string::npos);
}

TEST(MakeCheckpointCommand, Tiny120bHas120bStructureAndTakesWidthOverrides) {
    gptoss::testing::TempDir dir("gptoss-cli");
    int code = -1;
    const fs::path out = dir.path() / "tiny120";
    gptoss(
        "make-checkpoint --preset tiny-120b --hidden-size 96 --intermediate-size 32 --vocab-size 300 --seed "
        "3 "
        "--out " +
            out.string(),
        &code);
    ASSERT_EQ(code, 0);
    const ModelConfig config = ModelConfig::from_file(out);
    EXPECT_EQ(config.num_hidden_layers, 36);
    EXPECT_EQ(config.num_local_experts, 128);
    EXPECT_EQ(config.num_experts_per_tok, 4);
    EXPECT_EQ(config.gqa_group_size(), 8);
    EXPECT_EQ(config.hidden_size, 96);
    EXPECT_EQ(config.intermediate_size, 32);
    EXPECT_EQ(config.vocab_size, 300);
    auto weights = ModelWeights::load(out, config);
    EXPECT_EQ(weights->layers[35].gate_up_blocks.shape, (std::vector<int64_t>{128, 64, 3, 16}));
    EXPECT_EQ(weights->layers[35].down_blocks.shape, (std::vector<int64_t>{128, 96, 1, 16}));

    const std::string error =
        gptoss("make-checkpoint --preset tiny-120b --hidden-size 100 --out " + out.string(), &code, true);
    EXPECT_NE(code, 0);
    EXPECT_NE(error.find("--hidden-size must be a positive multiple of 32"), std::string::npos) << error;
}

TEST(MakeCheckpointCommand, FullVocabularyPresetHasGenerationConfig) {
    gptoss::testing::TempDir dir("gptoss-cli");
    int code = -1;
    gptoss("make-checkpoint --preset tiny-full-vocab --layers 1 --seed 1 --out " + dir.path().string(),
           &code);
    ASSERT_EQ(code, 0);
    const auto generation = testing::read_json(dir.path() / "generation_config.json");
    EXPECT_EQ(generation["eos_token_id"], nlohmann::json({200002, 199999, 200012}));
    EXPECT_EQ(testing::read_json(dir.path() / "config.json")["vocab_size"], 201088);
    std::string out =
        gptoss("generate --model " + dir.path().string() + " --ids 200006,17360 --max-tokens 3", &code);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(nlohmann::json::parse(out).size(), 3u);
}

}  // namespace
}  // namespace gptoss
