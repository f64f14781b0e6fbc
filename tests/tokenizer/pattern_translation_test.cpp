// The Rust-regex -> PCRE2 translation, and that the compiled classes mean what Rust's mean: every code point
// is checked against Unicode White_Space for \s, \S, [\s], [^\s] and [\S].
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/regex_translation.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace gptoss {
namespace {

bool is_white_space(uint32_t cp) {  // Unicode PropList.txt White_Space
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

std::string utf8_of(uint32_t cp) {
    std::string out;
    utf8::append_code_point(cp, out);
    return out;
}

// Whether a one-character pattern matches the character: text that matches nothing becomes one gap piece, so
// two copies give two pieces only when each is a match.
bool matches(const Pretokenizer& p, const std::string& character) {
    size_t pieces = 0;
    p.for_each_piece(character + character, [&](Piece) { ++pieces; });
    return pieces == 2;
}

// Whether the whole text is one match of `p` (a gap would be followed or preceded by a match piece, or the
// text would be two gaps... so test with a separator the pattern never matches).
bool matches_whole(const Pretokenizer& p, const std::string& text) {
    std::vector<Piece> pieces;
    p.for_each_piece(text + "\x01" + text, [&](Piece piece) { pieces.push_back(piece); });
    return pieces.size() == 3 && pieces[0].end == text.size() && pieces[1].end == text.size() + 1;
}

TEST(PatternTranslation, SpellsOutWhiteSpaceOutsideAndInsideClasses) {
    const std::string ws =
        "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}-\\x{2029}\\x{202F}"
        "\\x{205F}\\x{3000}";
    EXPECT_EQ(rust_regex_to_pcre2("\\s+"), "[" + ws + "]+");
    EXPECT_EQ(rust_regex_to_pcre2("\\s+(?!\\S)"), "[" + ws + "]+(?![^" + ws + "])");
    EXPECT_EQ(rust_regex_to_pcre2("[^\\s\\p{L}\\p{N}]+"), "[^" + ws + "\\p{L}\\p{N}]+");
    EXPECT_EQ(
        rust_regex_to_pcre2("[\\S]"),
        "[\\x{0}-\\x{8}\\x{E}-\\x{1F}\\x{21}-\\x{84}\\x{86}-\\x{9F}\\x{A1}-\\x{167F}\\x{1681}-\\x{1FFF}"
        "\\x{200B}-\\x{2027}\\x{202A}-\\x{202E}\\x{2030}-\\x{205E}\\x{2060}-\\x{2FFF}\\x{3001}-\\x{10FFFF}]");
}

TEST(PatternTranslation, LeavesEverythingElseAlone) {
    EXPECT_EQ(rust_regex_to_pcre2("\\\\s"), "\\\\s");  // an escaped backslash, then a literal s
    EXPECT_EQ(rust_regex_to_pcre2("[]s]"), "[\\]s]");  // a leading ] is a literal
    EXPECT_EQ(rust_regex_to_pcre2("\\p{L}(?i:'s)\\p{N}{1,3}[\\r\\n/]*"),
              "\\p{L}(?i:'s)\\p{N}{1,3}[\\r\\n/]*");
    EXPECT_EQ(rust_regex_to_pcre2("[[:alpha:]\\s]"),
              "[[:alpha:]\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-"
              "\\x{200A}\\x{2028}-\\x{2029}\\x{202F}\\x{205F}\\x{3000}]");
    EXPECT_EQ(rust_regex_to_pcre2("\\u00e9\\u{1F600}\\U0001F600"), "\\x{00e9}\\x{1F600}\\x{0001F600}");
}

TEST(PatternTranslation, RejectsWhatPcre2CannotExpress) {
    for (const char* bad : {"[a[b]]", "[a&&b]", "[a--b]", "[a~~b]", "abc\\", "[abc", "[\\W]", "\\u{12"}) {
        EXPECT_THROW(rust_regex_to_pcre2(bad), TokenizerError) << bad;
    }
    EXPECT_THROW(Pretokenizer("(unclosed"), TokenizerError);
}

TEST(PatternTranslation, WhiteSpaceClassesMatchUnicodeWhiteSpaceForEveryCodePoint) {
    const Pretokenizer space("\\s"), not_space("\\S"), in_class("[\\s]"), negated("[^\\s]"),
        not_in_class("[\\S]");
    size_t num_white = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        const std::string text = utf8_of(cp);
        const bool white = is_white_space(cp);
        num_white += white;
        ASSERT_EQ(matches(space, text), white) << fmt::format("U+{:04X}", cp);
        ASSERT_EQ(matches(in_class, text), white) << fmt::format("U+{:04X}", cp);
        ASSERT_EQ(matches(not_space, text), !white) << fmt::format("U+{:04X}", cp);
        ASSERT_EQ(matches(negated, text), !white) << fmt::format("U+{:04X}", cp);
        ASSERT_EQ(matches(not_in_class, text), !white) << fmt::format("U+{:04X}", cp);
    }
    EXPECT_EQ(num_white, 25u);
}

TEST(PatternTranslation, WordClassFollowsRust) {
    const Pretokenizer word("\\w+"), boundary("\\ba");
    EXPECT_TRUE(matches_whole(word, "caf\xC3\xA9_1"));
    EXPECT_TRUE(matches_whole(word, "e\xCC\x81"));      // a combining mark is a word character in Rust
    EXPECT_TRUE(matches_whole(word, "a\xE2\x80\x8D"));  // so is ZERO WIDTH JOINER (Join_Control)
    EXPECT_FALSE(matches_whole(word, "a-b"));
    std::vector<size_t> ends;
    boundary.for_each_piece(
        "ba a\xCC\x81"
        "a",
        [&](Piece p) { ends.push_back(p.end); });
    // Only the lone "a" starts at a word boundary: "ba" and "a<U+0301>a" are one word each for Rust's \w.
    EXPECT_EQ(ends, (std::vector<size_t>{3, 4, 7}));
}

TEST(PatternTranslation, DollarMeansEndOfText) {
    const Pretokenizer p("a$");
    std::vector<std::pair<size_t, size_t>> pieces;
    p.for_each_piece("a\n", [&](Piece piece) { pieces.push_back({piece.begin, piece.end}); });
    // No match: PCRE2's default $ would match before the final newline; Rust's does not.
    EXPECT_EQ(pieces, (std::vector<std::pair<size_t, size_t>>{{0, 2}}));
}

}  // namespace
}  // namespace gptoss
