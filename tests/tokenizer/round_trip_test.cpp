// Property tests: decode(encode(x)) == x for generated valid UTF-8 (emoji ZWJ sequences, combining marks,
// CJK, RTL scripts, whitespace runs, digits, punctuation, random code points), and the documented behaviour
// on invalid UTF-8: valid runs encode as usual, each bad byte is its own single-byte token.
#include <gtest/gtest.h>

#include <random>

#include "tests/tokenizer/tokenizer_files.h"
#include "tokenizer/utf8.h"

namespace gptoss {
namespace {

using testing::VocabFormat;

std::string utf8_of(uint32_t cp) {
    std::string out;
    utf8::append_code_point(cp, out);
    return out;
}

// Generates texts from a mix of fragment kinds (seeded: the same strings on every run).
class TextGenerator {
public:
    explicit TextGenerator(uint32_t seed) : rng_(seed) {}

    std::string text() {
        std::string out;
        const int num_fragments = 1 + static_cast<int>(rng_() % 12);
        for (int i = 0; i < num_fragments; ++i) out += fragment();
        return out;
    }

private:
    uint32_t below(uint32_t n) { return rng_() % n; }
    uint32_t in(uint32_t lo, uint32_t hi) { return lo + below(hi - lo + 1); }
    template <class T>
    const T& pick(const std::vector<T>& v) {
        return v[below(static_cast<uint32_t>(v.size()))];
    }

    std::string fragment() {
        std::string s;
        switch (below(10)) {
            case 0: {  // emoji, ZWJ families, skin tones, flags, keycaps, variation selectors
                const std::vector<std::string> emoji = {
                    "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
                    "\xF0\x9F\x91\x8B\xF0\x9F\x8F\xBE",
                    "\xF0\x9F\x87\xBA\xF0\x9F\x87\xB8",
                    "1\xEF\xB8\x8F\xE2\x83\xA3",
                    "\xE2\x9D\xA4\xEF\xB8\x8F",
                    "\xF0\x9F\x8F\xB3\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x8C\x88"};
                for (uint32_t n = in(1, 5); n > 0; --n)
                    s += below(3) ? pick(emoji) : utf8_of(in(0x1F300, 0x1FAFF));
                break;
            }
            case 1:  // letters with combining marks (NFD, zalgo)
                for (uint32_t n = in(1, 8); n > 0; --n) {
                    s += utf8_of(in('a', 'z'));
                    for (uint32_t m = below(4); m > 0; --m) s += utf8_of(in(0x300, 0x36F));
                }
                break;
            case 2:  // CJK, kana, hangul
                for (uint32_t n = in(1, 30); n > 0; --n) {
                    const uint32_t kind = below(4);
                    s += utf8_of(kind == 0   ? in(0x4E00, 0x9FFF)
                                 : kind == 1 ? in(0x3041, 0x30FF)
                                 : kind == 2 ? in(0xAC00, 0xD7A3)
                                             : 0x3002);
                }
                break;
            case 3:  // Arabic with harakat, Hebrew with niqqud
                for (uint32_t n = in(1, 12); n > 0; --n) {
                    s += below(2) ? utf8_of(in(0x627, 0x64A)) + (below(2) ? utf8_of(in(0x64B, 0x652)) : "")
                                  : utf8_of(in(0x5D0, 0x5EA)) + (below(2) ? utf8_of(in(0x5B0, 0x5BC)) : "");
                    if (below(4) == 0) s += ' ';
                }
                break;
            case 4: {  // whitespace runs: every White_Space code point and the look-alikes that are not
                const std::vector<uint32_t> spaces = {
                    0x20,   0x20,   0x9,    0xA,    0xD,    0xB,    0xC,    0x85,   0xA0,   0x1680, 0x2000,
                    0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0x180E, 0x200B, 0xFEFF, 0x2060};
                for (uint32_t n = in(1, 20); n > 0; --n) s += utf8_of(pick(spaces));
                break;
            }
            case 5:  // digits of several scripts, numbers, fractions
                for (uint32_t n = in(1, 15); n > 0; --n) {
                    const uint32_t kind = below(5);
                    s += kind < 3    ? utf8_of(in('0', '9'))
                         : kind == 3 ? utf8_of(in(0x660, 0x669))
                                     : utf8_of(in(0xFF10, 0xFF19));
                    if (below(6) == 0)
                        s += pick(std::vector<std::string>{".", ",", "\xC2\xBD", "\xC2\xB2", "/"});
                }
                break;
            case 6: {  // ASCII words, contractions, case mixes, code punctuation
                const std::vector<std::string> words = {
                    "Hello", " world", "don't", " I'LL", "camelCase", "HTTPServer",
                    " x_1",  "()",     " {",    "};\n",  "->",        "/*",
                    " //",   "'s",     "?/",    ".\n/",  "<|start|>", "\t\t"};
                for (uint32_t n = in(1, 6); n > 0; --n) s += pick(words);
                break;
            }
            case 7:  // Cyrillic, Greek, Devanagari, Thai
                for (uint32_t n = in(1, 10); n > 0; --n) {
                    const uint32_t kind = below(4);
                    s += utf8_of(kind == 0   ? in(0x410, 0x44F)
                                 : kind == 1 ? in(0x3B1, 0x3C9)
                                 : kind == 2 ? in(0x915, 0x94D)
                                             : in(0xE01, 0xE4E));
                    if (below(5) == 0) s += ' ';
                }
                break;
            case 8:  // any scalar value, including controls, private use, unassigned and U+10FFFF
                for (uint32_t n = in(1, 6); n > 0; --n) {
                    uint32_t cp = below(6) == 0 ? in(0, 0x7F) : in(0, 0x10FFFF);
                    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0x10FFFF;
                    s += utf8_of(cp);
                }
                break;
            default:  // long runs of one character
                s += std::string(in(50, 400), pick(std::vector<char>{' ', 'a', '.', '7', '\n'}));
                break;
        }
        return s;
    }

