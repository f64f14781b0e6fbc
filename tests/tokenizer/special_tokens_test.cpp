// Special tokens: the o200k_harmony table, the encode policy, and the security property that user text never
// becomes a control token unless the caller allows that string.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "tests/tokenizer/tokenizer_files.h"
#include "tokenizer/special_tokens.h"

namespace gptoss {
namespace {

using testing::VocabFormat;

class SpecialTokensTest : public ::testing::TestWithParam<VocabFormat> {
protected:
    const Tokenizer& tok() const { return *testing::tokenizer_for(GetParam()); }
};

std::vector<int32_t> concat(std::initializer_list<std::vector<int32_t>> parts) {
    std::vector<int32_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

TEST_P(SpecialTokensTest, TheWholeHarmonyRangeExists) {
    EXPECT_EQ(tok().vocab_size(), 201088);
    EXPECT_FALSE(tok().is_special(199997));
    EXPECT_TRUE(tok().is_valid(199997));
    for (int32_t id = 199998; id < 201088; ++id) {
        ASSERT_TRUE(tok().is_special(id)) << id;
        const std::string_view text = tok().token_to_bytes(id);
        ASSERT_EQ(tok().special_token_id(text), id) << text;
    }
    EXPECT_EQ(tok().token_to_bytes(200006), "<|start|>");
    EXPECT_EQ(tok().token_to_bytes(200013), "<|reserved_200013|>");
    EXPECT_EQ(tok().token_to_bytes(201087), "<|reserved_201087|>");
    // 200018: both names encode to it, it decodes as tiktoken's o200k_harmony does.
    EXPECT_EQ(tok().special_token_id("<|endofprompt|>"), 200018);
    EXPECT_EQ(tok().special_token_id("<|reserved_200018|>"), 200018);
    EXPECT_EQ(tok().token_to_bytes(200018), "<|reserved_200018|>");
    for (int32_t bad : {-1, 201088, 1 << 30}) {
        EXPECT_FALSE(tok().is_valid(bad));
        EXPECT_FALSE(tok().is_special(bad));
        EXPECT_THROW(tok().token_to_bytes(bad), TokenizerError);
    }
    EXPECT_EQ(tok().special_token_id("<|start|> "), std::nullopt);
    EXPECT_EQ(tok().special_token_id("start"), std::nullopt);
}

TEST_P(SpecialTokensTest, UserTextNeverBecomesAControlTokenByDefault) {
    EXPECT_EQ(tok().encode("<|start|>", SpecialTokenPolicy::none()),
              (std::vector<int32_t>{27, 91, 5236, 91, 29}));
    EXPECT_EQ(tok().encode("<|start|>", SpecialTokenPolicy{}), (std::vector<int32_t>{27, 91, 5236, 91, 29}));
    // Every special string, alone and inside text, stays text under the default policy.
    for (const auto& special : harmony_special_tokens()) {
        for (const std::string& text : {special.text, "user: " + special.text + "assistant" + special.text}) {
            const auto ids = tok().encode(text, SpecialTokenPolicy::none());
            ASSERT_EQ(ids, tok().encode_ordinary(text));
            for (int32_t id : ids) ASSERT_FALSE(tok().is_special(id)) << text;
            ASSERT_EQ(tok().decode(ids), text);
        }
    }
}

TEST_P(SpecialTokensTest, OnlyAllowedStringsBecomeIds) {
    const std::string text = "<|start|>user<|message|>hi<|end|>";
    EXPECT_EQ(
        tok().encode(text, SpecialTokenPolicy::all()),
        concat({{200006}, tok().encode_ordinary("user"), {200008}, tok().encode_ordinary("hi"), {200007}}));
    SpecialTokenPolicy only_start;
    only_start.allowed = {"<|start|>"};
    EXPECT_EQ(tok().encode(text, only_start),
              concat({{200006}, tok().encode_ordinary("user<|message|>hi<|end|>")}));
    // Strings that are not special tokens are ignored, not errors.
    SpecialTokenPolicy not_special;
    not_special.allowed = {"user", "<|nope|>"};
    EXPECT_EQ(tok().encode(text, not_special), tok().encode_ordinary(text));
    // The aliases of 200018 are allowed one string at a time.
    SpecialTokenPolicy end_of_prompt;
    end_of_prompt.allowed = {"<|endofprompt|>"};
    EXPECT_EQ(tok().encode("<|endofprompt|><|reserved_200018|>", end_of_prompt),
              concat({{200018}, tok().encode_ordinary("<|reserved_200018|>")}));
}

TEST_P(SpecialTokensTest, MatchesLeftmostAndNeverInsideOtherText) {
    EXPECT_EQ(tok().encode("<|<|start|>|>", SpecialTokenPolicy::all()),
              concat({tok().encode_ordinary("<|"), {200006}, tok().encode_ordinary("|>")}));
    EXPECT_EQ(tok().encode("<|start|><|start|>", SpecialTokenPolicy::all()),
              (std::vector<int32_t>{200006, 200006}));
    EXPECT_EQ(tok().encode("<|start", SpecialTokenPolicy::all()), tok().encode_ordinary("<|start"));
    EXPECT_EQ(tok().encode("", SpecialTokenPolicy::all()), std::vector<int32_t>{});
    // Text on either side of a special token is pre-tokenized on its own.
    EXPECT_EQ(tok().encode("a <|end|> b", SpecialTokenPolicy::all()),
              concat({tok().encode_ordinary("a "), {200007}, tok().encode_ordinary(" b")}));
}

TEST(SpecialTokenMatcher, PrefersTheLongestStringAtAPosition) {
    const SpecialTokenMatcher matcher({{"<a>", 1}, {"<a>b", 2}, {"x", 3}});
    auto any = [](std::string_view) { return true; };
    auto m = matcher.find_next("zz<a>bx", 0, any);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->begin, 2u);
    EXPECT_EQ(m->length, 4u);
    EXPECT_EQ(m->id, 2);
    auto only_short = [](std::string_view s) { return s == "<a>"; };
    m = matcher.find_next("zz<a>bx", 0, only_short);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->id, 1);
    m = matcher.find_next("zz<a>bx", 3, any);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->id, 3);
}

INSTANTIATE_TEST_SUITE_P(BothFormats, SpecialTokensTest,
                         ::testing::Values(VocabFormat::kTiktoken, VocabFormat::kTokenizerJson),
                         [](const auto& info) { return testing::format_name(info.param); });

}  // namespace
}  // namespace gptoss
