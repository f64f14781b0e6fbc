// One streamed OpenAI request and its timings: sends the body, parses the SSE stream as it arrives, stamps
// every chunk that carries output, and reads the final usage chunk (stream_options.include_usage).
#pragma once

#include <chrono>
#include <string>

#include <httplib.h>

#include "tools/serve_bench/serving_metrics.h"

namespace gptoss::serve_bench {

using Clock = std::chrono::steady_clock;

enum class EndpointKind { kCompletions, kChat };

struct BenchRequest {
    std::string body;  // JSON, with "stream": true
    int prompt_tokens = 0;
    int expected_output_tokens = 0;
};

// `client` is this worker's connection (kept alive between its requests).
RequestSample send_streamed(httplib::Client& client, EndpointKind kind, const std::string& api_key,
                            const BenchRequest& request, Clock::time_point run_start);

}  // namespace gptoss::serve_bench
