// HttpFront: the event-driven connection front of the HTTP server (internal to server/).
//
// One epoll thread owns every connection while it is idle or while a request arrives: it accepts (503 and
// close beyond max_connections), reads, enforces the framing limits and deadlines (request_framing.h;
// header_timeout, body_timeout, keep_alive_timeout), de-chunks bodies, and only then hands the complete
// request to a worker thread as plain Content-Length bytes. A worker runs cpp-httplib's routing on it and
// writes the response straight to the socket; then the connection returns to the front, which answers any
// pipelined request next, in order. Idle and slow connections therefore cost a file descriptor and a buffer,
// never a thread (cpp-httplib alone holds one thread per open connection; docs/ARCHITECTURE.md).
//
// While a worker has the connection the front still watches it: a peer that closes or resets sets
// `client_gone`, which the generation routes poll to abort their engine requests.
//
// Two worker pools: GET routes (/health, /metrics, /v1/models) run on a small pool of their own, so probes
// answer in milliseconds whatever the generation load; everything else on a pool sized from the engine's
// limits. A request that finds its pool full gets 503 at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <httplib.h>

#include "server/request_framing.h"
#include "server/worker_pool.h"

namespace gptoss {

struct HttpFrontOptions {
    FramingLimits framing;
    int max_connections = 4096;
    int max_workers = 512;  // threads for POST routes (each in-flight generation request holds one)
    int num_probe_workers = 4;
    int max_probe_waiting = 4096;  // a waiting probe costs a queue entry: as many as connections
    std::chrono::milliseconds header_timeout{10000};  // first byte of a request to the end of its head
    std::chrono::milliseconds body_timeout{60000};    // first byte of a request to the end of its body
    std::chrono::milliseconds keep_alive_timeout{5000};
    std::chrono::milliseconds write_timeout{30000};  // a response write that makes no progress for this long
    int keep_alive_max_count = 10000;                // requests per connection
};

// One complete request, handed to a worker: read it from `stream`, write the response to it.
struct FrontRequest {
    httplib::Stream& stream;
    bool close_connection;  // the front wants the connection closed after this response
    std::shared_ptr<const std::atomic<bool>> client_gone;
};

class HttpFront {
public:
    // dispatch: answers one request; returns whether the connection may stay open.
    // render_error: the whole HTTP response (status line to body, "Connection: close") for an error the
    // front answers itself: 400/408/413/414/431/505 and 503 server_overloaded.
    using Dispatch = std::function<bool(FrontRequest&)>;
    using RenderError = std::function<std::string(int status, const std::string& message)>;
    // screen: looks at the head of a request that has a body, before the body is read; a response (whole,
    // closing the connection) refuses it, so a client without credentials cannot make the server read
    // --max-request-bytes first.
    using Screen = std::function<std::optional<std::string>(const RequestHead&)>;

    HttpFront(HttpFrontOptions options, Dispatch dispatch, RenderError render_error, Screen screen = nullptr);
    ~HttpFront();
    HttpFront(const HttpFront&) = delete;
    HttpFront& operator=(const HttpFront&) = delete;

    // Binds and listens; returns the port (port 0 = any). Throws std::runtime_error.
    int listen(const std::string& host, int port);
    void start();
    // Idle connections are closed, and every later response closes its connection.
    void begin_drain();
    // Closes the listener and every connection (a worker's writes then fail), and joins all threads.
    void stop();
    int listen_fd() const { return listen_fd_; }

private:
    struct Connection;
    void run();
    void accept_all();
    void on_event(int fd, uint32_t events);
    void advance(Connection& conn);
    void dispatch(Connection& conn, std::string request);
    void reject(Connection& conn, int status, const std::string& message);
    void refuse(Connection& conn, const std::string& response);
    void finish(int fd, bool keep);  // worker thread
    void take_returns();
    void sweep();
    void close_connection(int fd);
    void watch(int fd, uint32_t events);

    HttpFrontOptions options_;
    Dispatch dispatch_;
    RenderError render_error_;
    Screen screen_;
    int listen_fd_ = -1, epoll_fd_ = -1, wake_fd_ = -1, spare_fd_ = -1;
    std::unordered_map<int, std::unique_ptr<Connection>> connections_;  // front thread only
    std::atomic<bool> draining_{false}, stopping_{false};
    std::thread thread_;
    WorkerPool workers_, probe_workers_;

    std::mutex returns_mutex_;
    std::vector<std::pair<int, bool>> returns_;  // (fd, keep) from workers
};

}  // namespace gptoss
