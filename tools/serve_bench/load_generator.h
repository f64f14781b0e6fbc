// Runs a list of requests against a server as `vllm bench serve` does: arrivals at `request_rate` (Poisson
// gaps; infinity sends them all at once), at most `max_concurrency` in flight (0: no limit). One worker
// thread per in-flight slot (at most 4096), each with its own kept-alive connection; a request starts at
// max(its arrival, a free slot). Progress goes to a bar on a terminal, else to an info log line every 10 s.
#pragma once

#include <string>
#include <vector>

#include "tools/serve_bench/streamed_request.h"

namespace gptoss::serve_bench {

struct LoadOptions {
    std::string host = "127.0.0.1";
    int port = 8000;
    std::string api_key;
    EndpointKind endpoint = EndpointKind::kCompletions;
    int max_concurrency = 0;
    double request_rate = 0;  // requests/s; infinity for all at once
    uint64_t seed = 0;        // of the arrival times
    double timeout_s = 600;   // per request (read timeout)
};

struct LoadResult {
    std::vector<RequestSample> samples;  // in request order
    double duration_s = 0.0;
    double client_cpu_s = 0.0;  // CPU time of this process during the run
};

LoadResult run_load(const std::vector<BenchRequest>& requests, const LoadOptions& options);

}  // namespace gptoss::serve_bench
