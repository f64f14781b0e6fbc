// StreamDecoder: only complete UTF-8 leaves it, no character is split across chunks, invalid sequences become
// U+FFFD (the harmony parser's rules), and the chunks add up to decode().
#include <gtest/gtest.h>

#include <random>

#include "tests/support/fixture.h"
#include "tests/tokenizer/tokenizer_files.h"
#include "tokenizer/utf8.h"

namespace gptoss {
namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

std::shared_ptr<const Tokenizer> tokenizer() {
    return testing::tokenizer_for(testing::VocabFormat::kTiktoken);
}

TEST(StreamDecoder, HoldsACharacterSplitAcrossTokens) {
    StreamDecoder d(tokenizer());
    EXPECT_EQ(d.push(31446), "");  // first half of U+1F496 (harmony parse/22)
    EXPECT_EQ(d.push(244), "\xF0\x9F\x92\x96");
    EXPECT_EQ(d.flush(), "");
}

TEST(StreamDecoder, ReplacesInvalidSequencesLikeTheHarmonyParser) {
    StreamDecoder d(tokenizer());
    // Token 9552 is " \xF0\x9F": a space and the start of a 4-byte character (harmony parse/20, parse/24).
    EXPECT_EQ(d.push(9552), " ");
    EXPECT_EQ(d.push(9552), kFFFD + " ");
    EXPECT_EQ(d.push(135596), kFFFD + "worked");
    EXPECT_EQ(d.flush(), "");

    StreamDecoder eos(tokenizer());
    EXPECT_EQ(eos.push(9552), " ");
    EXPECT_EQ(eos.flush(), kFFFD);     // flushed lossily at the end (parse/21)
    EXPECT_EQ(eos.push(12194), "Hi");  // nothing leaks into what follows
}

TEST(StreamDecoder, InvalidIdsBecomeReplacementCharacters) {
    StreamDecoder d(tokenizer());
    EXPECT_EQ(d.push(9552), " ");
    EXPECT_EQ(d.push(-5), kFFFD + kFFFD);  // the pending bytes, then the bad id
    EXPECT_EQ(d.push(201088), kFFFD);
}

TEST(StreamDecoder, SpecialTokensAreSkippedOrSpelledOut) {
    StreamDecoder skip(tokenizer());
    EXPECT_EQ(skip.push(31446), "");
    EXPECT_EQ(skip.push(200006), "");  // invisible: the character can still complete
    EXPECT_EQ(skip.push(244), "\xF0\x9F\x92\x96");

    StreamDecoder keep(tokenizer(), /*skip_special=*/false);
    EXPECT_EQ(keep.push(200006), "<|start|>");
    EXPECT_EQ(keep.push(31446), "");
    EXPECT_EQ(keep.push(200007), kFFFD + "<|end|>");
}

TEST(StreamDecoder, HarmonyTrickyTextStreamsBackExactly) {
    const auto c =
        testing::read_json(testing::shared_dir() / "peer" / "harmony" / "parse" / "28_utf8_tricky_text.json");
    const auto tokens = c.at("tokens").get<std::vector<int32_t>>();
    StreamDecoder d(tokenizer());
    std::string text;
    for (size_t i = 3; i + 1 < tokens.size(); ++i) text += d.push(tokens[i]);  // the message body
    text += d.flush();
    EXPECT_EQ(text, c.at("expected").at("concatenated_deltas").get<std::string>());
}

TEST(StreamDecoder, ChunksAreValidAndAddUpToDecode) {
    const auto tok = tokenizer();
    std::mt19937 rng(11);
    for (int round = 0; round < 300; ++round) {
        std::vector<int32_t> ids;
        for (int i = 0; i < 40; ++i) {
            // Mostly ordinary ids (many hold partial characters), some specials.
            ids.push_back(rng() % 8 == 0 ? 199998 + static_cast<int32_t>(rng() % 1090)
                                         : static_cast<int32_t>(rng() % 199998));
        }
        for (bool skip : {true, false}) {
            StreamDecoder d(tok, skip);
            std::string streamed;
            for (int32_t id : ids) {
                const std::string chunk = d.push(id);
                ASSERT_TRUE(utf8::is_valid(chunk));
                streamed += chunk;
            }
            streamed += d.flush();
            std::vector<int32_t> visible;
            for (int32_t id : ids) {
                if (!skip || !tok->is_special(id)) visible.push_back(id);
            }
            ASSERT_EQ(streamed, tok->decode(visible));
        }
    }
}

}  // namespace
}  // namespace gptoss
