#include "tools/serve_bench/load_generator.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace gptoss::serve_bench {

namespace {

constexpr size_t kMaxWorkers = 4096;  // threads; far above any server's running batch

double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Arrival offsets (s) of each request: cumulative exponential gaps of mean 1 / rate.
std::vector<double> arrival_times(size_t count, double rate, uint64_t seed) {
    std::vector<double> at(count, 0.0);
    if (std::isinf(rate)) return at;
    std::mt19937_64 rng(seed);
    std::exponential_distribution<double> gap(rate);
    double t = 0.0;
    for (double& a : at) {
        a = t;
        t += gap(rng);
    }
    return at;
}

// Reports requests done / total and output tokens/s until stop().
class Progress {
public:
    Progress(size_t total, Clock::time_point start)
        : total_(total), start_(start), tty_(isatty(STDERR_FILENO)) {
        thread_ = std::thread([this] { loop(); });
    }
    ~Progress() { stop(); }
    void add(const RequestSample& s) {
        done_.fetch_add(1);
        tokens_.fetch_add(s.success ? s.output_tokens : 0);
    }
    void stop() {
        {
            std::lock_guard lock(mutex_);
            if (stopped_) return;
            stopped_ = true;
        }
        wake_.notify_all();
        thread_.join();
        report(/*last=*/true);
    }

private:
    void loop() {
        const auto period = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(10000);
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, period, [this] { return stopped_; })) report(false);
    }
    void report(bool last) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
        const size_t done = done_.load();
        const double rate = elapsed > 0 ? static_cast<double>(tokens_.load()) / elapsed : 0.0;
        if (tty_) {
            constexpr int kWidth = 30;
            const int filled = total_ ? static_cast<int>(kWidth * done / total_) : kWidth;
            fmt::print(stderr, "\r[{:<{}}] {}/{} requests  {:.1f} output tok/s  {:.1f} s{}",
                       std::string(filled, '#'), kWidth, done, total_, rate, elapsed, last ? "\n" : "");
            std::fflush(stderr);
        } else if (!last) {
            spdlog::info("bench serve progress done={}/{} output_tok_per_s={:.1f} elapsed_s={:.1f}", done,
                         total_, rate, elapsed);
        }
    }

    const size_t total_;
    const Clock::time_point start_;
    const bool tty_;
    std::atomic<size_t> done_{0};
    std::atomic<long> tokens_{0};
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopped_ = false;
    std::thread thread_;
};

}  // namespace

LoadResult run_load(const std::vector<BenchRequest>& requests, const LoadOptions& options) {
    LoadResult result;
    result.samples.resize(requests.size());
    const std::vector<double> arrivals = arrival_times(requests.size(), options.request_rate, options.seed);
    size_t num_workers = requests.size();
    if (options.max_concurrency > 0)
        num_workers = std::min(num_workers, static_cast<size_t>(options.max_concurrency));
    if (num_workers > kMaxWorkers) {
        spdlog::warn(
            "bench serve: at most {} requests in flight (one thread each); the rest wait in the client",
            kMaxWorkers);
        num_workers = kMaxWorkers;
    }
    std::atomic<size_t> next{0};
    const double cpu_start = process_cpu_seconds();
    const Clock::time_point start = Clock::now();
    Progress progress(requests.size(), start);
    std::vector<std::thread> workers;
    workers.reserve(num_workers);
    for (size_t w = 0; w < num_workers; ++w) {
        workers.emplace_back([&] {
            httplib::Client client(options.host, options.port);
            client.set_connection_timeout(10);
            const auto timeout = static_cast<time_t>(options.timeout_s);
            client.set_read_timeout(timeout);
            client.set_write_timeout(timeout);
            client.set_keep_alive(true);
            client.set_tcp_nodelay(
                true);  // else Nagle holds the body behind the headers for a delayed ACK (40 ms)
            for (size_t i = next.fetch_add(1); i < requests.size(); i = next.fetch_add(1)) {
                std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                          std::chrono::duration<double>(arrivals[i])));
                result.samples[i] =
                    send_streamed(client, options.endpoint, options.api_key, requests[i], start);
                progress.add(result.samples[i]);
            }
        });
    }
    for (std::thread& t : workers) t.join();
    result.duration_s = std::chrono::duration<double>(Clock::now() - start).count();
    result.client_cpu_s = process_cpu_seconds() - cpu_start;
    progress.stop();
    return result;
}

}  // namespace gptoss::serve_bench
