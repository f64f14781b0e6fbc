// Byte-pair merging: lowest merged rank first, leftmost on ties; the quadratic and the heap paths agree; the
// piece cache returns what BPE computes.
#include "tokenizer/bpe.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/tokenizer/tokenizer_files.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/vocabulary.h"

namespace gptoss {
namespace {

// All 256 single bytes at ranks 0..255, then `extra` tokens at 256, 257, ...
Vocabulary byte_vocabulary(const std::vector<std::string>& extra) {
    Vocabulary v;
    for (int b = 0; b < 256; ++b) v.tokens.emplace_back(1, static_cast<char>(b));
    for (const auto& t : extra) v.tokens.push_back(t);
    v.pattern = "\\S+|\\s+";
    return v;
}

std::vector<int32_t> both_paths(const RankTable& ranks, std::string_view piece) {
    std::vector<int32_t> small, large;
    byte_pair_encode_with(ranks, piece, true, small);
    byte_pair_encode_with(ranks, piece, false, large);
    EXPECT_EQ(small, large) << piece;
    return small;
}

const RankTable& o200k_ranks() {
    static const auto tok = testing::tokenizer_for(testing::VocabFormat::kTiktoken);
    return dynamic_cast<const BpeTokenizer&>(*tok).ranks();
}

TEST(BytePairEncode, MergesTheLowestRankedPairFirst) {
    const Vocabulary v = byte_vocabulary({"bc", "ab", "abc"});  // bc = 256, ab = 257, abc = 258
    std::vector<std::string_view> views(v.tokens.begin(), v.tokens.end());
    const RankTable ranks(views);
    // "bc" outranks "ab", so "abc" is reached as a + bc -> abc.
    EXPECT_EQ(both_paths(ranks, "abc"), (std::vector<int32_t>{258}));
    EXPECT_EQ(both_paths(ranks, "abcbc"), (std::vector<int32_t>{258, 256}));
    EXPECT_EQ(both_paths(ranks, "xab"), (std::vector<int32_t>{'x', 257}));
}

TEST(BytePairEncode, BreaksTiesLeftmost) {
    const Vocabulary v = byte_vocabulary({"aa"});
    std::vector<std::string_view> views(v.tokens.begin(), v.tokens.end());
    const RankTable ranks(views);
    EXPECT_EQ(both_paths(ranks, "aaa"), (std::vector<int32_t>{256, 'a'}));
    EXPECT_EQ(both_paths(ranks, "aaaaa"), (std::vector<int32_t>{256, 256, 'a'}));
}

TEST(BytePairEncode, QuadraticAndHeapPathsAgreeOnO200k) {
    const RankTable& ranks = o200k_ranks();
    std::mt19937 rng(7);
    const std::vector<std::string> alphabets = {"ab",
                                                "abcdefgh ",
                                                "0123456789",
                                                "\xE4\xB8\xAD\xE6\x96\x87\xE5\xAD\x97",
                                                "\xF0\x9F\x98\x80\xE2\x80\x8D",
                                                "etaoin shrdlu"};
    for (int i = 0; i < 600; ++i) {
        const std::string& alphabet = alphabets[i % alphabets.size()];
        const size_t length = 2 + rng() % 300;
        std::string piece;
        while (piece.size() < length) piece += alphabet[rng() % alphabet.size()];
        const auto ids = both_paths(ranks, piece);
        std::string decoded;
        for (int32_t id : ids) decoded += ranks.bytes(id);
        EXPECT_EQ(decoded, piece);
    }
}

TEST(BytePairEncode, LongPiecesStayFast) {
    // One 1 MB piece: the heap path is O(n log n); the quadratic one would take minutes.
    const std::string piece(1 << 20, 'a');
    std::vector<int32_t> ids;
    byte_pair_encode(o200k_ranks(), piece, ids);
    size_t total = 0;
    for (int32_t id : ids) total += o200k_ranks().bytes(id).size();
    EXPECT_EQ(total, piece.size());
}

TEST(BpeTokenizer, CachedPiecesEncodeTheSame) {
    const Tokenizer& tok = *testing::tokenizer_for(testing::VocabFormat::kTiktoken);
    // Words the vocabulary splits take the BPE + cache path; the second encode reads the cache.
    const std::string text =
        " Zyxwvutsrq qwertzuiopasd 1234567 \xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C";
    const auto first = tok.encode_ordinary(text);
    EXPECT_EQ(tok.encode_ordinary(text), first);
    EXPECT_EQ(tok.decode(first), text);
}

TEST(BpeTokenizer, RejectsAVocabularyThatCannotEncodeEveryByte) {
    Vocabulary v = byte_vocabulary({});
    v.tokens[0x80].clear();
    EXPECT_THROW(BpeTokenizer{v}, TokenizerError);
}

}  // namespace
}  // namespace gptoss
