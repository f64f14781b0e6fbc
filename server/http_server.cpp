// cpp-httplib wiring: route table, authentication, X-Request-Id, body limit, error objects, shutdown.
#include "server/http_server.h"

#include <sys/socket.h>

#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "engine/engine.h"
#include "server/errors.h"
#include "server/openai_schema.h"
#include "server/routes.h"
#include "server/server_state.h"

namespace gptoss {

namespace {

// cpp-httplib (0.11.4, as packaged) listens with a backlog of 5, which drops connections when many clients
// connect at once; the subclass reaches the listening socket to raise it.
class ListeningServer : public httplib::Server {
public:
    void raise_backlog(int backlog) { ::listen(svr_sock_, backlog); }
};

constexpr int kListenBacklog = 1024;
constexpr int kDefaultThreads = 64 + 16;  // 64 concurrent streams plus room for health checks and scrapes

// The client's X-Request-Id when it is short printable ASCII, else a fresh one.
std::string request_id_for(const httplib::Request& req) {
    std::string given = req.get_header_value("X-Request-Id");
    bool usable = !given.empty() && given.size() <= 128;
    for (char c : given) usable = usable && c > 0x20 && c < 0x7f;
    return usable ? given : random_id("req-");
}

// Constant-time comparison, so response timing does not reveal how much of a key matched.
bool keys_equal(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

void write_error(httplib::Response& res, const ApiError& error) {
    set_json(res, error.to_json(), error.status());
}

}  // namespace

class HttpServer::Impl {
public:
    explicit Impl(HttpServerOptions options) : state(std::move(options)) {}

    ServerState state;
    ListeningServer server;
    std::thread listener;
    bool started = false;

    using JsonHandler = std::function<void(const RequestContext&, const nlohmann::json&, httplib::Response&)>;

    void authorize(const httplib::Request& req) const {
        const std::string& key = state.options().api_key;
        if (key.empty()) return;
        std::string header = req.get_header_value("Authorization");
        const std::string scheme = "bearer ";
        bool bearer = header.size() > scheme.size();
        for (size_t i = 0; bearer && i < scheme.size(); ++i) bearer = std::tolower(header[i]) == scheme[i];
        if (!bearer) throw api_errors::invalid_api_key(!header.empty());
        if (!keys_equal(header.substr(scheme.size()), key)) throw api_errors::invalid_api_key(true);
    }

    // Runs a handler; ApiError becomes its error object, anything else a logged 500.
    void guarded(const httplib::Request& req, httplib::Response& res, const std::function<void()>& body) {
        try {
            body();
        } catch (const ApiError& e) {
            if (e.status() == 500) spdlog::error("request failed path={} error={}", req.path, e.what());
            write_error(res, e);
        } catch (const std::exception& e) {
            spdlog::error("internal error path={} error={}", req.path, e.what());
            write_error(res, api_errors::internal(e.what()));
        }
    }

    RequestContext context(const httplib::Request& req, const httplib::Response& res) const {
        return {res.get_header_value("X-Request-Id"), std::chrono::steady_clock::now(), req.body};
    }

    void post_json(const std::string& pattern, bool needs_auth, JsonHandler handler) {
        server.Post(pattern,
                    [this, needs_auth, handler](const httplib::Request& req, httplib::Response& res) {
                        RequestContext ctx = context(req, res);
                        guarded(req, res, [&] {
                            if (needs_auth) authorize(req);
                            nlohmann::json body = parse_json_body(req.body);
                            handler(ctx, body, res);
                        });
                    });
    }

    void get(const std::string& pattern, bool needs_auth,
             std::function<void(const httplib::Request&, httplib::Response&)> handler) {
        server.Get(pattern, [this, needs_auth, handler](const httplib::Request& req, httplib::Response& res) {
            guarded(req, res, [&] {
                if (needs_auth) authorize(req);
                handler(req, res);
            });
        });
    }

