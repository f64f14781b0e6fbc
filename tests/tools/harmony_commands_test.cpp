// `gptoss render` and `gptoss parse` (tools/harmony_commands.cpp) on every peer case file, fed on stdin.
#include <gtest/gtest.h>

#include "tests/support/fixture.h"
#include "tests/tokenizer/harmony_peer_cases.h"

namespace gptoss {
namespace {

using Json = nlohmann::ordered_json;

// A path in single quotes for the shell (built by appending: GCC 12's -Wrestrict misfires on "'" + s + "'").
std::string quoted(const std::filesystem::path& path) {
    std::string out = "'";
    out += path.string();
    out += "'";
    return out;
}

std::string tokenizer_flag() {
    return " --tokenizer " + quoted(testing::toy_harmony_dir() / "tokenizer.json");
}

std::string run_gptoss(const std::string& arguments, const std::string& input, int* exit_code) {
    return testing::run_command(quoted(testing::gptoss_executable()) + " " + arguments + " 2>&1", input,
                                exit_code);
}

TEST(HarmonyCommands, RenderPrintsTheExpectedTokensAndText) {
    const auto cases = testing::harmony_peer_cases("render");
    ASSERT_FALSE(cases.empty());
    for (const auto& path : cases) {
        SCOPED_TRACE(testing::case_name(path));
        const std::string input = testing::read_file(path);
        const Json test_case = Json::parse(input);
        int exit_code = -1;
        const std::string ids = run_gptoss("render" + tokenizer_flag(), input, &exit_code);
        EXPECT_EQ(exit_code, 0) << ids;
        EXPECT_EQ(nlohmann::json::parse(ids), nlohmann::json(test_case.at("expected_tokens")));
        const std::string text = run_gptoss("render --text", input, &exit_code);
        EXPECT_EQ(exit_code, 0);
        EXPECT_EQ(text, test_case.at("expected_text").get<std::string>());
    }
}

TEST(HarmonyCommands, ParsePrintsTheExpectedMessagesOrAnError) {
    const auto cases = testing::harmony_peer_cases("parse");
    ASSERT_FALSE(cases.empty());
    for (const auto& path : cases) {
        SCOPED_TRACE(testing::case_name(path));
        const std::string input = testing::read_file(path);
        const Json test_case = Json::parse(input);
        const Json& expected = test_case.at("expected");
        int exit_code = -1;
        const std::string output = run_gptoss("parse" + tokenizer_flag(), input, &exit_code);
        EXPECT_EQ(exit_code, 0) << output;
        const nlohmann::json result = nlohmann::json::parse(output);
        if (expected.value("error", false)) {
            ASSERT_TRUE(result.contains("error")) << output;
            EXPECT_FALSE(result.contains("messages"));
            if (expected.contains("error_message")) {
                EXPECT_EQ(result["error"], expected["error_message"].get<std::string>());
            }
            continue;
        }
        ASSERT_TRUE(result.contains("messages")) << output;
        if (expected.contains("messages")) {
            EXPECT_EQ(result["messages"], nlohmann::json(expected["messages"]));
        }
        if (expected.contains("message_count")) {
            EXPECT_EQ(result["messages"].size(), expected["message_count"].get<size_t>());
        }
        if (test_case.contains("derived_messages")) {
            EXPECT_EQ(result["messages"], nlohmann::json(test_case["derived_messages"]));
        }
    }
}

TEST(HarmonyCommands, TolerantParseNeverFailsAndListsWarnings) {
    const Json test_case = {
        {"operation", "parse_messages_from_completion_tokens"},
        {"options", {{"role", "assistant"}, {"strict", true}}},
        {"tokens", {200005, 12606, 815, 32949, 200007}}};  // <|channel|>commentary Hello<|end|>
    int exit_code = -1;
    const auto strict =
        nlohmann::json::parse(run_gptoss("parse" + tokenizer_flag(), test_case.dump(), &exit_code));
    EXPECT_TRUE(strict.contains("error"));
    const auto tolerant = nlohmann::json::parse(
        run_gptoss("parse --tolerant" + tokenizer_flag(), test_case.dump(), &exit_code));
    ASSERT_EQ(tolerant["messages"].size(), 1u);
    EXPECT_EQ(tolerant["messages"][0]["content"], "Hello");
    EXPECT_FALSE(tolerant["warnings"].empty());
}

TEST(HarmonyCommands, UsageErrors) {
    int exit_code = 0;
    run_gptoss("render" + tokenizer_flag(), "not json", &exit_code);
    EXPECT_NE(exit_code, 0);
    run_gptoss("parse", R"({"tokens": []})", &exit_code);
    EXPECT_NE(exit_code, 0);  // --tokenizer is required
    run_gptoss("render", R"({"conversation": {"messages": []}})", &exit_code);
    EXPECT_NE(exit_code, 0);  // token ids need a tokenizer
    const std::string message =
        run_gptoss("render --text", R"({"conversation": {"messages": [{"role": "robot"}]}})", &exit_code);
    EXPECT_NE(exit_code, 0);
    EXPECT_NE(message.find("conversation.messages[0].role"), std::string::npos) << message;
}

}  // namespace
}  // namespace gptoss
