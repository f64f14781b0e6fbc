// Loading: both formats give the same tokenizer; the format is read from the content; broken files fail with
// a TokenizerError that names the file.
#include <gtest/gtest.h>

#include <fstream>

#include <fmt/format.h>

#include "tests/support/fixture.h"
#include "tests/tokenizer/tokenizer_files.h"

namespace gptoss {
namespace {

using testing::VocabFormat;

// A file in a fresh temporary folder, removed at the end of the test.
class TempFiles {
public:
    TempFiles() {
        dir_ = std::filesystem::temp_directory_path() /
               ("gptoss-tokenizer-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    ~TempFiles() { std::filesystem::remove_all(dir_); }
    std::filesystem::path write(const std::string& name, const std::string& contents) const {
        const auto path = dir_ / name;
        std::ofstream(path, std::ios::binary) << contents;
        return path;
    }
    const std::filesystem::path& dir() const { return dir_; }

private:
    std::filesystem::path dir_;
};

// Expects loading `path` to throw a TokenizerError whose message contains `path` and `detail`.
void expect_load_error(const std::filesystem::path& path, const std::string& detail) {
    try {
        Tokenizer::from_file(path);
        ADD_FAILURE() << "loading " << path << " did not throw";
    } catch (const TokenizerError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(path.string()), std::string::npos) << message;
        EXPECT_NE(message.find(detail), std::string::npos) << message;
    }
}

// A small byte-level tokenizer.json: the 256 GPT-2 byte characters, a few merged tokens, added tokens.
std::string small_tokenizer_json(const std::string& added_tokens, const std::string& extra_top_level = "") {
    // Build the byte-level alphabet exactly like GPT-2: printable Latin-1 maps to itself, the rest to
    // U+0100...
    std::vector<uint32_t> code_point(256);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        code_point[b] = printable ? b : next++;
    }
    auto key = [&](const std::string& bytes) {
        std::string s;
        for (unsigned char c : bytes) {
            const uint32_t cp = code_point[c];
            if (cp == '"' || cp == '\\') s += '\\';
            if (cp < 0x80) {
                s += static_cast<char>(cp);
            } else {
                s += static_cast<char>(0xC0 | (cp >> 6));
                s += static_cast<char>(0x80 | (cp & 0x3F));
            }
        }
        return s;
    };
    std::string vocab;
    int id = 0;
    auto add = [&](const std::string& bytes) {
        if (id > 0) vocab += ",\n";
        vocab += fmt::format("\"{}\": {}", key(bytes), id);
        ++id;
    };
    for (int b = 0; b < 256; ++b) add(std::string(1, static_cast<char>(b)));
    for (const std::string t : {"he", "ll", "hell", "hello", " w", " world"}) add(t);
    return fmt::format(
        R"({{"version": "1.0", "added_tokens": {}{}, "normalizer": null,
 "pre_tokenizer": {{"type": "Sequence", "pretokenizers": [{{"type": "Split", "pattern": {{"Regex": " ?\\p{{L}}+|\\s+(?!\\S)|\\s+|[^\\s\\p{{L}}]+"}}, "behavior": "Isolated", "invert": false}}, {{"type": "ByteLevel", "add_prefix_space": false}}]}},
 "model": {{"type": "BPE", "merges": [["h", "e"], ["l", "l"]], "vocab": {{{}}}}}}})",
        added_tokens, extra_top_level, vocab);
}

TEST(Loader, BothFormatsGiveTheSameTokenizer) {
    const Tokenizer& a = *testing::tokenizer_for(VocabFormat::kTiktoken);
    const Tokenizer& b = *testing::tokenizer_for(VocabFormat::kTokenizerJson);
    ASSERT_EQ(a.vocab_size(), b.vocab_size());
    for (int32_t id = 0; id < a.vocab_size(); ++id) {
        ASSERT_EQ(a.token_to_bytes(id), b.token_to_bytes(id)) << id;
        ASSERT_EQ(a.is_special(id), b.is_special(id)) << id;
    }
}

TEST(Loader, ReadsACheckpointFolder) {
    const auto tok = Tokenizer::from_file(testing::toy_harmony_dir());
    EXPECT_EQ(tok->vocab_size(), 201088);
    EXPECT_EQ(tok->encode_ordinary("hello world"), (std::vector<int32_t>{24912, 2375}));
}

