#include "server/serve_app.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/http_server.h"
#include "server/model_resolver.h"
#include "server/serving_model_loader.h"

namespace gptoss {

namespace {

// Shutdown requests from SIGTERM/SIGINT, received by a dedicated thread (sigwait), never in a handler.
class SignalWatch {
public:
    // Blocks the signals in the calling thread; threads started afterwards inherit the mask.
    SignalWatch() {
        sigemptyset(&set_);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);
        signal(SIGPIPE, SIG_IGN);  // a client that went away must not kill the server on write
    }

    void start(std::function<void(int, int)> on_signal) {
        std::thread([this, on_signal] {
            for (int count = 1;; ++count) {
                int sig = 0;
                if (sigwait(&set_, &sig) != 0) return;
                on_signal(sig, count);
            }
        }).detach();
    }

private:
    sigset_t set_;
};

struct ShutdownState {
    std::mutex mutex;
    std::condition_variable stop_requested;
    HttpServer* server = nullptr;  // null once run_server has returned
    bool ready = false, stopping = false;

    // Clears `server` when run_server leaves, by return or exception.
    struct Detach {
        ShutdownState& state;
        ~Detach() {
            std::lock_guard lock(state.mutex);
            state.server = nullptr;
        }
    };
};

// Every open connection holds a descriptor and the default soft limit is often 1024, below
// --max-connections: take the hard limit, as nginx (worker_rlimit_nofile) and Go's runtime do.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int run_server(const ServerConfig& config, const std::filesystem::path& demo_model_dir,
               const RunnerFactory& make_runner) {
    SignalWatch signals;
    raise_descriptor_limit();
    ResolvedModel resolved = resolve_model(config.model, demo_model_dir, HfCacheEnvironment::from_process());

    HttpServerOptions options = http_server_options(config, resolved);
    HttpServer server(options);
    int port = server.start();
    spdlog::info("server listening host={} port={} url=http://{}:{} model={} threads={}", config.host, port,
                 config.host == "0.0.0.0" ? "127.0.0.1" : config.host, port, resolved.dir.string(),
                 options.num_threads);

    // Shared with the signal thread, which may outlive this function (it is detached).
    auto shutdown = std::make_shared<ShutdownState>();
    shutdown->server = &server;
    ShutdownState::Detach detach{*shutdown};
    signals.start([shutdown, drain_seconds = config.drain_timeout_seconds](int sig, int count) {
        std::lock_guard lock(shutdown->mutex);
        if (!shutdown->server) return;
        if (!shutdown->ready) {
            spdlog::info("signal {} while loading: exiting", sig);
            std::_Exit(0);
        }
        if (count == 1) {
            spdlog::info("signal {}: draining (timeout {}s)", sig, drain_seconds);
            shutdown->stopping = true;
            shutdown->stop_requested.notify_all();
        } else {
            spdlog::warn("signal {} again: aborting in-flight requests", sig);
            shutdown->server->abort_all();
        }
    });

    server.set_model(load_serving_model(resolved, config, make_runner));
    {
        std::unique_lock lock(shutdown->mutex);
        shutdown->ready = true;
        shutdown->stop_requested.wait(lock, [&] { return shutdown->stopping; });
    }

    server.begin_drain();
    auto drain = std::chrono::milliseconds(static_cast<int64_t>(config.drain_timeout_seconds * 1000));
    if (!server.wait_idle(drain)) {
        spdlog::warn("drain timeout after {}s: aborting in-flight requests", config.drain_timeout_seconds);
        server.abort_all();
        server.wait_idle(std::chrono::milliseconds(5000));
    }
    server.stop();
    spdlog::info("server stopped");
    return 0;
}

}  // namespace gptoss
