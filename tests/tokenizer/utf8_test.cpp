// UTF-8 validation and lossy decoding (maximal-subpart replacement, as Rust's from_utf8_lossy).
#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

namespace gptoss::utf8 {
namespace {

const std::string kFFFD = std::string(kReplacementCharacter);

std::string lossy(std::string_view bytes) {
    std::string out;
    append_lossy(bytes, out);
    return out;
}

TEST(Utf8, ClassifiesWellFormedSequencesPerUnicodeTable3_7) {
    EXPECT_EQ(classify_sequence("A").kind, SequenceKind::kValid);
    EXPECT_EQ(classify_sequence("\xC3\xA9").length, 2u);
    EXPECT_EQ(classify_sequence("\xE2\x82\xAC").length, 3u);
    EXPECT_EQ(classify_sequence("\xF0\x9F\x98\x8A").length, 4u);
    EXPECT_EQ(classify_sequence("\xF4\x8F\xBF\xBF").kind, SequenceKind::kValid);  // U+10FFFF
    // Overlong forms, surrogates, values above U+10FFFF and stray continuation bytes are invalid.
    for (std::string_view bad : {"\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80", "\xF0\x80\x80\x80",
                                 "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\x80", "\xBF"}) {
        EXPECT_EQ(classify_sequence(bad).kind, SequenceKind::kInvalid) << testing::PrintToString(bad);
        EXPECT_FALSE(is_valid(bad));
    }
    EXPECT_EQ(classify_sequence("\xF0\x9F\x98").kind, SequenceKind::kIncomplete);
    EXPECT_EQ(classify_sequence("\xF0\x9F\x98").length, 3u);
    EXPECT_EQ(classify_sequence("\xF0\x9F\x41").kind, SequenceKind::kInvalid);
    EXPECT_EQ(classify_sequence("\xF0\x9F\x41").length, 2u);  // the maximal subpart F0 9F
}

TEST(Utf8, ValidPrefixStopsAtTheFirstBadByte) {
    EXPECT_EQ(valid_prefix_length("hello, world and more ascii"), 27u);
    EXPECT_EQ(valid_prefix_length("abcdefghij\xFFxyz"), 10u);
    EXPECT_EQ(valid_prefix_length("ab\xC3"), 2u);
    EXPECT_EQ(valid_prefix_length("\xE4\xB8\xAD\xE6\x96\x87"), 6u);
    EXPECT_EQ(valid_prefix_length(std::string_view("a\0b", 3)), 3u);
}

TEST(Utf8, LossyDecodingReplacesEachMaximalSubpartOnce) {
    EXPECT_EQ(lossy("ok"), "ok");
    EXPECT_EQ(lossy(" \xF0\x9F"), " " + kFFFD);                  // incomplete at the end: one U+FFFD
    EXPECT_EQ(lossy("\xF0\x9F \xF0\x9F"), kFFFD + " " + kFFFD);  // harmony parse/20's bytes
    EXPECT_EQ(lossy("\xE0\x80\x80"), kFFFD + kFFFD + kFFFD);     // E0 cannot be followed by 80
    EXPECT_EQ(lossy("\xF1\x80\x80\x41"), kFFFD + "A");
    EXPECT_EQ(lossy("\xED\xA0\x80"), kFFFD + kFFFD + kFFFD);  // a surrogate
    EXPECT_EQ(lossy("\xFF\xFE"), kFFFD + kFFFD);
}

TEST(Utf8, AppendCompleteHoldsOnlyAnIncompleteTail) {
    std::string out;
    EXPECT_EQ(append_complete("ab\xF0\x9F\x98", out), 2u);
    EXPECT_EQ(out, "ab");
    out.clear();
    EXPECT_EQ(append_complete("\xF0\x9F\x41", out), 3u);  // known to be invalid: replaced, not held
    EXPECT_EQ(out, kFFFD + "A");
    out.clear();
    EXPECT_EQ(append_complete("\xC3", out), 0u);
    EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace gptoss::utf8
