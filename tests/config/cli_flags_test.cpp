#include "config/cli_flags.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "config/model_config.h"
#include "config/server_config.h"

namespace gptoss {
namespace {

TEST(FlagSet, ParsesEachKindOfFlag) {
    std::string name = "x";
    int count = 1;
    double ratio = 0.5;
    bool on = false;
    std::optional<int64_t> bytes;
    std::string choice = "a";
    FlagSet flags("demo", "[flags]", "A demo.");
    flags.add_string("name", &name, "a name");
    flags.add_int("count", &count, "a count");
    flags.add_double("ratio", &ratio, "a ratio");
    flags.add_bool("on", &on, "a switch");
    flags.add_optional_bytes("bytes", &bytes, "a size");
    flags.add_choice("choice", &choice, {"a", "b"}, "a choice");
    ASSERT_TRUE(flags.parse(
        {"--name", "y", "--count=3", "--ratio", "0.25", "--on", "--bytes", "2GiB", "--choice", "b"}));
    EXPECT_EQ(name, "y");
    EXPECT_EQ(count, 3);
    EXPECT_DOUBLE_EQ(ratio, 0.25);
    EXPECT_TRUE(on);
    EXPECT_EQ(bytes, int64_t{2} << 30);
    EXPECT_EQ(choice, "b");
    EXPECT_TRUE(flags.was_set("count"));
}

TEST(FlagSet, HelpReturnsFalseAndListsDefaults) {
    int count = 7;
    FlagSet flags("demo", "[flags]", "A demo.");
    flags.add_int("count", &count, "a count");
    EXPECT_FALSE(flags.parse({"--help"}));
    EXPECT_NE(flags.help().find("--count VALUE"), std::string::npos);
    EXPECT_NE(flags.help().find("(default: 7)"), std::string::npos);
}

TEST(FlagSet, ErrorsNameTheProblem) {
    int count = 0;
    std::string choice = "a";
    FlagSet flags("demo", "[flags]", "A demo.");
    flags.add_int("count", &count, "a count");
    flags.add_choice("choice", &choice, {"a", "b"}, "a choice");
    auto message = [&](std::vector<std::string> args) {
        try {
            flags.parse(args);
        } catch (const CliError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message({"--bogus"}).find("unknown flag '--bogus'"), std::string::npos);
    EXPECT_NE(message({"--count"}).find("'--count' needs a value"), std::string::npos);
    EXPECT_NE(message({"--count", "many"}).find("--count expects an integer, got 'many'"), std::string::npos);
    EXPECT_NE(message({"--choice", "c"}).find("must be one of a, b"), std::string::npos);
    EXPECT_NE(message({"stray"}).find("unexpected argument 'stray'"), std::string::npos);
}

TEST(FlagSet, EnvironmentIsAFallbackBelowTheCommandLine) {
    setenv("GPTOSS_MAX_NUM_SEQS", "12", 1);
    setenv("GPTOSS_PORT", "9001", 1);
    auto config = ServerConfig::from_args({"--port", "9002"});
    unsetenv("GPTOSS_MAX_NUM_SEQS");
    unsetenv("GPTOSS_PORT");
    ASSERT_TRUE(config.has_value());
    EXPECT_EQ(config->engine.max_num_seqs, 12);
    EXPECT_EQ(config->port, 9002);
}

TEST(FlagSet, BadEnvironmentValueNamesTheVariable) {
    setenv("GPTOSS_PORT", "eighty", 1);
    try {
        ServerConfig::from_args({});
        FAIL();
    } catch (const CliError& e) {
        EXPECT_NE(std::string(e.what()).find("GPTOSS_PORT"), std::string::npos);
    }
    unsetenv("GPTOSS_PORT");
}

TEST(FlagSet, ParsesByteSizes) {
    EXPECT_EQ(FlagSet::parse_bytes("1000"), 1000);
    EXPECT_EQ(FlagSet::parse_bytes("8GiB"), int64_t{8} << 30);
    EXPECT_EQ(FlagSet::parse_bytes("8G"), int64_t{8} << 30);
    EXPECT_EQ(FlagSet::parse_bytes("1.5MB"), 1500000);
    EXPECT_EQ(FlagSet::parse_bytes("12 apples"), std::nullopt);
    EXPECT_EQ(FlagSet::parse_bytes(""), std::nullopt);
    EXPECT_EQ(FlagSet::parse_bytes("-1"), std::nullopt);
}

TEST(ServerConfig, DefaultsMatchTheDocumentation) {
    auto config = ServerConfig::from_args({});
    ASSERT_TRUE(config.has_value());
    EXPECT_EQ(config->port, 8000);
    EXPECT_EQ(config->host, "0.0.0.0");
    EXPECT_EQ(config->engine.block_size, 16);
}

TEST(ServerConfig, ValidatesValues) {
    EXPECT_THROW(ServerConfig::from_args({"--harmony-current-date", "June 5"}), ConfigError);
    EXPECT_THROW(ServerConfig::from_args({"--block-size", "12"}), ConfigError);
    EXPECT_THROW(ServerConfig::from_args({"--gpu-memory-utilization", "1.5"}), ConfigError);
    EXPECT_THROW(ServerConfig::from_args({"--port", "70000"}), ConfigError);
    EXPECT_NO_THROW(ServerConfig::from_args({"--harmony-current-date", "none"}));
    EXPECT_THROW(ServerConfig::from_args({"--harmony-current-date", "2025-13-05"}), ConfigError);
    EXPECT_NO_THROW(ServerConfig::from_args({"--harmony-current-date", "2025-08-05"}));
}

}  // namespace
}  // namespace gptoss
