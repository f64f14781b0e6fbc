#include "server/metrics.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace gptoss {

namespace {

constexpr FinishLabel kAllLabels[] = {FinishLabel::kStop, FinishLabel::kLength, FinishLabel::kToolCalls,
                                      FinishLabel::kAbort, FinishLabel::kError};

// Prometheus label values escape backslash, double quote and newline.
std::string escape_label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

// Go-style float text: integers without a fraction, +Inf/-Inf/NaN spelled as Prometheus expects.
std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);
}

class Exposition {
public:
    explicit Exposition(std::string_view model_name) : model_label_(escape_label(model_name)) {}

    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += fmt::format("# HELP gptoss:{} {}\n# TYPE gptoss:{} {}\n", name, help, name, type);
    }
    // extra_labels: already formatted `key="value"` pairs, or empty.
    void sample(std::string_view name, double value, std::string_view extra_labels = "") {
        out_ += fmt::format("gptoss:{}{{model_name=\"{}\"{}{}}} {}\n", name, model_label_,
                            extra_labels.empty() ? "" : ",", extra_labels, number(value));
    }
    void histogram(std::string_view name, std::string_view help, const Histogram& h) {
        family(name, "histogram", help);
        Histogram::Snapshot s = h.snapshot();
        std::string bucket = fmt::format("{}_bucket", name);
        for (size_t i = 0; i < s.upper_bounds.size(); ++i) {
            sample(bucket, static_cast<double>(s.cumulative_counts[i]),
                   fmt::format("le=\"{}\"", number(s.upper_bounds[i])));
        }
        sample(bucket, static_cast<double>(s.cumulative_counts.back()), "le=\"+Inf\"");
        sample(fmt::format("{}_sum", name), s.sum);
        sample(fmt::format("{}_count", name), static_cast<double>(s.cumulative_counts.back()));
    }
    std::string take() { return std::move(out_); }

private:
    std::string model_label_;
    std::string out_;
};

double usage(int used, int total) {
    return total > 0 ? static_cast<double>(used) / total : 0.0;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), bucket_counts_(upper_bounds_.size() + 1, 0) {
    std::sort(upper_bounds_.begin(), upper_bounds_.end());
}

void Histogram::observe(double value) {
    // Bucket i counts values in (bound[i-1], bound[i]]; the last one everything above.
    size_t i = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
    std::lock_guard lock(mutex_);
    ++bucket_counts_[i];
    sum_ += value;
}

Histogram::Snapshot Histogram::snapshot() const {
    std::lock_guard lock(mutex_);
    Snapshot s;
    s.upper_bounds = upper_bounds_;
    s.cumulative_counts.resize(bucket_counts_.size());
    uint64_t total = 0;
    for (size_t i = 0; i < bucket_counts_.size(); ++i) s.cumulative_counts[i] = total += bucket_counts_[i];
    s.sum = sum_;
    return s;
}

std::string_view finish_label_name(FinishLabel label) {
    switch (label) {
        case FinishLabel::kStop:
            return "stop";
        case FinishLabel::kLength:
            return "length";
        case FinishLabel::kToolCalls:
            return "tool_calls";
        case FinishLabel::kAbort:
            return "abort";
        case FinishLabel::kError:
            return "error";
    }
    return "error";
}

ServerMetrics::ServerMetrics()
    : time_to_first_token({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25,  0.5,  0.75,
                           1.0,   2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 640.0}),
      inter_token_latency({0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05,
                           0.075, 0.1,    0.15,  0.2,    0.3,  0.5,   0.75, 1.0,   2.5,  5.0,  10.0}),
      e2e_request_latency({0.1,  0.3,  0.5,  0.8,  1.0,  1.5,   2.0,   2.5,   5.0,   10.0,
                           15.0, 20.0, 30.0, 40.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0}) {}

void ServerMetrics::count_finished(FinishLabel label) {
    std::lock_guard lock(mutex_);
    ++finished_[static_cast<size_t>(label)];
}

uint64_t ServerMetrics::finished(FinishLabel label) const {
    std::lock_guard lock(mutex_);
    return finished_[static_cast<size_t>(label)];
}

