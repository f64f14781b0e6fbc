// encode_ordinary_parallel gives exactly encode_ordinary's ids, whatever the chunk boundaries cut through.
#include <gtest/gtest.h>

#include <random>

#include "tests/support/fixture.h"
#include "tests/tokenizer/tokenizer_files.h"

namespace gptoss {
namespace {

const Tokenizer& tok() {
    return *testing::tokenizer_for(testing::VocabFormat::kTiktoken);
}

void expect_same_ids(const std::string& text) {
    const auto expected = tok().encode_ordinary(text);
    for (int threads : {2, 3, 4, 7}) {
        ASSERT_EQ(tok().encode_ordinary_parallel(text, threads), expected) << threads << " threads";
    }
}

TEST(ParallelEncode, MixedTextFromThePeerVectors) {
    const auto lines =
        testing::read_jsonl(testing::shared_dir() / "peer" / "tokenizer" / "o200k_vectors.jsonl");
    std::mt19937 rng(3);
    std::string text;
    while (text.size() < 600 * 1024) text += lines[rng() % lines.size()].at("text").get<std::string>();
    expect_same_ids(text);
}

TEST(ParallelEncode, PiecesThatSpanChunkBoundaries) {
    // One huge piece over every boundary: the workers' guesses are wrong until the text changes.
    expect_same_ids(std::string(260 * 1024, 'a'));
    expect_same_ids(std::string(130 * 1024, ' ') + "x" + std::string(130 * 1024, ' '));
    std::string digits;
    for (int i = 0; digits.size() < 260 * 1024; ++i) digits += std::to_string(i * 7919 % 1000);
    expect_same_ids(digits);  // groups of three digits shift with every cut
    std::string cjk;
    while (cjk.size() < 260 * 1024) cjk += "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C\xE3\x80\x82\n\n";
    expect_same_ids(cjk);
    std::string newlines;
    while (newlines.size() < 260 * 1024) newlines += "end.\n/ \r\n\r\n   \t\nx";
    expect_same_ids(newlines);
}

TEST(ParallelEncode, ShortOrInvalidTextTakesTheSequentialPath) {
    expect_same_ids("hello world");
    std::string text(260 * 1024, 'b');
    text[1000] = '\xFF';
    expect_same_ids(text);
    EXPECT_EQ(tok().encode_ordinary_parallel("", 4), std::vector<int32_t>{});
}

}  // namespace
}  // namespace gptoss
