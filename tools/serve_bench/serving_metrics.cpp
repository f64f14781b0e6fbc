#include "tools/serve_bench/serving_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace gptoss::serve_bench {

double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0.0;
    const double rank = q / 100.0 * static_cast<double>(sorted.size() - 1);
    const size_t below = static_cast<size_t>(std::floor(rank));
    const size_t above = std::min(below + 1, sorted.size() - 1);
    const double frac = rank - static_cast<double>(below);
    return sorted[below] + (sorted[above] - sorted[below]) * frac;
}

Distribution distribution(std::vector<double> values) {
    Distribution d;
    d.count = values.size();
    if (values.empty()) return d;
    std::sort(values.begin(), values.end());
    d.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    d.p50 = percentile(values, 50);
    d.p90 = percentile(values, 90);
    d.p99 = percentile(values, 99);
    return d;
}

RunMetrics summarize(const std::vector<RequestSample>& samples, double duration_s, bool check_output_length) {
    RunMetrics m;
    m.duration_s = duration_s;
    std::vector<double> ttft, tpot, itl, e2e;
    for (const RequestSample& s : samples) {
        if (!s.success) {
            ++m.failed;
            if (m.first_errors.size() < 5) m.first_errors.push_back(s.error);
            continue;
        }
        ++m.completed;
        m.total_input_tokens += s.prompt_tokens;
        m.total_output_tokens += s.output_tokens;
        if (check_output_length && s.output_tokens != s.expected_output_tokens) ++m.output_length_mismatches;
        ttft.push_back(1e3 * s.ttft_s);
        e2e.push_back(1e3 * s.latency_s);
        if (s.output_tokens > 1) tpot.push_back(1e3 * (s.latency_s - s.ttft_s) / (s.output_tokens - 1));
        for (double gap : s.itl_s) itl.push_back(1e3 * gap);
    }
    if (duration_s > 0) {
        m.request_throughput = m.completed / duration_s;
        m.output_throughput = static_cast<double>(m.total_output_tokens) / duration_s;
        m.total_token_throughput =
            static_cast<double>(m.total_input_tokens + m.total_output_tokens) / duration_s;
    }
    m.ttft_ms = distribution(std::move(ttft));
    m.tpot_ms = distribution(std::move(tpot));
    m.itl_ms = distribution(std::move(itl));
    m.e2e_ms = distribution(std::move(e2e));
    return m;
}

nlohmann::json to_json(const Distribution& d) {
    return {{"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99}, {"count", d.count}};
}

nlohmann::json to_json(const RunMetrics& m) {
    return {
        {"max_concurrency", m.max_concurrency},
        {"request_rate", std::isinf(m.request_rate) ? nlohmann::json("inf") : nlohmann::json(m.request_rate)},
        {"duration_s", m.duration_s},
        {"completed", m.completed},
        {"failed", m.failed},
        {"output_length_mismatches", m.output_length_mismatches},
        {"total_input_tokens", m.total_input_tokens},
        {"total_output_tokens", m.total_output_tokens},
        {"request_throughput", m.request_throughput},
        {"output_throughput", m.output_throughput},
        {"total_token_throughput", m.total_token_throughput},
        {"ttft_ms", to_json(m.ttft_ms)},
        {"tpot_ms", to_json(m.tpot_ms)},
        {"itl_ms", to_json(m.itl_ms)},
        {"e2e_ms", to_json(m.e2e_ms)},
        {"client_cpu_ms_per_request", m.client_cpu_ms_per_request},
        {"first_errors", m.first_errors}};
}

nlohmann::json to_json(const RequestSample& s) {
    return {{"success", s.success},
            {"error", s.error},
            {"prompt_tokens", s.prompt_tokens},
            {"output_tokens", s.output_tokens},
            {"start_s", s.start_s},
            {"ttft_s", s.ttft_s},
            {"latency_s", s.latency_s},
            {"itl_s", s.itl_s}};
}

std::string format_summary(const RunMetrics& m) {
    std::string out = fmt::format("{:=^60}\n", " Serving Benchmark Result ");
    auto line = [&](std::string_view name, auto value) { out += fmt::format("{:<44}{:>16}\n", name, value); };
    auto real = [&](std::string_view name, double value) { line(name, fmt::format("{:.2f}", value)); };
    line("Max concurrency:", m.max_concurrency > 0 ? fmt::format("{}", m.max_concurrency) : "unlimited");
    line("Request rate (req/s):", std::isinf(m.request_rate) ? "inf" : fmt::format("{:.2f}", m.request_rate));
    line("Successful requests:", m.completed);
    line("Failed requests:", m.failed);
    if (m.output_length_mismatches > 0) line("Output length != --output-len:", m.output_length_mismatches);
    real("Benchmark duration (s):", m.duration_s);
    line("Total input tokens:", m.total_input_tokens);
    line("Total generated tokens:", m.total_output_tokens);
    real("Request throughput (req/s):", m.request_throughput);
    real("Output token throughput (tok/s):", m.output_throughput);
    real("Total token throughput (tok/s):", m.total_token_throughput);
    real("Client CPU time per request (ms):", m.client_cpu_ms_per_request);
    const std::pair<std::string_view, const Distribution*> rows[] = {
        {"Time to First Token", &m.ttft_ms},
        {"Time per Output Token (excl. 1st token)", &m.tpot_ms},
        {"Inter-token Latency", &m.itl_ms},
        {"End-to-end Latency", &m.e2e_ms}};
    const std::string_view shorts[] = {"TTFT", "TPOT", "ITL", "E2EL"};
    for (size_t i = 0; i < std::size(rows); ++i) {
        out += fmt::format("{:-^60}\n", fmt::format(" {} ", rows[i].first));
        const Distribution& d = *rows[i].second;
        real(fmt::format("Mean {} (ms):", shorts[i]), d.mean);
        real(fmt::format("Median {} (ms):", shorts[i]), d.p50);
        real(fmt::format("P90 {} (ms):", shorts[i]), d.p90);
        real(fmt::format("P99 {} (ms):", shorts[i]), d.p99);
    }
    for (const std::string& e : m.first_errors) out += fmt::format("error: {}\n", e);
    out += std::string(60, '=') + "\n";
    return out;
}

}  // namespace gptoss::serve_bench
