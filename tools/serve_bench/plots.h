// PNG plots of a benchmark (gnuplot, run as a child process): output tokens/s against max concurrency over
// a sweep, and the TTFT and TPOT distributions (CDFs) of every run. The data files and the gnuplot script
// stay beside the images so a plot can be redrawn by hand.
#pragma once

#include <filesystem>
#include <vector>

#include "tools/serve_bench/serving_metrics.h"

namespace gptoss::serve_bench {

struct PlottedRun {
    RunMetrics metrics;
    std::vector<RequestSample> samples;
};

// Throws when gnuplot is missing or fails.
void write_plots(const std::filesystem::path& dir, const std::vector<PlottedRun>& runs);

}  // namespace gptoss::serve_bench
