#include "server/batch_app.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/engine.h"
#include "server/batch_call.h"
#include "server/batch_output_file.h"
#include "server/batch_runner.h"
#include "server/server_state.h"
#include "server/serving_model_loader.h"

namespace gptoss {

namespace {

using Clock = std::chrono::steady_clock;

// A log line this often when standard error is not a terminal.
constexpr std::chrono::seconds kLogInterval{10};

// Non-blank lines of a regular file (one streaming pass), for the ETA; nullopt for a pipe.
std::optional<int64_t> count_lines(const std::string& path) {
    if (path == "-" || !std::filesystem::is_regular_file(path)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line)) n += line.find_first_not_of(" \t\r") != std::string::npos;
    return n;
}

std::string duration_text(double seconds) {
    auto s = static_cast<int64_t>(seconds);
    if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
    if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

// Progress: "\r"-rewritten on a terminal, a log line otherwise. Rates count this run's work only.
class ProgressReport {
public:
    ProgressReport(std::optional<int64_t> total, bool terminal) : total_(total), terminal_(terminal) {}

    void update(const BatchCounts& c, bool final) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
        if (!terminal_ && !final && Clock::now() - last_log_ < kLogInterval) return;
        last_log_ = Clock::now();
        const int64_t answered = c.num_completed + c.num_failed;
        const int64_t finished = answered + c.num_skipped + c.num_duplicates;
        const double requests_per_s = elapsed > 0 ? answered / elapsed : 0;
        const double tokens_per_s = elapsed > 0 ? c.num_completion_tokens / elapsed : 0;
        std::string position = total_ ? fmt::format("{}/{}", finished, *total_) : fmt::format("{}", finished);
        std::string eta;
        if (total_ && requests_per_s > 0 && !final) {
            eta = " ETA " + duration_text(std::max<int64_t>(0, *total_ - finished) / requests_per_s);
        }
        std::string text =
            fmt::format("{} lines  {} ok  {} failed  {} skipped  {:.2f} req/s  {:.1f} output tok/s  {}{}",
                        position, c.num_completed, c.num_failed, c.num_skipped, requests_per_s, tokens_per_s,
                        duration_text(elapsed), eta);
        if (terminal_) {
            std::fprintf(stderr, "\r\033[K%s%s", text.c_str(), final ? "\n" : "");
            std::fflush(stderr);
        } else {
            spdlog::info("batch {}: {}", final ? "done" : "progress", text);
        }
    }

private:
    std::optional<int64_t> total_;
    bool terminal_;
    Clock::time_point start_ = Clock::now();
    Clock::time_point last_log_ = Clock::now();
};

}  // namespace

int run_batch(const RunBatchConfig& config, const std::filesystem::path& demo_model_dir,
              const RunnerFactory& make_runner) {
    if (config.output.empty()) throw std::invalid_argument("run-batch: --output is required");
    std::ifstream input_file;
    if (config.input != "-") {
        input_file.open(config.input, std::ios::binary);
        if (!input_file)
            throw std::runtime_error(fmt::format("run-batch: cannot read --input '{}'", config.input));
    }
    std::istream& input = config.input == "-" ? std::cin : input_file;
    BatchOutputFile output =
        config.output == "-" ? BatchOutputFile::standard_output() : BatchOutputFile::open(config.output);
    if (!output.done_keys().empty()) {
        spdlog::info("run-batch: resuming; {} answered lines in {} are skipped", output.done_keys().size(),
                     config.output);
    }
    const std::optional<int64_t> total = count_lines(config.input);

    ResolvedModel resolved =
        resolve_model(config.server.model, demo_model_dir, HfCacheEnvironment::from_process());
    HttpServerOptions options = http_server_options(config.server, resolved);
    options.batch_dir.clear();  // no Batch API here
    ServerState state(std::move(options));
    state.set_model(load_serving_model(resolved, config.server, make_runner));
    const EngineConfig& engine = config.server.engine;
    // Enough to keep every slot busy and the next requests queued; never more than the engine accepts.
    const int room = engine.max_num_seqs + engine.max_queued_requests;
    const int max_in_flight =
        std::min(room, config.max_in_flight > 0
                           ? config.max_in_flight
                           : engine.max_num_seqs + std::min(engine.max_num_seqs, engine.max_queued_requests));

    BatchRunnerOptions runner_options;
    runner_options.max_in_flight = max_in_flight;
    BatchRunner runner(
        [&state](const BatchLine& line, const std::string& request_id,
                 std::shared_ptr<const std::atomic<bool>> cancel) {
            return call_batch_line(state, line, request_id, std::move(cancel));
        },
        runner_options);
    ProgressReport progress(total, isatty(fileno(stderr)) != 0);
    std::atomic<bool> stop{false};
    BatchCounts counts = runner.run(
        input, output.done_keys(), [&output](const nlohmann::json& line, bool) { output.append(line); }, stop,
        [&progress](const BatchCounts& c) { progress.update(c, false); });
    progress.update(counts, true);
    return 0;
}

}  // namespace gptoss
