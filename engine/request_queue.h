// RequestQueue: the engine's thread-safe inbox. HTTP threads submit requests and aborts; the engine thread
// drains both at the start of each step. It also tracks which request ids are live (submitted, not yet
// finished), so duplicate ids are refused, and the queue depth that max_queued_requests bounds.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "engine/request.h"
#include "engine/token_stream.h"

namespace gptoss {

struct Submission {
    Request request;
    std::shared_ptr<BlockingTokenStream> stream;
};

class RequestQueue {
public:
    explicit RequestQueue(int max_queued_requests) : max_queued_requests_(max_queued_requests) {}

    // Throws EngineError: kShuttingDown after close(), kOverloaded when max_queued_requests are waiting,
    // kInvalid when the id is already live.
    void submit(Submission submission);
    void abort(RequestId id);
    // No new submissions from now on.
    void close();
    // Wakes the engine thread and tells it to exit.
    void stop();

    struct Drained {
        std::vector<Submission> submissions;
        std::vector<RequestId> aborts;
        bool stop = false;
    };
    // Engine thread: takes everything queued; blocks while there is nothing and the engine is idle.
    Drained drain(bool engine_busy);
    // Engine thread: the request's stream got its final event.
    void on_finished(RequestId id);
    // Engine thread: how many requests wait inside the scheduler (counted against max_queued_requests).
    void set_num_scheduler_waiting(int n) { num_scheduler_waiting_.store(n); }

    int num_unfinished() const;
    int num_waiting() const;  // in the inbox + in the scheduler's queue

private:
    const int max_queued_requests_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Submission> submissions_;
    std::vector<RequestId> aborts_;
    std::unordered_set<RequestId> live_;
    bool closed_ = false;
    bool stop_ = false;
    std::atomic<int> num_scheduler_waiting_{0};
};

}  // namespace gptoss
