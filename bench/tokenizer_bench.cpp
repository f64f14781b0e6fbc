// Tokenizer benchmark: load time of both vocabulary formats, and encode throughput (MB/s) on a corpus,
// single-threaded and with encode_ordinary_parallel. Prints one JSON object; bench/tokenizer_bench.sh runs it
// beside tiktoken's WASM build (bench/tiktoken_bench.mjs) and prints the ratio.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/cli_flags.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of the calling thread: on a busy machine it says what the work costs, whatever else runs.
double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Best of `n` load times in milliseconds; returns the last tokenizer.
std::shared_ptr<const gptoss::Tokenizer> time_load(const std::string& path, int n, double& best_ms) {
    std::shared_ptr<const gptoss::Tokenizer> tok;
    best_ms = 1e30;
    for (int i = 0; i < n; ++i) {
        tok.reset();
        const auto start = Clock::now();
        tok = gptoss::Tokenizer::from_file(path);
        best_ms = std::min(best_ms, seconds_since(start) * 1e3);
    }
    return tok;
}

// FNV-1a over the ids' little-endian int32 bytes (the same as tiktoken_bench.mjs).
uint32_t fnv1a(const std::vector<int32_t>& ids) {
    uint32_t h = 0x811c9dc5u;
    for (int32_t id : ids) {
        for (int shift = 0; shift < 32; shift += 8)
            h = (h ^ ((static_cast<uint32_t>(id) >> shift) & 0xFF)) * 0x01000193u;
    }
    return h;
}

double mb_per_s(size_t bytes, double seconds) {
    return static_cast<double>(bytes) / 1e6 / seconds;
}

}  // namespace

int main(int argc, char** argv) {
    std::string corpus_path, tiktoken_path, tokenizer_json_path;
    int repeats = 3;
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    gptoss::FlagSet flags("tokenizer_bench",
                          "tokenizer_bench --corpus FILE --tiktoken FILE --tokenizer-json FILE",
                          "Measures tokenizer load time and encode throughput.");
    flags.add_string("corpus", &corpus_path, "UTF-8 text to encode");
    flags.add_string("tiktoken", &tiktoken_path, "o200k_base.tiktoken");
    flags.add_string("tokenizer-json", &tokenizer_json_path, "the gpt-oss tokenizer.json");
    flags.add_int("repeats", &repeats,
                  "encode passes (each on a freshly loaded tokenizer: empty piece cache)");
    flags.add_int("threads", &threads, "threads of the parallel mode");
    try {
        if (!flags.parse({argv + 1, argv + argc})) {
            fmt::print("{}", flags.help());
            return 0;
        }
        if (corpus_path.empty() || tiktoken_path.empty() || tokenizer_json_path.empty()) {
            throw gptoss::CliError("--corpus, --tiktoken and --tokenizer-json are required");
        }
        const std::string corpus = read_file(corpus_path);
        double load_tiktoken_ms = 0, load_json_ms = 0;
        auto tok = time_load(tiktoken_path, 3, load_tiktoken_ms);
        time_load(tokenizer_json_path, 3, load_json_ms);

        // Single-threaded: each pass on a fresh tokenizer, so the piece cache starts empty (tiktoken has
        // none).
        std::vector<double> cold, cold_cpu;
        std::vector<int32_t> ids;
        for (int i = 0; i < repeats; ++i) {
            tok = gptoss::Tokenizer::from_file(tiktoken_path);
            const auto start = Clock::now();
            const double cpu_start = thread_cpu_seconds();
            ids = tok->encode_ordinary(corpus);
            cold_cpu.push_back(thread_cpu_seconds() - cpu_start);
            cold.push_back(seconds_since(start));
        }
        const auto warm_start = Clock::now();
        const auto warm_ids = tok->encode_ordinary(corpus);
        const double warm = seconds_since(warm_start);

        std::vector<double> parallel;
        bool parallel_identical = true;
        for (int i = 0; i < repeats; ++i) {
            tok = gptoss::Tokenizer::from_file(tiktoken_path);
            const auto start = Clock::now();
            const auto p = tok->encode_ordinary_parallel(corpus, threads);
            parallel.push_back(seconds_since(start));
            parallel_identical = parallel_identical && p == ids;
        }
        std::sort(cold.begin(), cold.end());
        std::sort(cold_cpu.begin(), cold_cpu.end());
        std::sort(parallel.begin(), parallel.end());
        nlohmann::json out = {
            {"implementation", "gptoss"},
            {"corpus_bytes", corpus.size()},
            {"num_ids", ids.size()},
            {"ids_fnv1a", fmt::format("{:08x}", fnv1a(ids))},
            {"load_ms_tiktoken", std::round(load_tiktoken_ms * 10) / 10},
            {"load_ms_tokenizer_json", std::round(load_json_ms * 10) / 10},
            {"encode_mb_per_s_best", std::round(mb_per_s(corpus.size(), cold.front()) * 100) / 100},
            {"encode_mb_per_s_median",
             std::round(mb_per_s(corpus.size(), cold[cold.size() / 2]) * 100) / 100},
            {"encode_mb_per_cpu_s_best", std::round(mb_per_s(corpus.size(), cold_cpu.front()) * 100) / 100},
            {"encode_mb_per_s_warm_cache", std::round(mb_per_s(corpus.size(), warm) * 100) / 100},
            {"parallel_threads", threads},
            {"parallel_mb_per_s_best", std::round(mb_per_s(corpus.size(), parallel.front()) * 100) / 100},
            {"parallel_identical", parallel_identical && warm_ids == ids},
        };
        fmt::print("{}\n", out.dump());
        return parallel_identical ? 0 : 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "tokenizer_bench: {}\n", e.what());
        return 1;
    }
}
