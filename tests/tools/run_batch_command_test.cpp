// gptoss run-batch on the toy checkpoint, run as a user runs it: malformed lines get error lines while the
// rest complete, the answers equal what the route gives one by one, and a kill -9 mid-run followed by a rerun
// leaves exactly one line per custom_id.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/fixture.h"

namespace gptoss {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string run_batch_command(const fs::path& in, const fs::path& out, const std::string& extra = "") {
    return fmt::format(
        "{} run-batch -i {} -o {} --model {} --backend cpu --cpu-threads 1 --kv-cache-memory 64MiB "
        "--max-model-len 2048 --log-level warn {}",
        testing::gptoss_executable().string(), in.string(), out.string(), testing::toy_harmony_dir().string(),
        extra);
}

std::vector<json> read_lines(const fs::path& path) {
    std::ifstream f(path);
    std::vector<json> lines;
    for (std::string line; std::getline(f, line);) lines.push_back(json::parse(line));
    return lines;
}

json chat_line(const std::string& id, const std::string& text, int max_tokens) {
    return {{"custom_id", id},
            {"method", "POST"},
            {"url", "/v1/chat/completions"},
            {"body",
             {{"messages", {{{"role", "user"}, {"content", text}}}},
              {"max_tokens", max_tokens},
              {"temperature", 0}}}};
}

TEST(RunBatchCommand, MalformedLinesGetErrorLinesAndTheRestComplete) {
    testing::TempDir dir("run-batch");
    const fs::path in = dir.path() / "in.jsonl", out = dir.path() / "out.jsonl";
    {
        std::ofstream f(in);
        f << chat_line("ok-1", "Hello", 8).dump() << "\n";
        f << "{this is not json\n";
        f << json{{"custom_id", "bad-url"},
                  {"method", "POST"},
                  {"url", "/v1/embeddings"},
                  {"body", json::object()}}
                 .dump()
          << "\n";
        f << json{{"custom_id", "bad-body"},
                  {"url", "/v1/chat/completions"},
                  {"body", {{"messages", "text"}}}}
                 .dump()
          << "\n";
        f << json{{"custom_id", "ok-2"},
                  {"url", "/v1/completions"},
                  {"body", {{"prompt", "Once upon"}, {"max_tokens", 6}, {"temperature", 0}}}}
                 .dump()
          << "\n";
        f << json{{"custom_id", "ok-3"},
                  {"url", "/v1/responses"},
                  {"body", {{"input", "Hi"}, {"max_output_tokens", 8}, {"temperature", 0}}}}
                 .dump()
          << "\n";
    }
    int code = -1;
    testing::run_command(run_batch_command(in, out), "", &code);
    ASSERT_EQ(code, 0);
    std::map<std::string, json> by_key;
    for (const json& line : read_lines(out)) {
        by_key[line["custom_id"].is_string() ? line["custom_id"].get<std::string>() : "null"] = line;
    }
    ASSERT_EQ(by_key.size(), 6u);
    EXPECT_EQ(by_key["null"]["error"]["code"], "invalid_json");
    EXPECT_EQ(by_key["null"]["error"]["line"], 2);
    EXPECT_EQ(by_key["bad-url"]["error"]["code"], "invalid_url");
    EXPECT_EQ(by_key["bad-body"]["response"]["status_code"], 400);
    EXPECT_EQ(by_key["bad-body"]["response"]["body"]["error"]["param"], "messages");
    EXPECT_EQ(by_key["ok-1"]["response"]["status_code"], 200);
    EXPECT_EQ(by_key["ok-1"]["response"]["body"]["object"], "chat.completion");
    EXPECT_EQ(by_key["ok-2"]["response"]["body"]["object"], "text_completion");
    EXPECT_EQ(by_key["ok-3"]["response"]["body"]["object"], "response");
    EXPECT_EQ(by_key["ok-3"]["response"]["body"]["status"], "completed");
}

TEST(RunBatchCommand, PipesAndGreedyAnswersMatchAFreshRun) {
    testing::TempDir dir("run-batch");
    std::string input;
    for (int i = 0; i < 4; ++i)
        input.append(chat_line(fmt::format("r{}", i), fmt::format("Count to {}", i), 12).dump()).append("\n");
    int code = -1;
    std::string piped = testing::run_command(run_batch_command("-", "-"), input, &code);
    ASSERT_EQ(code, 0);
    const fs::path in = dir.path() / "in.jsonl", out = dir.path() / "out.jsonl";
    std::ofstream(in) << input;
    testing::run_command(run_batch_command(in, out), "", &code);
    ASSERT_EQ(code, 0);
    std::map<std::string, json> from_pipe, from_file;
    std::istringstream lines(piped);
    for (std::string line; std::getline(lines, line);) {
        json j = json::parse(line);
        from_pipe[j["custom_id"]] = j["response"]["body"]["choices"][0]["message"];
    }
    for (const json& j : read_lines(out))
        from_file[j["custom_id"]] = j["response"]["body"]["choices"][0]["message"];
    EXPECT_EQ(from_pipe.size(), 4u);
    EXPECT_EQ(from_pipe, from_file);
}

TEST(RunBatchCommand, KillMidRunThenRerunGivesExactlyOneLinePerCustomId) {
    testing::TempDir dir("run-batch");
    const fs::path in = dir.path() / "in.jsonl", out = dir.path() / "out.jsonl";
    constexpr int kLines = 24;
    {
        std::ofstream f(in);
        for (int i = 0; i < kLines; ++i) {
            f << json{{"custom_id", fmt::format("r{}", i)},
                      {"url", "/v1/completions"},
                      {"body",
                       {{"prompt", fmt::format("Line {}", i)}, {"max_tokens", 24}, {"ignore_eos", true}}}}
                     .dump()
              << "\n";
        }
    }
    // One request at a time, killed (no chance to clean up) once a few answers are on disk.
    const std::string script = fmt::format(
        "{} --max-in-flight 1 & pid=$!; "
        "for i in $(seq 600); do [ -f {} ] && [ $(wc -l < {}) -ge 3 ] && break; sleep 0.05; done; "
        "kill -9 $pid; wait $pid; echo $?",
        run_batch_command(in, out), out.string(), out.string());
    std::string status = testing::run_command(script);
    EXPECT_EQ(status, "137\n");  // killed, not finished
    const size_t after_kill = read_lines(out).size();
    EXPECT_GE(after_kill, 3u);
    EXPECT_LT(after_kill, size_t(kLines));

    int code = -1;
    testing::run_command(run_batch_command(in, out), "", &code);
    ASSERT_EQ(code, 0);
    std::map<std::string, int> count;
    for (const json& line : read_lines(out)) {
        EXPECT_EQ(line["response"]["status_code"], 200);
        ++count[line["custom_id"]];
    }
    EXPECT_EQ(count.size(), size_t(kLines));
    for (const auto& [id, n] : count) EXPECT_EQ(n, 1) << id;
}

}  // namespace
}  // namespace gptoss
