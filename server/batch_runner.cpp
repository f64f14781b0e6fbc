#include "server/batch_runner.h"

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "server/routes.h"

namespace gptoss {

namespace {

using Clock = std::chrono::steady_clock;

// How often the reader and the waiting loop look at `stop`, and how long an overloaded engine is given.
constexpr std::chrono::milliseconds kPollInterval{100};
constexpr std::chrono::milliseconds kRetryDelay{200};

bool is_blank(const std::string& text) {
    return text.find_first_not_of(" \t\r") == std::string::npos;
}

// prompt/completion tokens of a route's usage object (chat and completions, or responses).
std::pair<int64_t, int64_t> usage_tokens(const nlohmann::json& body) {
    auto usage = body.find("usage");
    if (usage == body.end() || !usage->is_object()) return {0, 0};
    auto number = [&](const char* a, const char* b) -> int64_t {
        for (const char* key : {a, b}) {
            auto it = usage->find(key);
            if (it != usage->end() && it->is_number_integer()) return it->get<int64_t>();
        }
        return 0;
    };
    return {number("prompt_tokens", "input_tokens"), number("completion_tokens", "output_tokens")};
}

}  // namespace

bool is_retryable_reply(const BatchReply& reply) {
    if (reply.status_code != 503 || !reply.body.is_object()) return false;
    auto error = reply.body.find("error");
    if (error == reply.body.end() || !error->is_object()) return false;
    auto code = error->find("code");
    return code != error->end() && code->is_string() && code->get<std::string>() == "server_overloaded";
}

BatchRunner::BatchRunner(BatchCaller call, BatchRunnerOptions options)
    : call_(std::move(call)), options_(std::move(options)) {
    if (options_.max_in_flight < 1) options_.max_in_flight = 1;
    if (options_.reorder_window == 0)
        options_.reorder_window = 4 * static_cast<size_t>(options_.max_in_flight);
}

BatchCounts BatchRunner::run(std::istream& in, const std::unordered_set<std::string>& done,
                             const BatchWriter& write, const std::atomic<bool>& stop,
                             const std::function<void(const BatchCounts&)>& on_progress) {
    struct Pending {
        int64_t line_number = 0;
        BatchLine line;
    };
    std::mutex mutex;  // guards everything below but `cancel`
    std::condition_variable changed;
    std::multimap<std::string, Pending> window;  // by prefix key
    std::string cursor;                          // the elevator's position among the keys
    bool input_done = false;
    int num_in_flight = 0;
    BatchCounts counts;
    std::exception_ptr write_error;
    auto cancel = std::make_shared<std::atomic<bool>>(false);

    auto stopping = [&] { return stop.load() || write_error != nullptr; };  // with `mutex` held
    // Writes one line (with `mutex` held): a writer that throws stops the job.
    auto emit = [&](const nlohmann::json& line, bool ok) {
        if (write_error) return;
        try {
            write(line, ok);
            ++(ok ? counts.num_completed : counts.num_failed);
        } catch (...) {
            write_error = std::current_exception();
            changed.notify_all();
        }
    };

    auto worker = [&] {
        std::unique_lock lock(mutex);
        while (true) {
            changed.wait(lock, [&] { return !window.empty() || input_done || stopping(); });
            if (stopping() || window.empty()) return;
            auto next = window.lower_bound(cursor);
            if (next == window.end()) next = window.begin();
            cursor = next->first;
            Pending pending = std::move(next->second);
            window.erase(next);
            ++num_in_flight;
            changed.notify_all();
            lock.unlock();

            const std::string request_id = random_id("req-");
            BatchReply reply = call_(pending.line, request_id, cancel);
            while (is_retryable_reply(reply) && !cancel->load()) {
                std::this_thread::sleep_for(kRetryDelay);
                reply = call_(pending.line, request_id, cancel);
            }

            lock.lock();
            --num_in_flight;
            changed.notify_all();
            if (stopping()) continue;  // cancelled mid-request: the answer may be cut short
            const auto [prompt, completion] = usage_tokens(reply.body);
            counts.num_prompt_tokens += prompt;
            counts.num_completion_tokens += completion;
            emit(batch_response_line(pending.line.custom_id, reply.status_code, request_id,
                                     std::move(reply.body)),
                 reply.status_code == 200);
        }
    };

    auto last_report = Clock::now();
    // With `mutex` held.
    auto maybe_report = [&] {
        if (stopping()) cancel->store(true);
        if (!on_progress || Clock::now() - last_report < options_.progress_interval) return;
        last_report = Clock::now();
        on_progress(counts);
    };

    std::vector<std::thread> workers;
    workers.reserve(static_cast<size_t>(options_.max_in_flight));
    for (int i = 0; i < options_.max_in_flight; ++i) workers.emplace_back(worker);

    std::unordered_set<std::string> seen;
    std::string text;
    int64_t line_number = 0;
    while (std::getline(in, text)) {
        ++line_number;
        if (is_blank(text)) continue;
        std::optional<BatchLine> line;
        std::optional<BatchLineError> error;
        try {
            line = parse_batch_line(text, options_.endpoint);
        } catch (const BatchLineError& e) {
            error = e;
        }
        const std::string key = line ? line->custom_id : batch_line_key(error->custom_id(), line_number);
        std::unique_lock lock(mutex);
        if (stopping()) break;
        ++counts.num_lines;
        if (done.count(key)) {
            ++counts.num_skipped;
            continue;
        }
        if (!seen.insert(key).second) {
            ++counts.num_duplicates;
            spdlog::warn("batch line {}: custom_id {:?} was used by an earlier line; not run again",
                         line_number, key);
            continue;
        }
        if (error) {
            emit(batch_error_line(*error, line_number), false);
            continue;
        }
        while (window.size() >= options_.reorder_window && !stopping()) {
            changed.wait_for(lock, kPollInterval);
            maybe_report();
        }
        std::string prefix_key = line->prefix_key;
        window.emplace(std::move(prefix_key), Pending{line_number, std::move(*line)});
        changed.notify_one();
        maybe_report();
    }

    {
        std::unique_lock lock(mutex);
        input_done = true;
        changed.notify_all();
        while (!(window.empty() && num_in_flight == 0) && !stopping()) {
            changed.wait_for(lock, kPollInterval);
            maybe_report();
        }
        if (stopping()) cancel->store(true);
        changed.notify_all();
    }
    for (auto& t : workers) t.join();
    if (write_error) std::rethrow_exception(write_error);
    if (on_progress) on_progress(counts);
    return counts;
}

}  // namespace gptoss
