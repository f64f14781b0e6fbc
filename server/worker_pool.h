// WorkerPool: threads that run the requests the connection front hands over, started on demand up to a
// bound. try_submit() refuses (instead of queueing without limit) when every thread is busy and
// `max_waiting` jobs already wait, so the front can answer 503 at once.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gptoss {

class WorkerPool {
public:
    WorkerPool(int max_threads, int max_waiting) : max_threads_(max_threads), max_waiting_(max_waiting) {}
    ~WorkerPool() { join(); }
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    bool try_submit(std::function<void()> job);
    // Runs the jobs already accepted, then ends every thread.
    void join();

private:
    void run();

    const int max_threads_, max_waiting_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    int num_idle_ = 0;
    bool stopping_ = false;
};

}  // namespace gptoss
