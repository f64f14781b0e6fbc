// A `gptoss serve` child process that `gptoss bench serve --model DIR` starts for its run: this executable
// again, on 127.0.0.1 and a free port, its output in a log file; healthy once GET /health answers 200;
// stopped with SIGTERM (SIGKILL after 30 s) when the benchmark ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace gptoss::serve_bench {

class ChildServer {
public:
    // serve_args: the flags after `gptoss serve` (--model and so on); --host and --port are added.
    ChildServer(const std::vector<std::string>& serve_args, std::filesystem::path log_path);
    ~ChildServer();  // stop()
    ChildServer(const ChildServer&) = delete;
    ChildServer& operator=(const ChildServer&) = delete;

    int port() const { return port_; }
    // Throws with the log's tail when the process exits or `timeout` passes first.
    void wait_until_healthy(std::chrono::seconds timeout);
    // The exit status (or -1); idempotent.
    int stop();

private:
    std::string log_tail() const;

    pid_t pid_ = -1;
    int port_ = 0;
    int exit_status_ = -1;
    std::filesystem::path log_path_;
};

}  // namespace gptoss::serve_bench
