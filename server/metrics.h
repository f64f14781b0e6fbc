// Server metrics and their Prometheus text exposition (format 0.0.4), written by hand.
//
// Names mirror vLLM's with the `gptoss:` prefix so existing dashboards need only a prefix change:
// latency histograms measured here (time to first token, inter-token latency = gap between streamed
// chunks, end-to-end latency), request outcomes by finish reason, and engine gauges/counters read from
// EngineStats at scrape time (running/waiting requests, KV usage per pool, token and prefix-cache counters,
// preemptions). Every sample carries model_name="...".
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"

namespace gptoss {

// A cumulative histogram with fixed upper bounds (plus the implicit +Inf bucket). Thread-safe.
class Histogram {
public:
    explicit Histogram(std::vector<double> upper_bounds);
    void observe(double value);

    struct Snapshot {
        std::vector<double> upper_bounds;
        std::vector<uint64_t> cumulative_counts;  // [upper_bounds.size() + 1]; the last is +Inf (= count)
        double sum = 0.0;
    };
    Snapshot snapshot() const;

private:
    mutable std::mutex mutex_;
    std::vector<double> upper_bounds_;
    std::vector<uint64_t> bucket_counts_;  // [upper_bounds.size() + 1], not cumulative
    double sum_ = 0.0;
};

// How a request ended, as counted by request_success_total{finished_reason=...}.
enum class FinishLabel { kStop, kLength, kToolCalls, kAbort, kError };
std::string_view finish_label_name(FinishLabel label);

class ServerMetrics {
public:
    ServerMetrics();

    Histogram time_to_first_token;  // seconds, request arrival -> first generated token
    Histogram inter_token_latency;  // seconds between consecutive token events of one choice
    Histogram e2e_request_latency;  // seconds, request arrival -> last token

    void count_finished(FinishLabel label);
    uint64_t finished(FinishLabel label) const;

    // The whole exposition. stats: the engine's snapshot, absent while the model loads.
    std::string render(std::string_view model_name, const std::optional<EngineStats>& stats) const;

private:
    mutable std::mutex mutex_;
    std::array<uint64_t, 5> finished_{};
};

}  // namespace gptoss
