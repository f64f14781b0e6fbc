// ServerState: what every route handler shares (internal to server/). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "engine/request.h"
#include "server/chat_mapping.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/response_store.h"

namespace gptoss {

// Per-HTTP-request facts the handlers use.
struct RequestContext {
    std::string request_id;  // X-Request-Id (the client's, or one we made)
    std::chrono::steady_clock::time_point arrival;
    std::string_view body_text;  // the raw request body (valid while the handler runs)
    // Set by the connection front when the client closes or resets the connection; null when unknown.
    std::shared_ptr<const std::atomic<bool>> client_gone;
    int priority = 0;  // Request::priority of its engine requests (kBatchPriority for batch lines)
};

class ServerState {
public:
    explicit ServerState(HttpServerOptions options);

    const HttpServerOptions& options() const { return options_; }
    ServerMetrics& metrics() { return metrics_; }
    ResponseStore& responses() { return responses_; }
    int64_t start_time() const { return start_time_; }  // unix seconds; "created" of /v1/models

    void set_model(ServingModel model);
    // The loaded model, or nullptr while loading.
    std::shared_ptr<const ServingModel> model() const;
    // The loaded model for a generation route; throws ApiError 503 while loading or draining.
    std::shared_ptr<const ServingModel> ready_model() const;
    // ready_model() for a request that will submit to the engine; also throws ApiError 503
    // server_overloaded, before any prompt work, when the engine holds all it can (running + queued).
    std::shared_ptr<const ServingModel> generation_model() const;
    // Throws ApiError 404 unless `model` is empty or one of the served names.
    void check_model_name(const std::string& model) const;
    const std::string& served_model_name() const { return options_.model_names.front(); }
    std::string system_fingerprint() const;
    // Options for build_chat_prompt; the date is today's (UTC) unless --harmony-current-date fixes it.
    ChatMappingOptions chat_mapping_options() const;

    void begin_drain();
    bool draining() const { return draining_.load(); }

    // Engine request ids are unique for the server's life.
    RequestId next_request_id() { return next_request_id_.fetch_add(1); }
    void track(RequestId id);
    void untrack(RequestId id);
    std::set<RequestId> tracked() const;

    // Generation requests in flight (held from parsing until the last byte of the response is written).
    class ActiveGuard {
    public:
        explicit ActiveGuard(ServerState& state);
        ~ActiveGuard();
        ActiveGuard(const ActiveGuard&) = delete;
        ActiveGuard& operator=(const ActiveGuard&) = delete;

    private:
        ServerState& state_;
    };
    bool wait_idle(std::chrono::milliseconds timeout);

private:
    HttpServerOptions options_;
    ServerMetrics metrics_;
    ResponseStore responses_;
    int64_t start_time_;
    std::atomic<bool> draining_{false};
    std::atomic<RequestId> next_request_id_{1};

    mutable std::mutex mutex_;
    std::condition_variable idle_;
    std::shared_ptr<const ServingModel> model_;
    std::set<RequestId> tracked_;
    int num_active_ = 0;
};

}  // namespace gptoss
