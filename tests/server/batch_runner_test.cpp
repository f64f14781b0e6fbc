// BatchRunner over a caller that answers in-process (the real one, call_batch_line over the engine, is
// covered by the run-batch CLI tests and tests/e2e/batches.test.mjs): one answer per line, error lines,
// resume, duplicates, the in-flight bound, prefix ordering, retry on overload, stop.
#include "server/batch_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace gptoss {
namespace {

using nlohmann::json;

std::string line(const std::string& id, const std::string& prompt,
                 const std::string& url = "/v1/completions") {
    return json{{"custom_id", id}, {"method", "POST"}, {"url", url}, {"body", {{"prompt", prompt}}}}.dump();
}

std::string request_id(size_t i) {
    std::string id = "r";
    id.append(std::to_string(i));
    return id;
}

struct Recorder {
    std::mutex mutex;
    std::vector<json> lines;
    BatchWriter writer() {
        return [this](const json& l, bool) {
            std::lock_guard lock(mutex);
            lines.push_back(l);
        };
    }
    std::map<std::string, int> per_key() {
        std::map<std::string, int> n;
        for (const auto& l : lines) ++n[*batch_output_key(l.dump())];
        return n;
    }
};

// Lines joined by newlines (appended piecewise: GCC 12 misreports chains of std::string operator+).
std::string join(const std::vector<std::string>& lines, bool final_newline = true) {
    std::string text;
    for (size_t i = 0; i < lines.size(); ++i) {
        text.append(lines[i]);
        if (i + 1 < lines.size() || final_newline) text.push_back('\n');
    }
    return text;
}

BatchReply echo(const BatchLine& line) {
    return {200,
            {{"text", line.body["prompt"]}, {"usage", {{"prompt_tokens", 2}, {"completion_tokens", 3}}}}};
}

TEST(BatchRunner, AnswersEveryLineOnceAndMalformedOnesWithErrorLines) {
    std::string input = join({line("a", "1"), "", "not json", line("b", "2", "/v1/nope"), line("c", "3"),
                              line("a", "again"), line("d", "4")},
                             /*final_newline=*/false);
    std::istringstream in(input);
    Recorder out;
    std::atomic<bool> stop{false};
    BatchRunner runner([](const BatchLine& l, const std::string&, auto) { return echo(l); }, {});
    BatchCounts counts = runner.run(in, {}, out.writer(), stop);
    EXPECT_EQ(counts.num_lines, 6);
    EXPECT_EQ(counts.num_completed, 3);
    EXPECT_EQ(counts.num_failed, 2);
    EXPECT_EQ(counts.num_duplicates, 1);
    EXPECT_EQ(counts.num_completion_tokens, 9);
    EXPECT_EQ(out.per_key(),
              (std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}, {"line 3", 1}}));
    for (const auto& l : out.lines) {
        if (l["custom_id"] == "a") {
            EXPECT_EQ(l["response"]["body"]["text"], "1");
        }
        if (l["custom_id"] == "b") {
            EXPECT_EQ(l["error"]["code"], "invalid_url");
        }
    }
}

TEST(BatchRunner, SkipsKeysAlreadyAnswered) {
    std::istringstream in(join({line("a", "1"), "broken", line("b", "2")}));
    Recorder out;
    std::atomic<bool> stop{false};
    std::atomic<int> calls{0};
    BatchRunner runner(
        [&](const BatchLine& l, const std::string&, auto) {
            ++calls;
            return echo(l);
        },
        {});
    BatchCounts counts = runner.run(in, {"a", "line 2"}, out.writer(), stop);
    EXPECT_EQ(counts.num_skipped, 2);
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(out.per_key(), (std::map<std::string, int>{{"b", 1}}));
}

TEST(BatchRunner, NeverRunsMoreThanMaxInFlightAndKeepsThemBusy) {
    std::vector<std::string> lines;
    for (int i = 0; i < 40; ++i) lines.push_back(line(request_id(i), std::to_string(i)));
    const std::string input = join(lines);
    std::istringstream in(input);
    Recorder out;
    std::atomic<bool> stop{false};
    std::atomic<int> running{0}, peak{0};
    BatchRunnerOptions options;
    options.max_in_flight = 4;
    BatchRunner runner(
        [&](const BatchLine& l, const std::string&, auto) {
            int now = ++running;
            for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            --running;
            return echo(l);
        },
        options);
    runner.run(in, {}, out.writer(), stop);
    EXPECT_EQ(out.lines.size(), 40u);
    EXPECT_LE(peak.load(), 4);
    EXPECT_GE(peak.load(), 2);
}

