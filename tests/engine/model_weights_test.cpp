// ModelWeights::load: the fixture loads with every tensor typed and shaped from its config; sharded
// checkpoints load through the index whatever the shard names; every kind of bad checkpoint is a WeightsError
// naming the tensor and the file.
#include "engine/weights/model_weights.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "engine/weights/safetensors.h"
#include "engine/weights/safetensors_writer.h"
#include "tests/support/fixture.h"

namespace gptoss {
namespace {

namespace fs = std::filesystem;

ModelConfig tiny_config() {
    return ModelConfig::from_file(testing::tiny_gptoss_dir());
}

// A tensor of the tiny fixture, as the test is about to rewrite it.
struct Tensor {
    SafetensorsTensorSpec spec;
    const void* data;
};

// Rewrites the tiny fixture into `dir` after `edit` changed its tensor list; `shards` > 1 splits it with an
// index whose file names follow the release's 0-based "-of-{count - 1}" quirk.
void write_checkpoint(const fs::path& dir, const std::function<void(std::vector<Tensor>&)>& edit,
                      int shards = 1) {
    auto source = SafetensorsArchive::open(testing::tiny_gptoss_dir() / "model.safetensors");
    std::vector<Tensor> tensors;
    for (const auto& e : source->entries()) {
        tensors.push_back({{e.name, e.dtype, e.shape}, source->data_begin() + e.begin});
    }
    edit(tensors);
    fs::copy_file(testing::tiny_gptoss_dir() / "config.json", dir / "config.json");
    if (shards == 1) {
        std::vector<SafetensorsTensor> all;
        for (const auto& t : tensors) all.push_back({t.spec, t.data});
        write_safetensors(dir / "model.safetensors", all);
        return;
    }
    nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
    for (int s = 0; s < shards; ++s) {
        const std::string name =
            "model-0000" + std::to_string(s) + "-of-0000" + std::to_string(shards - 1) + ".safetensors";
        std::vector<SafetensorsTensor> part;
        for (size_t i = s; i < tensors.size(); i += shards) {
            part.push_back({tensors[i].spec, tensors[i].data});
            index["weight_map"][tensors[i].spec.name] = name;
        }
        write_safetensors(dir / name, part);
    }
    std::ofstream(dir / "model.safetensors.index.json") << index.dump(2);
}

std::string load_error(const fs::path& dir) {
    try {
        ModelWeights::load(dir, tiny_config());
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "";
}

TEST(ModelWeights, LoadsTheFixtureWithConfigShapes) {
    const ModelConfig config = tiny_config();
    auto w = ModelWeights::load(testing::tiny_gptoss_dir(), config);
    ASSERT_EQ(w->layers.size(), 4u);
    EXPECT_EQ(w->embed_tokens.shape, (std::vector<int64_t>{1024, 256}));
    EXPECT_EQ(w->lm_head.shape, (std::vector<int64_t>{1024, 256}));
    EXPECT_NE(w->lm_head.data, w->embed_tokens.data);
    const LayerWeights& l = w->layers[3];
    EXPECT_EQ(l.q_proj_weight.shape, (std::vector<int64_t>{512, 256}));
    EXPECT_EQ(l.k_proj_bias.shape, (std::vector<int64_t>{128}));
    EXPECT_EQ(l.sinks.shape, (std::vector<int64_t>{8}));
    EXPECT_EQ(l.gate_up_blocks.shape, (std::vector<int64_t>{8, 512, 8, 16}));
    EXPECT_EQ(l.gate_up_blocks.dtype, DType::kU8);
    EXPECT_EQ(l.down_scales.shape, (std::vector<int64_t>{8, 256, 8}));
    EXPECT_EQ(l.down_bias.dtype, DType::kBF16);
    EXPECT_EQ(l.gate_up_blocks.nbytes, size_t(8) * 512 * 8 * 16);
    EXPECT_EQ(w->total_bytes(), fs::file_size(testing::tiny_gptoss_dir() / "model.safetensors"));
}

TEST(ModelWeights, CheckpointBytesFromTheConfigAlone) {
    // The fixture: every tensor the loader maps, summed.
    const ModelConfig tiny = tiny_config();
    auto w = ModelWeights::load(testing::tiny_gptoss_dir(), tiny);
    uint64_t mapped = w->embed_tokens.nbytes + w->norm.nbytes + w->lm_head.nbytes;
    for (const LayerWeights& l : w->layers) {
        for (const TensorView* t :
             {&l.input_layernorm, &l.q_proj_weight, &l.q_proj_bias, &l.k_proj_weight, &l.k_proj_bias,
              &l.v_proj_weight, &l.v_proj_bias, &l.o_proj_weight, &l.o_proj_bias, &l.sinks,
              &l.post_attention_layernorm, &l.router_weight, &l.router_bias, &l.gate_up_blocks,
              &l.gate_up_scales, &l.gate_up_bias, &l.down_blocks, &l.down_scales, &l.down_bias}) {
            mapped += t->nbytes;
        }
    }
    EXPECT_EQ(checkpoint_tensor_bytes(tiny), mapped);
    // The releases (gpt-oss-model.md section 2.1 for the 20b; the 120b's hub listing, 60.77 GiB).
    ModelConfig release = tiny;
    release.hidden_size = release.intermediate_size = 2880;
    release.num_attention_heads = 64;
    release.num_key_value_heads = 8;
    release.head_dim = 64;
    release.num_experts_per_tok = 4;
    release.vocab_size = 201088;
    release.num_hidden_layers = 24;
    release.num_local_experts = 32;
    EXPECT_EQ(checkpoint_tensor_bytes(release), 13'761'264'768u);
    release.num_hidden_layers = 36;
    release.num_local_experts = 128;
    EXPECT_EQ(checkpoint_tensor_bytes(release), 65'248'815'744u);
}

TEST(ModelWeights, ShardedThroughTheIndexWithTheReleaseNaming) {
    gptoss::testing::TempDir dir("gptoss-mw");
    write_checkpoint(
        dir.path(), [](auto&) {}, 3);
    auto sharded = ModelWeights::load(dir.path(), tiny_config());
    auto single = ModelWeights::load(testing::tiny_gptoss_dir(), tiny_config());
    ASSERT_EQ(sharded->layers.size(), single->layers.size());
    const TensorView& a = sharded->layers[2].down_blocks;
    const TensorView& b = single->layers[2].down_blocks;
    ASSERT_EQ(a.nbytes, b.nbytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0);
    EXPECT_EQ(std::memcmp(sharded->lm_head.data, single->lm_head.data, single->lm_head.nbytes), 0);
}

TEST(ModelWeights, MissingTensor) {
    gptoss::testing::TempDir dir("gptoss-mw");
    write_checkpoint(dir.path(), [](auto& t) {
        std::erase_if(t, [](const Tensor& x) { return x.spec.name == "model.layers.1.self_attn.sinks"; });
    });
    std::string message = load_error(dir.path());
    EXPECT_NE(message.find("model.layers.1.self_attn.sinks"), std::string::npos) << message;
    EXPECT_NE(message.find("missing"), std::string::npos) << message;
    EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
}

TEST(ModelWeights, WrongDtype) {
    gptoss::testing::TempDir dir("gptoss-mw");
    write_checkpoint(dir.path(), [](auto& t) {
        for (auto& x : t) {
            if (x.spec.name == "model.norm.weight") x.spec.dtype = DType::kF16;  // same size, wrong type
        }
    });
    std::string message = load_error(dir.path());
    EXPECT_NE(message.find("model.norm.weight"), std::string::npos) << message;
    EXPECT_NE(message.find("F16"), std::string::npos) << message;
    EXPECT_NE(message.find("BF16"), std::string::npos) << message;
}

TEST(ModelWeights, WrongShape) {
    gptoss::testing::TempDir dir("gptoss-mw");
    write_checkpoint(dir.path(), [](auto& t) {
        for (auto& x : t) {
            if (x.spec.name == "model.layers.0.mlp.experts.down_proj_scales") x.spec.shape = {8, 8, 256};
        }
    });
    std::string message = load_error(dir.path());
    EXPECT_NE(message.find("down_proj_scales"), std::string::npos) << message;
    EXPECT_NE(message.find("[8, 8, 256]"), std::string::npos) << message;
    EXPECT_NE(message.find("[8, 256, 8]"), std::string::npos) << message;
}

TEST(ModelWeights, TruncatedShard) {
    gptoss::testing::TempDir dir("gptoss-mw");
    write_checkpoint(
        dir.path(), [](auto&) {}, 2);
    const fs::path shard = dir.path() / "model-00001-of-00001.safetensors";
    fs::resize_file(shard, fs::file_size(shard) / 2);
    std::string message = load_error(dir.path());
    EXPECT_NE(message.find("model-00001-of-00001.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("truncated"), std::string::npos) << message;
}

TEST(ModelWeights, IndexProblems) {
    gptoss::testing::TempDir dir("gptoss-mw");
    write_checkpoint(
        dir.path(), [](auto&) {}, 2);
    const fs::path index = dir.path() / "model.safetensors.index.json";
    auto doc = nlohmann::json::parse(std::ifstream(index));

    const std::string home = doc["weight_map"]["lm_head.weight"];
    doc["weight_map"]["lm_head.weight"] = "model-00009-of-00001.safetensors";  // a shard that does not exist
    std::ofstream(index) << doc.dump();
    EXPECT_NE(load_error(dir.path()).find("model-00009-of-00001.safetensors"), std::string::npos);

    doc["weight_map"]["lm_head.weight"] =  // the other shard, which does not hold it
        home == "model-00000-of-00001.safetensors" ? "model-00001-of-00001.safetensors"
                                                   : "model-00000-of-00001.safetensors";
    std::ofstream(index) << doc.dump();
    std::string message = load_error(dir.path());
    EXPECT_NE(message.find("lm_head.weight"), std::string::npos) << message;

    doc["weight_map"]["lm_head.weight"] = "../elsewhere.safetensors";
    std::ofstream(index) << doc.dump();
    EXPECT_NE(load_error(dir.path()).find("not inside"), std::string::npos);

    std::ofstream(index) << "{not json";
    EXPECT_NE(load_error(dir.path()).find("model.safetensors.index.json"), std::string::npos);
}

TEST(ModelWeights, NoWeightsInFolder) {
    gptoss::testing::TempDir dir("gptoss-mw");
    std::string message = load_error(dir.path());
    EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
}

}  // namespace
}  // namespace gptoss
