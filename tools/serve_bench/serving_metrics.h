// What one benchmark run measured: a sample per request, and the summary vLLM's `bench serve` prints, with
// its definitions (../shared/docs/serving-notes.md): TTFT = send -> first streamed token; TPOT = (E2E -
// TTFT) / (output tokens - 1) per request; ITL = every gap between streamed chunks, pooled over requests;
// E2E = send -> last byte. Percentiles interpolate linearly between order statistics (numpy's default).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gptoss::serve_bench {

struct RequestSample {
    bool success = false;
    std::string error;      // why it failed (HTTP status and body, or the stream's error object)
    int prompt_tokens = 0;  // the server's usage, else the dataset's count
    int output_tokens = 0;  // the server's usage, else the streamed token count
    int expected_output_tokens = 0;
    double start_s = 0.0;  // send time, from the start of the run
    double ttft_s = 0.0;
    double latency_s = 0.0;     // E2E
    std::vector<double> itl_s;  // gaps between consecutive streamed chunks
};

struct Distribution {
    double mean = 0.0, p50 = 0.0, p90 = 0.0, p99 = 0.0;
    size_t count = 0;
};

// values need not be sorted; an empty set gives zeros.
Distribution distribution(std::vector<double> values);
double percentile(const std::vector<double>& sorted, double q);  // q in [0, 100]

struct RunMetrics {
    int max_concurrency = 0;  // 0: unlimited
    double request_rate = 0;  // requests/s; infinity: all at once
    double duration_s = 0.0;
    int completed = 0, failed = 0;
    int output_length_mismatches = 0;  // successes whose output tokens != expected (checked with ignore_eos)
    long total_input_tokens = 0, total_output_tokens = 0;
    double request_throughput = 0.0, output_throughput = 0.0, total_token_throughput = 0.0;
    Distribution ttft_ms, tpot_ms, itl_ms, e2e_ms;
    double client_cpu_ms_per_request = 0.0;  // the benchmark process's CPU time / requests
    std::vector<std::string> first_errors;   // up to 5
};

RunMetrics summarize(const std::vector<RequestSample>& samples, double duration_s, bool check_output_length);

nlohmann::json to_json(const Distribution& d);
nlohmann::json to_json(const RunMetrics& m);
nlohmann::json to_json(const RequestSample& s);

// The table vLLM prints after a run, one metric a line.
std::string format_summary(const RunMetrics& m);

}  // namespace gptoss::serve_bench
