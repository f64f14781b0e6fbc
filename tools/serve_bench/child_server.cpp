#include "tools/serve_bench/child_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

namespace gptoss::serve_bench {

namespace {

// A port on 127.0.0.1 that was free a moment ago (the child binds it a few milliseconds later).
int free_local_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    close(fd);
    if (!ok) throw std::runtime_error("cannot find a free local port");
    return ntohs(addr.sin_port);
}

}  // namespace

ChildServer::ChildServer(const std::vector<std::string>& serve_args, std::filesystem::path log_path)
    : port_(free_local_port()), log_path_(std::move(log_path)) {
    std::vector<std::string> argv = {"/proc/self/exe", "serve"};
    argv.insert(argv.end(), serve_args.begin(), serve_args.end());
    for (const std::string& a :
         {std::string("--host"), std::string("127.0.0.1"), std::string("--port"), std::to_string(port_)})
        argv.push_back(a);
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    const int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0)
        throw std::runtime_error(fmt::format("cannot write the server log {}", log_path_.string()));
    pid_ = fork();
    if (pid_ == 0) {
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        execv(c_argv[0], c_argv.data());
        _exit(127);
    }
    close(log_fd);
    if (pid_ < 0) throw std::runtime_error("fork() failed");
    spdlog::info("bench serve started gptoss serve pid={} port={} log={}", pid_, port_, log_path_.string());
}

ChildServer::~ChildServer() {
    stop();
}

void ChildServer::wait_until_healthy(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(1);
    client.set_read_timeout(5);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            throw std::runtime_error(
                fmt::format("gptoss serve exited ({}) while loading:\n{}", exit_status_, log_tail()));
        }
        const httplib::Result health = client.Get("/health");
        if (health && health->status == 200) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error(
        fmt::format("gptoss serve not healthy within {} s:\n{}", timeout.count(), log_tail()));
}

int ChildServer::stop() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (waitpid(pid_, &status, WNOHANG) != pid_) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    pid_ = -1;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_status_;
}

std::string ChildServer::log_tail() const {
    std::ifstream in(log_path_);
    std::stringstream all;
    all << in.rdbuf();
    const std::string text = all.str();
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
}

}  // namespace gptoss::serve_bench
