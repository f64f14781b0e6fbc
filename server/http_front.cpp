#include "server/http_front.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace gptoss {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 64 << 10;
constexpr std::chrono::milliseconds kLingerTimeout{2000};  // reading and dropping after an error response
constexpr int kSweepIntervalMs = 100;

// The request bytes the front assembled, read back by cpp-httplib; the response goes to the socket.
class FrontStream : public httplib::Stream {
public:
    FrontStream(int fd, std::string request, const std::atomic<bool>& gone, std::chrono::milliseconds timeout)
        : fd_(fd), request_(std::move(request)), gone_(gone), write_timeout_(timeout) {}

    bool is_readable() const override { return read_pos_ < request_.size(); }

    bool is_writable() const override {
        if (gone_.load()) return false;
        pollfd p{fd_, POLLOUT, 0};
        int r = ::poll(&p, 1, static_cast<int>(write_timeout_.count()));
        return r > 0 && (p.revents & (POLLERR | POLLHUP)) == 0;
    }

    ssize_t read(char* ptr, size_t size) override {
        size_t n = std::min(size, request_.size() - read_pos_);
        std::memcpy(ptr, request_.data() + read_pos_, n);
        read_pos_ += n;
        return static_cast<ssize_t>(n);
    }

    // Blocking write on the non-blocking socket: waits for room in slices, so a gone client ends it soon.
    ssize_t write(const char* ptr, size_t size) override {
        size_t sent = 0;
        auto deadline = Clock::now() + write_timeout_;
        while (sent < size) {
            if (gone_.load()) return -1;
            ssize_t r = ::send(fd_, ptr + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (r > 0) {
                sent += static_cast<size_t>(r);
                deadline = Clock::now() + write_timeout_;
                continue;
            }
            if (r < 0 && errno != EAGAIN && errno != EINTR) return -1;
            if (Clock::now() >= deadline) return -1;
            pollfd p{fd_, POLLOUT, 0};
            if (::poll(&p, 1, 100) > 0 && (p.revents & (POLLERR | POLLHUP))) return -1;
        }
        return static_cast<ssize_t>(size);
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage addr{};
        socklen_t len = sizeof(addr);
        if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) describe(addr, len, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage addr{};
        socklen_t len = sizeof(addr);
        if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) describe(addr, len, ip, port);
    }
    socket_t socket() const override { return fd_; }

private:
    static void describe(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
        char host[NI_MAXHOST], serv[NI_MAXSERV];
        if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof(host), serv,
                          sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
            ip = host;
            port = std::atoi(serv);
        }
    }

    int fd_;
    std::string request_;
    size_t read_pos_ = 0;
    const std::atomic<bool>& gone_;
    std::chrono::milliseconds write_timeout_;
};

void send_now(int fd, const std::string& bytes) {
    // Error responses are small: they fit the socket buffer of a fresh or idle connection.
    [[maybe_unused]] ssize_t r = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

struct HttpFront::Connection {
    enum class State { kIdle, kHead, kBody, kChunked, kBusy, kLingering };

    int fd = -1;
    State state = State::kIdle;
    std::string input;        // received, not yet consumed
    Clock::time_point since;  // idle since / request started / lingering since
    RequestHead head;
    std::optional<ChunkedDecoder> chunked;
    int num_requests = 0;
    std::shared_ptr<std::atomic<bool>> gone = std::make_shared<std::atomic<bool>>(false);
};

HttpFront::HttpFront(HttpFrontOptions options, Dispatch dispatch, RenderError render_error, Screen screen)
    : options_(std::move(options)),
      dispatch_(std::move(dispatch)),
      render_error_(std::move(render_error)),
      screen_(std::move(screen)),
      workers_(options_.max_workers, 0),
      probe_workers_(options_.num_probe_workers, options_.max_probe_waiting) {}

HttpFront::~HttpFront() {
    stop();
    for (int fd : {listen_fd_, epoll_fd_, wake_fd_, spare_fd_}) {
        if (fd >= 0) ::close(fd);
    }
}

int HttpFront::listen(const std::string& host, int port) {
    addrinfo hints{}, *found = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    std::string service = std::to_string(port);
    if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || !found) {
        throw std::runtime_error(fmt::format("cannot resolve listen address {}", host));
    }
    int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int yes = 1;
    // SO_REUSEADDR only: restart without waiting out TIME_WAIT. (SO_REUSEPORT would let a second server
    // bind the same port and silently share its traffic.)
    if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    bool ok = fd >= 0 && ::bind(fd, found->ai_addr, found->ai_addrlen) == 0 && ::listen(fd, 4096) == 0;
    ::freeaddrinfo(found);
    if (!ok) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error(
            fmt::format("cannot listen on {}:{} (address in use or not available)", host, port));
    }
    listen_fd_ = fd;
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    return addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(addr).sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in&>(addr).sin_port);
}