TEST(Loader, ChoosesTheFormatByContentNotByName) {
    TempFiles files;
    const std::string tiktoken = testing::read_file(testing::tiktoken_path());
    const auto tok = Tokenizer::from_file(files.write("tokenizer.json", tiktoken));
    EXPECT_EQ(tok->encode_ordinary("hello world"), (std::vector<int32_t>{24912, 2375}));
}

TEST(Loader, SmallTokenizerJsonWithItsOwnAddedTokens) {
    TempFiles files;
    const auto path = files.write(
        "tokenizer.json", small_tokenizer_json(R"([{"id": 262, "content": "<eos>", "special": true}])"));
    const auto tok = Tokenizer::from_file(path);
    EXPECT_EQ(tok->vocab_size(), 263);
    EXPECT_EQ(tok->encode_ordinary("hello world"), (std::vector<int32_t>{259, 261}));
    EXPECT_EQ(tok->encode("hello<eos>", SpecialTokenPolicy::all()), (std::vector<int32_t>{259, 262}));
    EXPECT_TRUE(tok->is_special(262));
    EXPECT_EQ(tok->decode(std::vector<int32_t>{258, 'o', 262}), "hello<eos>");
}

TEST(Loader, BrokenTiktokenFilesFailClearly) {
    TempFiles files;
    const std::string good = testing::read_file(testing::tiktoken_path());
    expect_load_error(files.write("half.tiktoken", good.substr(0, good.size() / 2)), "line");
    size_t cut = 0;
    for (int i = 0; i < 1000; ++i) cut = good.find('\n', cut) + 1;
    expect_load_error(files.write("head.tiktoken", good.substr(0, cut)), "has 1000 tokens");
    expect_load_error(files.write("b64.tiktoken", "IQ== 0\nI@== 1\n"),
                      "line 2: the token is not valid base64");
    expect_load_error(files.write("dup.tiktoken", "IQ== 0\nIg== 0\n"), "rank 0 appears twice");
    expect_load_error(files.write("big.tiktoken", "IQ== 0\nIg== 250000\n"), "collides");
    expect_load_error(files.write("norank.tiktoken", "IQ== 0\nIg==\n"), "line 2");
}

TEST(Loader, BrokenTokenizerJsonFilesFailClearly) {
    TempFiles files;
    const std::string good = testing::read_file(testing::tokenizer_json_path());
    expect_load_error(files.write("cut.json", good.substr(0, good.size() / 3)), "truncated");
    expect_load_error(files.write("tiny.json", good.substr(0, 100)), "truncated");
    expect_load_error(files.write("empty_object.json", "{}"), "model.vocab");
    expect_load_error(files.write("trailing.json", small_tokenizer_json("[]") + " x"), "after the end");
    expect_load_error(files.write("badkey.json", R"({"model": {"type": "BPE", "vocab": {"a\u0000": 0}}})"),
                      "not byte-level");
    expect_load_error(files.write("wordpiece.json", R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})"),
                      "WordPiece");
    expect_load_error(
        files.write("normalizer.json", small_tokenizer_json("[]", R"(, "normalizer": {"type": "NFC"})")),
        "normalizer");
    expect_load_error(files.write("nosplit.json", R"({"pre_tokenizer": null, "model": {"vocab": {"a": 0}}})"),
                      "Split");
    expect_load_error(files.write("added.json", small_tokenizer_json(R"([{"id": "x"}])")), "added_tokens");
    // Harmony added tokens promise the o200k vocabulary; a small vocab with them is not a harmony tokenizer.
    expect_load_error(
        files.write("fake_harmony.json",
                    small_tokenizer_json(R"([{"id": 200006, "content": "<|start|>", "special": true}])")),
        "vocab is not");
}

TEST(Loader, MissingAndUnknownFilesFailClearly) {
    TempFiles files;
    expect_load_error(files.dir() / "nope.json", "does not exist");
    expect_load_error(files.dir(), "has no tokenizer.json");
    expect_load_error(files.write("empty", ""), "neither");
    expect_load_error(files.write("garbage", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)), "neither");
    expect_load_error(files.write("text", "hello world\n"), "neither");
}

}  // namespace
}  // namespace gptoss