std::string ServerMetrics::render(std::string_view model_name,
                                  const std::optional<EngineStats>& stats) const {
    EngineStats s = stats.value_or(EngineStats{});
    Exposition e(model_name);

    e.family("num_requests_running", "gauge", "Requests in the running batch.");
    e.sample("num_requests_running", s.num_running);
    e.family("num_requests_waiting", "gauge", "Requests waiting to be scheduled.");
    e.sample("num_requests_waiting", s.num_waiting);

    // The pool closest to full is what limits admission, so the unlabeled usage is the larger of the two.
    double full = usage(s.num_full_blocks_used, s.num_full_blocks);
    double window = usage(s.num_window_blocks_used, s.num_window_blocks);
    e.family("kv_cache_usage_perc", "gauge", "KV cache usage, 0 to 1 (the fuller of the two page pools).");
    e.sample("kv_cache_usage_perc", std::max(full, window));
    e.family("kv_cache_pool_usage_perc", "gauge", "KV cache usage per page pool, 0 to 1.");
    e.sample("kv_cache_pool_usage_perc", full, "pool=\"full\"");
    e.sample("kv_cache_pool_usage_perc", window, "pool=\"window\"");
    e.family("kv_cache_blocks_used", "gauge", "KV cache pages in use per pool.");
    e.sample("kv_cache_blocks_used", s.num_full_blocks_used, "pool=\"full\"");
    e.sample("kv_cache_blocks_used", s.num_window_blocks_used, "pool=\"window\"");
    e.family("kv_cache_num_blocks", "gauge", "KV cache pages per pool.");
    e.sample("kv_cache_num_blocks", s.num_full_blocks, "pool=\"full\"");
    e.sample("kv_cache_num_blocks", s.num_window_blocks, "pool=\"window\"");

    e.family("prompt_tokens_total", "counter", "Prompt tokens computed (prefix-cache hits excluded).");
    e.sample("prompt_tokens_total", static_cast<double>(s.prompt_tokens_total));
    e.family("generation_tokens_total", "counter", "Generated tokens.");
    e.sample("generation_tokens_total", static_cast<double>(s.generation_tokens_total));
    e.family("prefix_cache_queries_total", "counter", "Prompt tokens looked up in the prefix cache.");
    e.sample("prefix_cache_queries_total", static_cast<double>(s.prefix_cache_queries));
    e.family("prefix_cache_hits_total", "counter", "Prompt tokens found in the prefix cache.");
    e.sample("prefix_cache_hits_total", static_cast<double>(s.prefix_cache_hits));
    e.family("num_preemptions_total", "counter", "Sequences preempted for lack of KV pages.");
    e.sample("num_preemptions_total", static_cast<double>(s.num_preemptions));
    e.family("engine_steps_total", "counter", "Engine steps run.");
    e.sample("engine_steps_total", static_cast<double>(s.num_steps));
    e.family("spec_decode_num_draft_tokens_total", "counter",
             "Draft tokens verified (speculative decoding).");
    e.sample("spec_decode_num_draft_tokens_total", static_cast<double>(s.spec_draft_tokens_total));
    e.family("spec_decode_num_accepted_tokens_total", "counter", "Draft tokens accepted.");
    e.sample("spec_decode_num_accepted_tokens_total", static_cast<double>(s.spec_accepted_tokens_total));

    e.family("request_success_total", "counter", "Finished requests (choices) by finish reason.");
    for (FinishLabel label : kAllLabels) {
        e.sample("request_success_total", static_cast<double>(finished(label)),
                 fmt::format("finished_reason=\"{}\"", finish_label_name(label)));
    }

    e.histogram("time_to_first_token_seconds", "Time from request arrival to the first generated token.",
                time_to_first_token);
    e.histogram("inter_token_latency_seconds", "Time between consecutive token deliveries of one choice.",
                inter_token_latency);
    e.histogram("e2e_request_latency_seconds", "Time from request arrival to its last token.",
                e2e_request_latency);
    return e.take();
}

}  // namespace gptoss
