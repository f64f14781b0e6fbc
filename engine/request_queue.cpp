#include "engine/request_queue.h"

#include <utility>

#include <fmt/format.h>

namespace gptoss {

void RequestQueue::submit(Submission submission) {
    {
        std::lock_guard lock(mutex_);
        if (closed_ || stop_) {
            throw EngineError(EngineError::Kind::kShuttingDown, "the server is shutting down");
        }
        const RequestId id = submission.request.id;
        if (live_.count(id) != 0) {
            throw EngineError(EngineError::Kind::kInvalid,
                              fmt::format("request id {} is already in use", id));
        }
        const int waiting = static_cast<int>(submissions_.size()) + num_scheduler_waiting_.load();
        if (waiting >= max_queued_requests_) {
            throw EngineError(EngineError::Kind::kOverloaded,
                              fmt::format("too many queued requests ({}); try again later", waiting));
        }
        live_.insert(id);
        submissions_.push_back(std::move(submission));
    }
    wake_.notify_one();
}

void RequestQueue::abort(RequestId id) {
    {
        std::lock_guard lock(mutex_);
        if (live_.count(id) == 0) return;
        aborts_.push_back(id);
    }
    wake_.notify_one();
}

void RequestQueue::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
}

void RequestQueue::stop() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
}

RequestQueue::Drained RequestQueue::drain(bool engine_busy) {
    std::unique_lock lock(mutex_);
    if (!engine_busy) {
        wake_.wait(lock, [&] { return stop_ || !submissions_.empty() || !aborts_.empty(); });
    }
    Drained d;
    d.submissions.swap(submissions_);
    d.aborts.swap(aborts_);
    d.stop = stop_;
    return d;
}

void RequestQueue::on_finished(RequestId id) {
    std::lock_guard lock(mutex_);
    live_.erase(id);
}

int RequestQueue::num_unfinished() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(live_.size());
}

int RequestQueue::num_waiting() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(submissions_.size()) + num_scheduler_waiting_.load();
}

}  // namespace gptoss