void HttpFront::start() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    // Kept to accept-and-close one connection when the process is out of descriptors (else the listener
    // would stay readable and the loop would spin).
    spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (int fd : {listen_fd_, wake_fd_}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    }
    thread_ = std::thread([this] { run(); });
}

void HttpFront::begin_drain() {
    draining_ = true;
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof(one));
}

void HttpFront::stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof(one));
    thread_.join();
    // Busy connections were shut down by the front thread, so the workers' writes fail and their requests
    // abort; the descriptors are closed once no worker holds them.
    workers_.join();
    probe_workers_.join();
    for (auto& [fd, conn] : connections_) ::close(fd);
    connections_.clear();
}

void HttpFront::watch(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void HttpFront::run() {
    std::vector<epoll_event> events(256);
    auto last_sweep = Clock::now();
    bool drained = false;
    while (!stopping_) {
        int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), kSweepIntervalMs);
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == listen_fd_) {
                accept_all();
            } else if (fd == wake_fd_) {
                uint64_t count;
                [[maybe_unused]] ssize_t r = ::read(wake_fd_, &count, sizeof(count));
                take_returns();
            } else {
                on_event(fd, events[i].events);
            }
        }
        if (draining_ && !drained) {
            drained = true;
            sweep();
        }
        if (Clock::now() - last_sweep >= std::chrono::milliseconds(kSweepIntervalMs)) {
            last_sweep = Clock::now();
            sweep();
        }
    }
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    ::close(listen_fd_);
    listen_fd_ = -1;
    std::vector<int> idle;
    for (auto& [fd, conn] : connections_) {
        if (conn->state == Connection::State::kBusy) {
            conn->gone->store(true);
            ::shutdown(fd, SHUT_RDWR);
        } else {
            idle.push_back(fd);
        }
    }
    for (int fd : idle) close_connection(fd);
}

void HttpFront::accept_all() {
    for (;;) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if ((errno == EMFILE || errno == ENFILE) && spare_fd_ >= 0) {
                ::close(spare_fd_);
                int victim = ::accept(listen_fd_, nullptr, nullptr);
                if (victim >= 0) ::close(victim);
                spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
                spdlog::warn("http: out of file descriptors; refused a connection");
                continue;
            }
            return;  // EAGAIN, or an error of that one connection
        }
        if (static_cast<int>(connections_.size()) >= options_.max_connections || stopping_) {
            send_now(fd,
                     render_error_(503, fmt::format("The server holds its maximum of {} connections; retry "
                                                    "later.",
                                                    options_.max_connections)));
            ::shutdown(fd, SHUT_WR);
            ::close(fd);
            continue;
        }
        int yes = 1;
        // Responses go out as several small writes (headers, body, one SSE event per token); with Nagle's
        // algorithm each would wait for the client's delayed ACK (~40 ms).
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
        auto conn = std::make_unique<Connection>();
        conn->fd = fd;
        conn->since = Clock::now();
        connections_[fd] = std::move(conn);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = fd;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    }
}

void HttpFront::on_event(int fd, uint32_t events) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    Connection& conn = *it->second;
    if (conn.state == Connection::State::kBusy) {
        // Armed (one shot) only for hang-up: the peer closed or reset while a worker answers.
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) conn.gone->store(true);
        return;
    }
    char buffer[kReadChunk];
    ssize_t r = ::recv(fd, buffer, sizeof(buffer), 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        close_connection(fd);
        return;
    }
    if (r < 0) return;
    if (conn.state == Connection::State::kLingering) return;  // dropped
    conn.input.append(buffer, static_cast<size_t>(r));
    advance(conn);
}

