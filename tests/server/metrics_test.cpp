#include "server/metrics.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/support/fixture.h"

namespace gptoss {
namespace {

TEST(Histogram, CumulativeBucketsAndSum) {
    Histogram h({0.1, 1.0, 0.5});  // unsorted on purpose
    for (double v : {0.05, 0.1, 0.3, 0.7, 2.0}) h.observe(v);
    Histogram::Snapshot s = h.snapshot();
    EXPECT_EQ(s.upper_bounds, (std::vector<double>{0.1, 0.5, 1.0}));
    // le=0.1 holds 0.05 and 0.1 (upper bounds are inclusive).
    EXPECT_EQ(s.cumulative_counts, (std::vector<uint64_t>{2, 3, 4, 5}));
    EXPECT_DOUBLE_EQ(s.sum, 3.15);
}

EngineStats sample_stats() {
    EngineStats s;
    s.num_running = 3;
    s.num_waiting = 2;
    s.num_full_blocks = 100;
    s.num_full_blocks_used = 25;
    s.num_window_blocks = 40;
    s.num_window_blocks_used = 20;
    s.prefix_cache_queries = 1000;
    s.prefix_cache_hits = 600;
    s.num_preemptions = 4;
    s.prompt_tokens_total = 1234;
    s.generation_tokens_total = 567;
    s.num_steps = 89;
    return s;
}

void fill_sample(ServerMetrics& m) {
    m.time_to_first_token.observe(0.02);
    m.inter_token_latency.observe(0.004);
    m.e2e_request_latency.observe(1.2);
    m.count_finished(FinishLabel::kStop);
    m.count_finished(FinishLabel::kToolCalls);
    m.count_finished(FinishLabel::kToolCalls);
}

TEST(ServerMetrics, ExpositionHasVllmNamesWithPrefix) {
    ServerMetrics m;
    fill_sample(m);
    std::string text = m.render("toy \"model\"", sample_stats());
    for (const char* line : {
             "gptoss:num_requests_running{model_name=\"toy \\\"model\\\"\"} 3\n",
             "gptoss:num_requests_waiting{model_name=\"toy \\\"model\\\"\"} 2\n",
             "gptoss:kv_cache_usage_perc{model_name=\"toy \\\"model\\\"\"} 0.5\n",
             "gptoss:kv_cache_pool_usage_perc{model_name=\"toy \\\"model\\\"\",pool=\"full\"} 0.25\n",
             "gptoss:kv_cache_blocks_used{model_name=\"toy \\\"model\\\"\",pool=\"window\"} 20\n",
             "gptoss:prompt_tokens_total{model_name=\"toy \\\"model\\\"\"} 1234\n",
             "gptoss:generation_tokens_total{model_name=\"toy \\\"model\\\"\"} 567\n",
             "gptoss:prefix_cache_hits_total{model_name=\"toy \\\"model\\\"\"} 600\n",
             "gptoss:prefix_cache_queries_total{model_name=\"toy \\\"model\\\"\"} 1000\n",
             "gptoss:num_preemptions_total{model_name=\"toy \\\"model\\\"\"} 4\n",
             "gptoss:request_success_total{model_name=\"toy \\\"model\\\"\",finished_reason=\"tool_calls\"} "
             "2\n",
             "gptoss:time_to_first_token_seconds_bucket{model_name=\"toy \\\"model\\\"\",le=\"0.02\"} 1\n",
             "gptoss:time_to_first_token_seconds_count{model_name=\"toy \\\"model\\\"\"} 1\n",
             "gptoss:inter_token_latency_seconds_bucket{model_name=\"toy \\\"model\\\"\",le=\"+Inf\"} 1\n",
             "gptoss:e2e_request_latency_seconds_sum{model_name=\"toy \\\"model\\\"\"} 1.2\n",
             "# TYPE gptoss:e2e_request_latency_seconds histogram\n",
         }) {
        EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "\n" << text;
    }
}

TEST(ServerMetrics, LoadingServerExportsZeros) {
    std::string text = ServerMetrics().render("m", std::nullopt);
    EXPECT_NE(text.find("gptoss:kv_cache_usage_perc{model_name=\"m\"} 0\n"), std::string::npos) << text;
}

// promtool parses the exposition and lints it. Its only complaint may be the ':' in the names, which is
// deliberate: vLLM's names use the same `prefix:` form and dashboards expect it.
TEST(ServerMetrics, PromtoolAcceptsTheExposition) {
    if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed";
    for (const auto& stats : {std::optional<EngineStats>(sample_stats()), std::optional<EngineStats>()}) {
        ServerMetrics m;
        fill_sample(m);
        std::string text = m.render("toy-harmony", stats);
        int exit_code = -1;
        std::string out = testing::run_command("promtool check metrics 2>&1", text, &exit_code);
        EXPECT_TRUE(exit_code == 0 || exit_code == 3) << out;
        std::istringstream lines(out);
        std::string line;
        int num_problems = 0;
        while (std::getline(lines, line)) {
            if (line.empty()) continue;
            ++num_problems;
            EXPECT_NE(line.find("metric names should not contain ':'"), std::string::npos) << line;
        }
        EXPECT_GT(num_problems, 10);  // one per family: promtool really read them
    }
}

TEST(ServerMetrics, PromtoolRejectsBrokenText) {
    if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed";
    int exit_code = -1;
    testing::run_command("promtool check metrics 2>&1", "gptoss:x{model_name=\"a\" 1\n", &exit_code);
    EXPECT_EQ(exit_code, 1);  // the test above would catch a real format error
}

}  // namespace
}  // namespace gptoss
