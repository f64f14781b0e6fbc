#include "server/worker_pool.h"

namespace gptoss {

bool WorkerPool::try_submit(std::function<void()> job) {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    int waiting = static_cast<int>(jobs_.size());
    if (waiting >= num_idle_) {  // no idle thread will take it
        if (static_cast<int>(threads_.size()) < max_threads_) {
            threads_.emplace_back([this] { run(); });
            ++num_idle_;  // counted idle from the start, so a burst does not start more threads than jobs
        } else if (waiting - num_idle_ >= max_waiting_) {
            return false;
        }
    }
    jobs_.push_back(std::move(job));
    ready_.notify_one();
    return true;
}

void WorkerPool::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping
        std::function<void()> job = std::move(jobs_.front());
        jobs_.pop_front();
        --num_idle_;
        lock.unlock();
        job();
        job = nullptr;  // release what the job holds before counting this thread idle
        lock.lock();
        ++num_idle_;
    }
}

void WorkerPool::join() {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        threads.swap(threads_);
    }
    ready_.notify_all();
    for (auto& t : threads) t.join();
}

}  // namespace gptoss
