#include "tests/docker/serve_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <httplib.h>

#include "tests/support/fixture.h"

namespace gptoss::testing {

namespace {

std::vector<std::string> environment_entries(const EnvMap& env) {
    std::vector<std::string> out;
    for (const char* inherited : {"PATH", "HOME"}) {
        if (const char* v = std::getenv(inherited)) out.push_back(std::string(inherited) + "=" + v);
    }
    for (const auto& [name, value] : env) out.push_back(name + "=" + value);
    return out;
}

// fork + execvpe with `env` as the whole environment; the child's stdout and stderr go to log_fd (or stay).
pid_t spawn(const std::vector<std::string>& argv, const EnvMap& env, int log_fd) {
    std::vector<std::string> entries = environment_entries(env);
    std::vector<char*> c_argv, c_env;
    for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
    for (const auto& e : entries) c_env.push_back(const_cast<char*>(e.c_str()));
    c_argv.push_back(nullptr);
    c_env.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        if (log_fd >= 0) {
            dup2(log_fd, STDOUT_FILENO);
            dup2(log_fd, STDERR_FILENO);
        }
        execvpe(c_argv[0], c_argv.data(), c_env.data());  // PATH search for "bash", as a container does
        _exit(127);
    }
    return pid;
}

}  // namespace

int free_local_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        close(fd);
        throw std::runtime_error("cannot find a free port");
    }
    close(fd);
    return ntohs(addr.sin_port);
}

int run_with_environment(const std::vector<std::string>& argv, const EnvMap& env) {
    pid_t pid = spawn(argv, env, -1);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

ServeProcess::ServeProcess(const std::vector<std::string>& argv, const EnvMap& env) {
    char path[] = "/tmp/gptoss-serve-log-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    log_path_ = path;
    pid_ = spawn(argv, env, fd);
    close(fd);
}

ServeProcess::~ServeProcess() {
    if (pid_ > 0 && !exited()) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status_, 0);
    }
    std::error_code ignored;
    std::filesystem::remove(log_path_, ignored);
}

bool ServeProcess::exited() {
    if (pid_ <= 0) return true;
    if (waitpid(pid_, &status_, WNOHANG) == pid_) pid_ = -1;
    return pid_ <= 0;
}

bool ServeProcess::wait_until_healthy(int port, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(1);
    client.set_read_timeout(5);
    while (std::chrono::steady_clock::now() < deadline) {
        if (exited()) return false;
        auto response = client.Get("/health");
        if (response && response->status == 200) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

std::optional<int> ServeProcess::terminate(std::chrono::seconds timeout) {
    if (exited()) return WIFEXITED(status_) ? std::optional<int>(WEXITSTATUS(status_)) : std::nullopt;
    kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (exited()) return WIFEXITED(status_) ? std::optional<int>(WEXITSTATUS(status_)) : std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
    return std::nullopt;
}

std::string ServeProcess::log() const {
    try {
        return read_file(log_path_);
    } catch (const std::exception&) {
        return "";
    }
}

}  // namespace gptoss::testing
