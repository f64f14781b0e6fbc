// A `gptoss serve` child process started as a container would start it: the image's ENTRYPOINT words, the
// deployment's arguments, and exactly the deployment's GPTOSS_* environment (plus PATH and HOME).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/docker/deploy_files.h"

namespace gptoss::testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_local_port();

// Runs argv with exactly `env` (plus PATH and HOME) and returns its exit code (-1 when it did not exit).
int run_with_environment(const std::vector<std::string>& argv, const EnvMap& env);

class ServeProcess {
public:
    // argv[0] is the executable's path; output goes to a log file read by log().
    ServeProcess(const std::vector<std::string>& argv, const EnvMap& env);
    ~ServeProcess();  // kills the process if it is still running
    ServeProcess(const ServeProcess&) = delete;
    ServeProcess& operator=(const ServeProcess&) = delete;

    // Polls GET /health on 127.0.0.1:port until it answers 200; false when the process exits or time runs
    // out.
    bool wait_until_healthy(int port, std::chrono::seconds timeout);
    // Sends SIGTERM and waits; the exit code, or nullopt if it did not exit normally in time (then killed).
    std::optional<int> terminate(std::chrono::seconds timeout);
    std::string log() const;

private:
    bool exited();

    pid_t pid_ = -1;
    int status_ = 0;
    std::filesystem::path log_path_;
};

}  // namespace gptoss::testing
