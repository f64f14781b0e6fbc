#include "config/generation_config.h"

#include <gtest/gtest.h>

#include "config/model_config.h"
#include "tests/support/fixture.h"

namespace gptoss {
namespace {

TEST(GenerationConfig, ReadsTheToyCheckpoint) {
    GenerationConfig g = GenerationConfig::from_model_dir(testing::toy_harmony_dir());
    EXPECT_EQ(g.eos_token_ids, (std::vector<int>{200002, 199999, 200012}));
    EXPECT_EQ(g.bos_token_id, 199998);
    EXPECT_EQ(g.pad_token_id, 199999);
    EXPECT_EQ(g.do_sample, true);
    EXPECT_EQ(g.temperature, 1.0);
    EXPECT_EQ(g.top_p, 1.0);
}

TEST(GenerationConfig, MissingFileIsEmpty) {
    GenerationConfig g = GenerationConfig::from_model_dir(testing::tiny_gptoss_dir());
    EXPECT_TRUE(g.eos_token_ids.empty());
    EXPECT_FALSE(g.temperature.has_value());
}

TEST(GenerationConfig, RejectsBadValues) {
    EXPECT_THROW(GenerationConfig::from_json_text(R"({"top_p": 0})"), ConfigError);
    EXPECT_THROW(GenerationConfig::from_json_text(R"({"temperature": "hot"})"), ConfigError);
    EXPECT_THROW(GenerationConfig::from_json_text(R"({"eos_token_id": [1, "x"]})"), ConfigError);
    EXPECT_EQ(GenerationConfig::from_json_text(R"({"eos_token_id": 7})").eos_token_ids, std::vector<int>{7});
}

}  // namespace
}  // namespace gptoss