    // A route without a JSON body: GET, DELETE, or a POST action (cancel).
    void bodyless(const std::string& method, const std::string& pattern,
                  std::function<void(const httplib::Request&, httplib::Response&)> handler) {
        auto wrapped = [this, handler](const httplib::Request& req, httplib::Response& res) {
            guarded(req, res, [&] {
                authorize(req);
                handler(req, res);
            });
        };
        if (method == "DELETE") server.Delete(pattern, wrapped);
        if (method == "POST") server.Post(pattern, wrapped);
    }

    // Every method but `allowed` answers 405 on `pattern`.
    void other_methods_not_allowed(const std::string& pattern, const std::string& allowed) {
        auto refuse = [this, allowed](const httplib::Request& req, httplib::Response& res) {
            res.set_header("Allow", allowed);
            write_error(res, api_errors::method_not_allowed(req.method, req.path));
        };
        // A method in `allowed` registered before this call keeps its handler (httplib takes the first
        // match).
        if (allowed != "GET") server.Get(pattern, refuse);
        if (allowed != "POST") server.Post(pattern, refuse);
        server.Put(pattern, refuse);
        server.Patch(pattern, refuse);
        server.Delete(pattern, refuse);
        server.Options(pattern, refuse);
    }

    void add_routes() {
        post_json("/v1/chat/completions", true,
                  [this](const RequestContext& ctx, const nlohmann::json& body, httplib::Response& res) {
                      handle_chat_completions(state, ctx, body, res);
                  });
        post_json("/v1/completions", true,
                  [this](const RequestContext& ctx, const nlohmann::json& body, httplib::Response& res) {
                      handle_completions(state, ctx, body, res);
                  });
        post_json("/tokenize", true,
                  [this](const RequestContext& ctx, const nlohmann::json& body, httplib::Response& res) {
                      handle_tokenize(state, ctx, body, res);
                  });
        post_json("/detokenize", true,
                  [this](const RequestContext&, const nlohmann::json& body, httplib::Response& res) {
                      handle_detokenize(state, body, res);
                  });
        post_json("/v1/responses", true,
                  [this](const RequestContext& ctx, const nlohmann::json& body, httplib::Response& res) {
                      handle_responses(state, ctx, body, res);
                  });
        const std::string response_path = R"(/v1/responses/([^/]+))";
        get(response_path, true, [this](const httplib::Request& req, httplib::Response& res) {
            handle_get_response(state, req.matches[1], res);
        });
        bodyless("DELETE", response_path, [this](const httplib::Request& req, httplib::Response& res) {
            handle_delete_response(state, req.matches[1], res);
        });
        bodyless("POST", response_path + "/cancel",
                 [this](const httplib::Request& req, httplib::Response& res) {
                     handle_cancel_response(state, req.matches[1], res);
                 });
        get("/v1/models", true,
            [this](const httplib::Request&, httplib::Response& res) { handle_models(state, res); });
        get(R"(/v1/models/(.+))", true, [this](const httplib::Request& req, httplib::Response& res) {
            handle_model(state, req.matches[1], res);
        });
        get("/health", false,
            [this](const httplib::Request&, httplib::Response& res) { handle_health(state, res); });
        get("/metrics", false,
            [this](const httplib::Request&, httplib::Response& res) { handle_metrics(state, res); });
        for (const char* path :
             {"/v1/chat/completions", "/v1/completions", "/v1/responses", "/tokenize", "/detokenize"}) {
            other_methods_not_allowed(path, "POST");
        }
        other_methods_not_allowed(response_path, "GET, DELETE");
        other_methods_not_allowed(response_path + "/cancel", "POST");
        for (const char* path : {"/v1/models", R"(/v1/models/(.+))", "/health", "/metrics"}) {
            other_methods_not_allowed(path, "GET");
        }
    }

