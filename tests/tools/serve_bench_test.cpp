// The pieces of gptoss bench serve that need no server: SSE framing across arbitrary splits, vLLM's metric
// definitions and percentiles, and the random dataset's exact lengths.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/serve_bench/bench_dataset.h"
#include "tools/serve_bench/serving_metrics.h"
#include "tools/serve_bench/sse_parser.h"

namespace gptoss::serve_bench {
namespace {

TEST(SseParser, EventsSurviveEverySplitPoint) {
    const std::string stream =
        ": keep-alive\n\ndata: {\"a\": 1}\n\nevent: x\ndata: line one\ndata: line two\n\r\ndata: [DONE]\n\n";
    const std::vector<std::string> expected = {"{\"a\": 1}", "line one\nline two", "[DONE]"};
    for (size_t split = 0; split <= stream.size(); ++split) {
        std::vector<std::string> events;
        SseParser parser([&](std::string_view data) { events.emplace_back(data); });
        parser.feed(std::string_view(stream).substr(0, split));
        parser.feed(std::string_view(stream).substr(split));
        EXPECT_EQ(events, expected) << "split at " << split;
    }
}

TEST(SseParser, AnIncompleteEventIsNotDelivered) {
    int events = 0;
    SseParser parser([&](std::string_view) { ++events; });
    parser.feed("data: {\"partial\": true}\n");
    EXPECT_EQ(events, 0);
    parser.feed("\n");
    EXPECT_EQ(events, 1);
}

TEST(ServingMetrics, PercentilesInterpolateLikeNumpy) {
    const std::vector<double> sorted = {1, 2, 3, 4};
    EXPECT_DOUBLE_EQ(percentile(sorted, 50), 2.5);
    EXPECT_DOUBLE_EQ(percentile(sorted, 90), 3.7);
    EXPECT_DOUBLE_EQ(percentile(sorted, 0), 1);
    EXPECT_DOUBLE_EQ(percentile(sorted, 100), 4);
    const Distribution d = distribution({4, 1, 3, 2});
    EXPECT_DOUBLE_EQ(d.mean, 2.5);
    EXPECT_DOUBLE_EQ(d.p99, 3.97);
    EXPECT_EQ(distribution({}).count, 0u);
}

TEST(ServingMetrics, VllmDefinitions) {
    RequestSample a;
    a.success = true;
    a.prompt_tokens = 10;
    a.output_tokens = 5;
    a.expected_output_tokens = 5;
    a.ttft_s = 0.1;
    a.latency_s = 0.5;  // TPOT = (0.5 - 0.1) / 4 = 100 ms
    a.itl_s = {0.1, 0.1, 0.1, 0.1};
    RequestSample b = a;
    b.output_tokens = 3;  // short: a mismatch when checked; TPOT = 0.4 / 2 = 200 ms
    b.itl_s = {0.2, 0.2};
    RequestSample failed;
    failed.error = "HTTP 500: boom";
    const RunMetrics m = summarize({a, b, failed}, 2.0, /*check_output_length=*/true);
    EXPECT_EQ(m.completed, 2);
    EXPECT_EQ(m.failed, 1);
    EXPECT_EQ(m.first_errors, std::vector<std::string>{"HTTP 500: boom"});
    EXPECT_EQ(m.output_length_mismatches, 1);
    EXPECT_EQ(m.total_input_tokens, 20);
    EXPECT_EQ(m.total_output_tokens, 8);
    EXPECT_DOUBLE_EQ(m.request_throughput, 1.0);
    EXPECT_DOUBLE_EQ(m.output_throughput, 4.0);
    EXPECT_DOUBLE_EQ(m.total_token_throughput, 14.0);
    EXPECT_NEAR(m.tpot_ms.mean, 150.0, 1e-9);
    EXPECT_EQ(m.itl_ms.count, 6u);
    EXPECT_NEAR(m.itl_ms.mean, 1e3 * (0.4 + 0.4) / 6, 1e-9);
    EXPECT_NEAR(m.ttft_ms.p50, 100.0, 1e-9);
    EXPECT_NEAR(m.e2e_ms.mean, 500.0, 1e-9);
    EXPECT_EQ(summarize({a, b}, 1.0, false).output_length_mismatches, 0);
}

TEST(BenchDataset, RandomPromptsHaveTheirLengthsInOrdinaryTokens) {
    const auto fixed = random_dataset({.num_prompts = 20, .input_len = 32, .output_len = 8, .seed = 3});
    ASSERT_EQ(fixed.size(), 20u);
    for (const DatasetPrompt& p : fixed) {
        EXPECT_EQ(p.prompt_tokens, 32);
        EXPECT_EQ(p.token_ids.size(), 32u);
        EXPECT_EQ(p.output_tokens, 8);
        for (int32_t t : p.token_ids) EXPECT_TRUE(t >= 0 && t < kOrdinaryVocab);
    }
    EXPECT_NE(fixed[0].token_ids, fixed[1].token_ids);
    const auto ranged =
        random_dataset({.num_prompts = 200, .input_len = 100, .output_len = 10, .range_ratio = 0.5});
    int shortest = 1000, longest = 0;
    for (const DatasetPrompt& p : ranged) {
        shortest = std::min(shortest, p.prompt_tokens);
        longest = std::max(longest, p.prompt_tokens);
        EXPECT_EQ(static_cast<int>(p.token_ids.size()), p.prompt_tokens);
        EXPECT_TRUE(p.output_tokens >= 5 && p.output_tokens <= 15);
    }
    EXPECT_GE(shortest, 50);
    EXPECT_LE(longest, 150);
    EXPECT_LT(shortest, 60);
    EXPECT_GT(longest, 140);
}

}  // namespace
}  // namespace gptoss::serve_bench