TEST(BatchRunner, HandsOutWaitingLinesInPrefixOrder) {
    std::vector<std::string> prompts = {"m", "b", "z", "a", "m2", "c", "b2", "y"};
    std::vector<std::string> lines;
    for (size_t i = 0; i < prompts.size(); ++i) lines.push_back(line(request_id(i), prompts[i]));
    const std::string input = join(lines);
    std::istringstream in(input);
    Recorder out;
    std::atomic<bool> stop{false};
    std::vector<std::string> order;
    BatchRunnerOptions options;
    options.max_in_flight = 1;
    options.reorder_window = 16;
    BatchRunner runner(
        [&](const BatchLine& l, const std::string&, auto) {
            // The first request lasts long enough for the reader to fill the window behind it.
            if (order.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
            order.push_back(l.body["prompt"]);
            return echo(l);
        },
        options);
    runner.run(in, {}, out.writer(), stop);
    ASSERT_EQ(order.size(), prompts.size());
    // Whichever line went first (the worker may wake before or after the reader's next lines), the rest
    // follow in an elevator sweep from it: up through the keys, then around from the smallest.
    std::vector<std::string> sorted(prompts);
    std::sort(sorted.begin(), sorted.end());
    auto first = std::find(sorted.begin(), sorted.end(), order.front());
    std::rotate(sorted.begin(), first, sorted.end());
    EXPECT_EQ(order, sorted);
}

TEST(BatchRunner, RetriesWhileTheEngineIsOverloaded) {
    std::istringstream in(join({line("a", "1")}));
    Recorder out;
    std::atomic<bool> stop{false};
    int calls = 0;
    BatchRunner runner(
        [&](const BatchLine& l, const std::string&, auto) {
            if (++calls < 3) {
                return BatchReply{503, {{"error", {{"message", "busy"}, {"code", "server_overloaded"}}}}};
            }
            return echo(l);
        },
        {});
    BatchCounts counts = runner.run(in, {}, out.writer(), stop);
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(counts.num_completed, 1);
    EXPECT_EQ(out.lines.at(0)["response"]["status_code"], 200);
}

TEST(BatchRunner, StopCancelsInFlightRequestsAndDropsTheirAnswers) {
    std::vector<std::string> lines;
    for (int i = 0; i < 20; ++i) lines.push_back(line(request_id(i), std::to_string(i)));
    const std::string input = join(lines);
    std::atomic<bool> stop{false};
    Recorder first;
    BatchRunnerOptions options;
    options.max_in_flight = 2;
    std::atomic<int> calls{0};
    BatchRunner runner(
        [&](const BatchLine& l, const std::string&, std::shared_ptr<const std::atomic<bool>> cancel) {
            if (++calls == 5) stop = true;
            // A request in flight ends early once cancelled, as an aborted route does.
            for (int i = 0; i < 200 && !cancel->load(); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return echo(l);
        },
        options);
    std::istringstream in(input);
    runner.run(in, {}, first.writer(), stop);
    EXPECT_LT(first.lines.size(), 20u);

    // The rerun, skipping what the first wrote, completes the job with exactly one answer per line.
    std::unordered_set<std::string> done;
    for (const auto& l : first.lines) done.insert(*batch_output_key(l.dump()));
    stop = false;
    calls = 100;
    Recorder second;
    std::istringstream again(input);
    runner.run(again, done, second.writer(), stop);
    std::map<std::string, int> total = first.per_key();
    for (auto& [key, n] : second.per_key()) total[key] += n;
    EXPECT_EQ(total.size(), 20u);
    for (auto& [key, n] : total) EXPECT_EQ(n, 1) << key;
}

TEST(BatchRunner, AWriterFailureStopsTheJobAndIsRethrown) {
    std::vector<std::string> lines;
    for (int i = 0; i < 10; ++i) lines.push_back(line(request_id(i), "x"));
    const std::string input = join(lines);
    std::istringstream in(input);
    std::atomic<bool> stop{false};
    BatchRunner runner([](const BatchLine& l, const std::string&, auto) { return echo(l); }, {});
    EXPECT_THROW(runner.run(
                     in, {}, [](const json&, bool) { throw std::runtime_error("disk full"); }, stop),
                 std::runtime_error);
}

}  // namespace
}  // namespace gptoss