    void configure() {
        const HttpServerOptions& o = state.options();
        int num_threads = o.num_threads > 0 ? o.num_threads : kDefaultThreads;
        server.new_task_queue = [num_threads] { return new httplib::ThreadPool(num_threads); };
        server.set_payload_max_length(o.max_request_bytes);
        // The library's default also sets SO_REUSEPORT, which lets a second server bind a port that is in use
        // and silently share its traffic; only SO_REUSEADDR (restart without waiting out TIME_WAIT) is
        // wanted.
        server.set_socket_options([](socket_t sock) {
            int yes = 1;
            setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        });
        server.set_keep_alive_max_count(1000);
        // Responses go out as several small writes (headers, body, one SSE event per token); with Nagle's
        // algorithm each would wait for the client's delayed ACK (~40 ms).
        server.set_tcp_nodelay(true);
        server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
            res.set_header("X-Request-Id", request_id_for(req));
            // This cpp-httplib compresses text/event-stream when the client accepts gzip, which buffers SSE
            // events; responses here are small, so serve everything uncompressed. (req is a non-const
            // object inside the library; only the header set is changed.)
            const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
            return httplib::Server::HandlerResponse::Unhandled;
        });
        // Errors the library produces itself (unknown route, body too large, unparsable request) get an
        // OpenAI error object; responses a handler already filled pass through.
        server.set_error_handler(
            httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
                if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
                ApiError error = res.status == 404 ? api_errors::route_not_found(req.method, req.path)
                                 : res.status == 413
                                     ? api_errors::payload_too_large(state.options().max_request_bytes)
                                     : api_errors::invalid_request("The HTTP request is malformed.");
                int status = res.status;
                set_json(res, error.to_json(), status);
                return httplib::Server::HandlerResponse::Handled;
            }));
        server.set_exception_handler(
            [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
                std::string what = "unknown exception";
                try {
                    std::rethrow_exception(ep);
                } catch (const std::exception& e) {
                    what = e.what();
                } catch (...) {
                }
                spdlog::error("internal error path={} error={}", req.path, what);
                write_error(res, api_errors::internal(what));
            });
        server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
            spdlog::debug("http method={} path={} status={} id={}", req.method, req.path, res.status,
                          res.get_header_value("X-Request-Id"));
        });
        add_routes();
    }
};

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
    impl_->configure();
}

HttpServer::~HttpServer() {
    stop();
}

int HttpServer::start() {
    const HttpServerOptions& o = impl_->state.options();
    int port = o.port;
    if (port == 0) {
        port = impl_->server.bind_to_any_port(o.host);
        if (port < 0) throw std::runtime_error(fmt::format("cannot listen on {} (any port)", o.host));
    } else if (!impl_->server.bind_to_port(o.host, port)) {
        throw std::runtime_error(
            fmt::format("cannot listen on {}:{} (address in use or not available)", o.host, port));
    }
    impl_->server.raise_backlog(kListenBacklog);
    impl_->started = true;
    impl_->listener = std::thread([this] { impl_->server.listen_after_bind(); });
    // stop() is a no-op until the loop runs, so do not return before it does.
    while (!impl_->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return port;
}

void HttpServer::set_model(ServingModel model) {
    impl_->state.set_model(std::move(model));
}

void HttpServer::begin_drain() {
    impl_->state.begin_drain();
    if (auto model = impl_->state.model()) model->engine->begin_shutdown();
}

bool HttpServer::wait_idle(std::chrono::milliseconds timeout) {
    return impl_->state.wait_idle(timeout);
}

void HttpServer::abort_all() {
    auto model = impl_->state.model();
    if (!model) return;
    for (RequestId id : impl_->state.tracked()) model->engine->abort(id);
}

void HttpServer::stop() {
    if (!impl_->started) return;
    impl_->started = false;
    impl_->server.stop();
    if (impl_->listener.joinable()) impl_->listener.join();
}

const ServerMetrics& HttpServer::metrics() const {
    return impl_->state.metrics();
}

}  // namespace gptoss
