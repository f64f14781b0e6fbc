// gptoss tokenize / detokenize, run through the executable.
#include <gtest/gtest.h>

#include "tests/support/fixture.h"

namespace gptoss {
namespace {

std::string tiktoken_file() {
    return (testing::shared_dir() / "vocab" / "o200k_base.tiktoken").string();
}

struct Result {
    std::string output;  // stdout and stderr
    int exit_code = -1;
};

Result gptoss(const std::string& args, const std::string& input) {
    Result r;
    r.output = testing::run_command(testing::gptoss_executable().string() + " " + args + " 2>&1", input,
                                    &r.exit_code);
    return r;
}

TEST(TokenizeCommand, EncodesStdinExactlyFromEitherFormatOrAFolder) {
    const std::string folder = testing::toy_harmony_dir().string();
    for (const std::string& file : {tiktoken_file(), folder, folder + "/tokenizer.json"}) {
        SCOPED_TRACE(file);
        const Result r = gptoss("tokenize --tokenizer " + file, "hello world");
        EXPECT_EQ(r.exit_code, 0);
        EXPECT_EQ(r.output, "[24912,2375]\n");
    }
    // The trailing newline is part of the text.
    EXPECT_EQ(gptoss("tokenize --tokenizer " + tiktoken_file(), "a\n").output, "[64,198]\n");
    EXPECT_EQ(gptoss("tokenize --tokenizer " + tiktoken_file(), "").output, "[]\n");
}

TEST(TokenizeCommand, SpecialTokensAreTextUnlessAllowed) {
    EXPECT_EQ(gptoss("tokenize --tokenizer " + tiktoken_file(), "<|start|>").output, "[27,91,5236,91,29]\n");
    EXPECT_EQ(gptoss("tokenize --allow-special --tokenizer " + tiktoken_file(), "<|start|>user").output,
              "[200006,1428]\n");
}

TEST(TokenizeCommand, JsonlEncodesOneStringPerLine) {
    const Result r = gptoss("tokenize --jsonl --allow-special --tokenizer " + tiktoken_file(),
                            "\"hello world\"\n\"<|end|>\"\n\"a\\nb\"\n");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.output, "[24912,2375]\n[200007]\n[64,198,65]\n");
    const Result bad = gptoss("tokenize --jsonl --tokenizer " + tiktoken_file(), "\"ok\"\n42\n");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.output.find("line 2"), std::string::npos) << bad.output;
}

TEST(DetokenizeCommand, PrintsTheTextAndRoundTrips) {
    const std::string text = "Grüße, 世界! 👋🏾\n  x = [1, 22, 333]\t<|start|>";
    const Result ids = gptoss("tokenize --tokenizer " + tiktoken_file(), text);
    ASSERT_EQ(ids.exit_code, 0);
    const Result back = gptoss("detokenize --tokenizer " + tiktoken_file(), ids.output);
    EXPECT_EQ(back.exit_code, 0);
    EXPECT_EQ(back.output, text);
    // A token that ends inside a character decodes lossily.
    EXPECT_EQ(gptoss("detokenize --tokenizer " + tiktoken_file(), "[9552]").output, " \xEF\xBF\xBD");
    EXPECT_EQ(gptoss("detokenize --jsonl --tokenizer " + tiktoken_file(), "[24912,2375]\n[200006]\n").output,
              "\"hello world\"\n\"<|start|>\"\n");
}

TEST(TokenizeCommands, ReportErrorsInOneLine) {
    const Result missing = gptoss("tokenize", "x");
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.output.find("--tokenizer"), std::string::npos) << missing.output;

    const Result garbage = gptoss("tokenize --tokenizer /etc/hostname", "x");
    EXPECT_EQ(garbage.exit_code, 1);
    EXPECT_NE(garbage.output.find("/etc/hostname"), std::string::npos) << garbage.output;

    const Result bad_id = gptoss("detokenize --tokenizer " + tiktoken_file(), "[1, 201088]");
    EXPECT_EQ(bad_id.exit_code, 1);
    EXPECT_NE(bad_id.output.find("201088"), std::string::npos) << bad_id.output;

    const Result not_json = gptoss("detokenize --tokenizer " + tiktoken_file(), "[1, 2");
    EXPECT_EQ(not_json.exit_code, 1);
    EXPECT_NE(not_json.output.find("JSON"), std::string::npos) << not_json.output;

    const Result not_ids = gptoss("detokenize --tokenizer " + tiktoken_file(), "[\"a\"]");
    EXPECT_EQ(not_ids.exit_code, 1);
    EXPECT_NE(not_ids.output.find("token id"), std::string::npos) << not_ids.output;
}

}  // namespace
}  // namespace gptoss