void HttpFront::advance(Connection& conn) {
    using State = Connection::State;
    const FramingLimits& limits = options_.framing;
    try {
        if (conn.state == State::kIdle) {
            if (conn.input.empty()) return;
            conn.state = State::kHead;
            conn.since = Clock::now();
        }
        if (conn.state == State::kHead) {
            std::optional<size_t> end = find_head_end(conn.input, limits);
            if (!end) return;
            conn.head = parse_request_head(std::string_view(conn.input).substr(0, *end), limits);
            conn.input.erase(0, *end);
            conn.state = conn.head.chunked ? State::kChunked : State::kBody;
            if (conn.head.chunked) conn.chunked.emplace(limits);
            bool has_body = conn.head.chunked || conn.head.content_length.value_or(0) > 0;
            if (has_body && screen_) {
                if (std::optional<std::string> refusal = screen_(conn.head)) {
                    refuse(conn, *refusal);
                    return;
                }
            }
            if (conn.head.expect_continue && has_body && conn.input.empty()) {
                send_now(conn.fd, "HTTP/1.1 100 Continue\r\n\r\n");
            }
        }
        if (conn.state == State::kBody) {
            size_t length = conn.head.content_length.value_or(0);
            if (conn.input.size() < length) return;
            std::string body = conn.input.substr(0, length);
            conn.input.erase(0, length);
            dispatch(conn, normalized_request(conn.head, body));
        } else if (conn.state == State::kChunked) {
            size_t used = conn.chunked->feed(conn.input);
            conn.input.erase(0, used);
            if (!conn.chunked->done()) return;
            std::string request = normalized_request(conn.head, conn.chunked->body());
            conn.chunked.reset();
            dispatch(conn, std::move(request));
        }
    } catch (const FramingError& e) {
        reject(conn, e.status(), e.what());
    }
}

void HttpFront::dispatch(Connection& conn, std::string request) {
    conn.state = Connection::State::kBusy;
    ++conn.num_requests;
    bool close = draining_ || conn.num_requests >= options_.keep_alive_max_count;
    watch(conn.fd, EPOLLRDHUP | EPOLLONESHOT);
    bool probe = conn.head.method == "GET" || conn.head.method == "HEAD";
    int fd = conn.fd;
    auto job = [this, fd, close, gone = conn.gone, request = std::move(request)]() mutable {
        FrontStream stream(fd, std::move(request), *gone, options_.write_timeout);
        FrontRequest front_request{stream, close, gone};
        bool keep = false;
        try {
            keep = dispatch_(front_request);
        } catch (const std::exception& e) {
            spdlog::error("http: request failed outside its handler: {}", e.what());
        }
        finish(fd, keep && !close && !gone->load());
    };
    if (!(probe ? probe_workers_ : workers_).try_submit(std::move(job))) {
        reject(conn, 503, "The server is overloaded: every request worker is busy. Retry later.");
    }
}

void HttpFront::reject(Connection& conn, int status, const std::string& message) {
    refuse(conn, render_error_(status, message));
}

void HttpFront::refuse(Connection& conn, const std::string& response) {
    send_now(conn.fd, response);
    // Half-close, then read and drop what the client is still sending, so the kernel does not answer it
    // with a reset that could destroy the error response before the client reads it.
    ::shutdown(conn.fd, SHUT_WR);
    conn.state = Connection::State::kLingering;
    conn.since = Clock::now();
    conn.input.clear();
    conn.input.shrink_to_fit();
    conn.chunked.reset();
    watch(conn.fd, EPOLLIN | EPOLLRDHUP);
}

void HttpFront::finish(int fd, bool keep) {
    {
        std::lock_guard lock(returns_mutex_);
        returns_.emplace_back(fd, keep);
    }
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof(one));
}

void HttpFront::take_returns() {
    std::vector<std::pair<int, bool>> returns;
    {
        std::lock_guard lock(returns_mutex_);
        returns.swap(returns_);
    }
    for (auto [fd, keep] : returns) {
        auto it = connections_.find(fd);
        if (it == connections_.end()) continue;
        Connection& conn = *it->second;
        if (!keep || stopping_) {
            close_connection(fd);
            continue;
        }
        conn.state = Connection::State::kIdle;
        conn.since = Clock::now();
        conn.head = RequestHead{};
        watch(fd, EPOLLIN | EPOLLRDHUP);
        advance(conn);  // a pipelined request already read
    }
}

void HttpFront::sweep() {
    using State = Connection::State;
    auto now = Clock::now();
    std::vector<int> to_close;
    for (auto& [fd, conn] : connections_) {
        auto age = now - conn->since;
        switch (conn->state) {
            case State::kIdle:
                // While draining, a connection that has had its answer goes at once; a new one gets to send
                // its request (and its 503).
                if ((draining_ && conn->num_requests > 0) || age > options_.keep_alive_timeout) {
                    to_close.push_back(fd);
                }
                break;
            case State::kHead:
                if (age > options_.header_timeout) {
                    reject(*conn, 408, "The request headers did not arrive in time.");
                }
                break;
            case State::kBody:
            case State::kChunked:
                if (age > options_.body_timeout)
                    reject(*conn, 408, "The request body did not arrive in time.");
                break;
            case State::kLingering:
                if (age > kLingerTimeout) to_close.push_back(fd);
                break;
            case State::kBusy:
                break;
        }
    }
    for (int fd : to_close) close_connection(fd);
}

void HttpFront::close_connection(int fd) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    connections_.erase(fd);
}

}  // namespace gptoss
