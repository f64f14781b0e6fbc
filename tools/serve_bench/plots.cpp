#include "tools/serve_bench/plots.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace gptoss::serve_bench {

namespace {

std::string run_label(const RunMetrics& m) {
    return m.max_concurrency > 0 ? fmt::format("concurrency {}", m.max_concurrency) : "unlimited";
}

// "value fraction" lines of one run's empirical CDF.
void write_cdf(const std::filesystem::path& file, std::vector<double> values) {
    std::sort(values.begin(), values.end());
    std::ofstream out(file);
    for (size_t i = 0; i < values.size(); ++i) {
        out << fmt::format("{} {}\n", values[i], static_cast<double>(i + 1) / values.size());
    }
}

}  // namespace

void write_plots(const std::filesystem::path& dir, const std::vector<PlottedRun>& runs) {
    std::filesystem::create_directories(dir);
    {
        std::ofstream out(dir / "throughput.dat");
        out << "# max_concurrency output_tok_per_s total_tok_per_s\n";
        for (const PlottedRun& r : runs) {
            const size_t concurrency =
                r.metrics.max_concurrency > 0 ? r.metrics.max_concurrency : r.samples.size();
            out << fmt::format("{} {} {}\n", concurrency, r.metrics.output_throughput,
                               r.metrics.total_token_throughput);
        }
    }
    std::string ttft_plot, tpot_plot;
    for (size_t i = 0; i < runs.size(); ++i) {
        std::vector<double> ttft, tpot;
        for (const RequestSample& s : runs[i].samples) {
            if (!s.success) continue;
            ttft.push_back(1e3 * s.ttft_s);
            if (s.output_tokens > 1) tpot.push_back(1e3 * (s.latency_s - s.ttft_s) / (s.output_tokens - 1));
        }
        write_cdf(dir / fmt::format("ttft_{}.dat", i), ttft);
        write_cdf(dir / fmt::format("tpot_{}.dat", i), tpot);
        const std::string sep = i ? ", " : "";
        const std::string label = run_label(runs[i].metrics);
        ttft_plot += fmt::format("{}'ttft_{}.dat' using 1:2 with steps title '{}'", sep, i, label);
        tpot_plot += fmt::format("{}'tpot_{}.dat' using 1:2 with steps title '{}'", sep, i, label);
    }
    std::ofstream script(dir / "plots.gnuplot");
    script << "set terminal pngcairo size 900,600\nset grid\nset key bottom right\n"
           << "set output 'throughput.png'\nset title 'Output throughput'\nset xlabel 'max concurrency'\n"
           << "set ylabel 'output tokens/s'\nset logscale x 2\n"
           << "plot 'throughput.dat' using 1:2 with linespoints title 'output tok/s'\nunset logscale x\n"
           << "set yrange [0:1]\nset ylabel 'fraction of requests'\n"
           << "set output 'ttft_cdf.png'\nset title 'Time to first token (CDF)'\nset xlabel 'TTFT (ms)'\n"
           << "plot " << ttft_plot << "\n"
           << "set output 'tpot_cdf.png'\nset title 'Time per output token (CDF)'\nset xlabel 'TPOT (ms)'\n"
           << "plot " << tpot_plot << "\n";
    script.close();
    const std::string command =
        fmt::format("cd '{}' && gnuplot plots.gnuplot", std::filesystem::absolute(dir).string());
    if (std::system(command.c_str()) != 0) {
        throw std::runtime_error(
            fmt::format("gnuplot failed in {} (is the gnuplot package installed?)", dir.string()));
    }
}

}  // namespace gptoss::serve_bench
