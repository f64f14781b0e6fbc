// BatchRunner: runs the lines of an OpenAI batch input stream through a caller (call_batch_line in the
// server) and writes one output line per input line, for `gptoss run-batch` and the /v1/batches worker.
//
// The input is read streaming: at most `reorder_window` parsed lines wait, and `max_in_flight` requests run
// at once (one worker thread each, blocked on its route as an HTTP worker would be), enough to keep every
// engine slot busy. Waiting lines are handed out in prefix-key order, an elevator sweep over the window, so
// that requests sharing a prompt prefix run together and hit the prefix cache, and none waits for ever.
// A line that cannot run gets an error line; nothing a line does stops the job. Lines whose key is in
// `done` (a resumed job) are skipped; a custom_id repeated within the input runs once (logged).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "server/batch_line.h"

namespace gptoss {

struct BatchCounts {
    int64_t num_lines = 0;       // non-blank input lines read
    int64_t num_skipped = 0;     // answered by an earlier run (resume)
    int64_t num_duplicates = 0;  // a custom_id seen earlier in this input: not run again
    int64_t num_completed = 0;   // answered with status 200
    int64_t num_failed = 0;      // answered with another status, or could not run
    int64_t num_prompt_tokens = 0;
    int64_t num_completion_tokens = 0;
};

struct BatchRunnerOptions {
    int max_in_flight = 64;
    size_t reorder_window = 0;  // parsed lines held for prefix ordering; 0 = 4 x max_in_flight
    std::string endpoint;       // when set, the only url a line may name (a /v1/batches batch's endpoint)
    std::chrono::milliseconds progress_interval{1000};
};

// Answers one line; `cancel`, once set, asks it to abort and return soon.
using BatchCaller = std::function<BatchReply(const BatchLine& line, const std::string& request_id,
                                             std::shared_ptr<const std::atomic<bool>> cancel)>;
// Takes one output line (ok: status 200), on one thread at a time. May throw (disk full): the job stops.
using BatchWriter = std::function<void(const nlohmann::json& line, bool ok)>;

class BatchRunner {
public:
    BatchRunner(BatchCaller call, BatchRunnerOptions options);

    // Runs until every line of `in` is answered, or `stop` is set: then the requests in flight are cancelled
    // and their answers dropped (a resumed run redoes them), so no answer is ever written twice or torn.
    // on_progress is called every progress_interval and at the end. Rethrows a writer's exception.
    BatchCounts run(std::istream& in, const std::unordered_set<std::string>& done, const BatchWriter& write,
                    const std::atomic<bool>& stop,
                    const std::function<void(const BatchCounts&)>& on_progress = {});

private:
    BatchCaller call_;
    BatchRunnerOptions options_;
};

// Whether the reply means "retry later" (the engine's queue is full) rather than an answer.
bool is_retryable_reply(const BatchReply& reply);

}  // namespace gptoss