    std::mt19937 rng_;
};

class RoundTripTest : public ::testing::TestWithParam<VocabFormat> {
protected:
    const Tokenizer& tok() const { return *testing::tokenizer_for(GetParam()); }
};

TEST_P(RoundTripTest, DecodeOfEncodeIsTheTextForGeneratedUnicode) {
    TextGenerator gen(2024);
    for (int i = 0; i < 4000; ++i) {
        const std::string text = gen.text();
        const auto ids = tok().encode_ordinary(text);
        ASSERT_EQ(tok().decode(ids), text) << "case " << i;
        for (int32_t id : ids) ASSERT_FALSE(tok().is_special(id));
        ASSERT_EQ(tok().decode(tok().encode(text, SpecialTokenPolicy::all())), text) << "case " << i;
    }
}

TEST_P(RoundTripTest, InvalidUtf8BytesAreSingleByteTokens) {
    const auto ids_of = [&](std::string_view s) { return tok().encode_ordinary(s); };
    const auto byte_token = [&](unsigned char b) { return ids_of(std::string(1, static_cast<char>(b))); };
    // A lone bad byte is its single-byte token; the valid text around it encodes as if it were alone.
    std::vector<int32_t> expected = ids_of("hello");
    for (unsigned char b : {0xFFu, 0xC3u}) {
        const auto t = byte_token(b);
        expected.insert(expected.end(), t.begin(), t.end());
    }
    const auto world = ids_of(" world");
    expected.insert(expected.end(), world.begin(), world.end());
    EXPECT_EQ(ids_of("hello\xFF\xC3 world"), expected);
    EXPECT_EQ(byte_token(0xFF).size(), 1u);
    // A truncated character is one piece per byte too.
    EXPECT_EQ(ids_of("\xF0\x9F\x98").size(), 3u);

    std::mt19937 rng(5);
    for (int i = 0; i < 3000; ++i) {
        std::string bytes(rng() % 64, '\0');
        for (auto& c : bytes) c = static_cast<char>(rng() % 4 == 0 ? 0x80 + rng() % 128 : rng() % 256);
        const auto ids = tok().encode_ordinary(bytes);
        ASSERT_EQ(tok().decode_bytes(ids), bytes) << "case " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(BothFormats, RoundTripTest,
                         ::testing::Values(VocabFormat::kTiktoken, VocabFormat::kTokenizerJson),
                         [](const auto& info) { return testing::format_name(info.param); });

}  // namespace
}  // namespace gptoss
