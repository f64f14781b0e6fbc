// BatchService: the Batch API's state and its worker. Batches run one at a time, oldest first, through the
// BatchRunner at kBatchPriority (interactive requests go first in the engine); a batch moves
// validating -> in_progress -> finalizing -> completed (or failed), and cancelling -> cancelled. Everything
// is on disk (BatchStore): stop() leaves the running batch in_progress, and start() - after a restart -
// resumes it from its output files, so no line is lost or answered twice. Route handlers call the public
// methods from any thread; they throw ApiError.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/batch_runner.h"
#include "server/batch_store.h"

namespace gptoss {

class ServerState;

class BatchService {
public:
    BatchService(ServerState& state, std::filesystem::path dir);
    ~BatchService();  // stop()s
    BatchService(const BatchService&) = delete;
    BatchService& operator=(const BatchService&) = delete;

    // Once the model is loaded: queues the unfinished batches found on disk and starts the worker.
    void start();
    // Stops the worker; the running batch stays in_progress on disk (its in-flight lines are redone later).
    void stop();

    nlohmann::json upload_file(const std::string& filename, const std::string& purpose,
                               std::string_view content);
    nlohmann::json get_file(const std::string& id) const;
    std::filesystem::path file_content(const std::string& id) const;  // after checking the file exists
    nlohmann::json delete_file(const std::string& id);

    nlohmann::json create_batch(const nlohmann::json& body);
    nlohmann::json get_batch(const std::string& id) const;
    nlohmann::json list_batches(const std::optional<std::string>& after, int limit) const;
    nlohmann::json cancel_batch(const std::string& id);

private:
    void work();
    void run_batch(nlohmann::json batch);
    // Ends a batch: registers its non-empty output files and sets `status` with its timestamp.
    void finish(nlohmann::json& batch, const std::string& status);
    nlohmann::json load_batch(const std::string& id) const;  // with live request_counts; throws 404

    ServerState& state_;
    BatchStore store_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::string> queue_;  // batch ids waiting to run
    std::string running_id_;         // the batch the worker runs ("" when idle)
    BatchCounts running_counts_;     // its counts so far (this run's and its files')
    int64_t running_base_completed_ = 0, running_base_failed_ = 0;
    std::atomic<bool> stop_running_{false};      // the runner's stop: set by a cancel or by stop()
    std::atomic<bool> cancel_requested_{false};  // which of the two it was
    std::atomic<bool> stopping_{false};
    std::thread worker_;
};

}  // namespace gptoss
