// cpp-httplib wiring: route table, authentication, X-Request-Id, body limit, error objects, shutdown.
#include "server/http_server.h"

#include <algorithm>

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "engine/engine.h"
#include "server/batch_service.h"
#include "server/errors.h"
#include "server/http_front.h"
#include "server/openai_schema.h"
#include "server/routes.h"
#include "server/server_state.h"

namespace gptoss {

namespace {

// cpp-httplib's request processing (parse, route, handlers, write the response) on a stream the front
// hands over; its own accept loop, which holds one thread per open connection, is never run.
class RoutingServer : public httplib::Server {
public:
    // The library ends a streamed (content provider) response early when its listening socket is invalid,
    // as it is without listen(); `serving` marks it valid while the front runs.
    void set_serving(bool serving) { svr_sock_ = serving ? 0 : INVALID_SOCKET; }
    bool answer(httplib::Stream& stream, bool close_connection, bool& connection_closed) {
        return process_request(stream, close_connection, connection_closed, nullptr);
    }
};

constexpr int kDefaultThreads = 64 + 16;   // 64 concurrent streams plus room for other requests
constexpr int kKeepAliveMaxCount = 10000;  // requests on one connection before the server closes it

// The client_gone flag of the request the calling worker thread is answering. A worker answers one request
// at a time, start to end, on one thread; cpp-httplib has no per-request slot to carry it to the handler.
thread_local std::shared_ptr<const std::atomic<bool>> current_client_gone;

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
    if (error.code() == "server_overloaded") res.set_header("Retry-After", "1");
    set_json(res, error.to_json(), error.status());
}

const char* reason_phrase(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 408:
            return "Request Timeout";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 417:
            return "Expectation Failed";
        case 431:
            return "Request Header Fields Too Large";
        case 503:
            return "Service Unavailable";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Error";
    }
}

// The error object for a refusal of the connection front (http_front.h).
ApiError front_error(int status, const std::string& message) {
    switch (status) {
        case 503:
            return ApiError(503, "server_error", message, std::nullopt, "server_overloaded");
        case 413:
            return ApiError(413, "invalid_request_error", message, std::nullopt, "request_too_large");
        case 408:
            return ApiError(408, "invalid_request_error", message, std::nullopt, "request_timeout");
        case 414:
            return ApiError(414, "invalid_request_error", message, std::nullopt, "uri_too_long");
        case 431:
            return ApiError(431, "invalid_request_error", message, std::nullopt,
                            "request_header_fields_too_large");
        default:
            return ApiError(status, "invalid_request_error", message, std::nullopt, "malformed_http_request");
    }
}

// A whole HTTP response, closing the connection, for an error the front answers without cpp-httplib.
std::string render_closing_response(const ApiError& error) {
    int status = error.status();
    std::string body = error.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n"
        "X-Request-Id: {}\r\n{}\r\n{}",
        status, reason_phrase(status), body.size(), random_id("req-"),
        status == 503 ? "Retry-After: 1\r\n" : "", body);
}

std::string render_front_error(int status, const std::string& message) {
    return render_closing_response(front_error(status, message));
}

}  // namespace

class HttpServer::Impl {
public:
    explicit Impl(HttpServerOptions options) : state(std::move(options)) {
        if (!state.options().batch_dir.empty()) {
            batches = std::make_unique<BatchService>(state, state.options().batch_dir);
        }
    }

    ServerState state;
    std::unique_ptr<BatchService> batches;  // null without --batch-dir
    RoutingServer server;
    std::unique_ptr<HttpFront> front;

    BatchService& batch_service() const {
        if (!batches) throw api_errors::invalid_request("The Batch API is not enabled on this server.");
        return *batches;
    }

    // Every route but the probes' requires the API key: refuse a body without it before it is read.
    std::optional<std::string> screen(const RequestHead& head) const {
        if (state.options().api_key.empty()) return std::nullopt;
        std::string path = head.target.substr(0, head.target.find('?'));
        if (path == "/health" || path == "/metrics") return std::nullopt;
        std::string header;
        const std::string name = "authorization:";
        for (const auto& line : head.head_lines) {
            bool match = line.size() >= name.size();
            for (size_t i = 0; match && i < name.size(); ++i) match = std::tolower(line[i]) == name[i];
            if (!match) continue;
            size_t begin = line.find_first_not_of(" \t", name.size());
            size_t end = line.find_last_not_of(" \t");
            header = begin == std::string::npos ? "" : line.substr(begin, end + 1 - begin);
        }
        try {
            authorize_header(header);
        } catch (const ApiError& e) {
            return render_closing_response(e);
        }
        return std::nullopt;
    }

    // One request the front hands over, on a worker thread. Returns whether the connection stays open.
    bool answer(FrontRequest& request) {
        current_client_gone = request.client_gone;
        bool connection_closed = false;
        bool written = server.answer(request.stream, request.close_connection, connection_closed);
        current_client_gone.reset();
        return written && !connection_closed;
    }

    using JsonHandler = std::function<void(const RequestContext&, const nlohmann::json&, httplib::Response&)>;

    void authorize(const httplib::Request& req) const {
        authorize_header(req.get_header_value("Authorization"));
    }

    // Throws ApiError 401 unless `header` (the Authorization value) carries the API key.
    void authorize_header(const std::string& header) const {
        const std::string& key = state.options().api_key;
        if (key.empty()) return;
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
        return {res.get_header_value("X-Request-Id"), std::chrono::steady_clock::now(), req.body,
                current_client_gone};
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
        for (const char* path : {"/v1/chat/completions", "/v1/completions", "/v1/responses"}) {
            post_json(path, true,
                      [this, handler = generation_handler(path)](
                          const RequestContext& ctx, const nlohmann::json& body, httplib::Response& res) {
                          handler(state, ctx, body, res);
                      });
        }
        post_json("/tokenize", true,
                  [this](const RequestContext& ctx, const nlohmann::json& body, httplib::Response& res) {
                      handle_tokenize(state, ctx, body, res);
                  });
        post_json("/detokenize", true,
                  [this](const RequestContext&, const nlohmann::json& body, httplib::Response& res) {
                      handle_detokenize(state, body, res);
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
        add_batch_routes();
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

    void add_batch_routes() {
        bodyless("POST", "/v1/files", [this](const httplib::Request& req, httplib::Response& res) {
            handle_upload_file(batch_service(), req, res);
        });
        const std::string file_path = R"(/v1/files/([^/]+))";
        get(file_path, true, [this](const httplib::Request& req, httplib::Response& res) {
            handle_get_file(batch_service(), req.matches[1], res);
        });
        get(file_path + "/content", true, [this](const httplib::Request& req, httplib::Response& res) {
            handle_file_content(batch_service(), req.matches[1], res);
        });
        bodyless("DELETE", file_path, [this](const httplib::Request& req, httplib::Response& res) {
            handle_delete_file(batch_service(), req.matches[1], res);
        });
        post_json("/v1/batches", true,
                  [this](const RequestContext&, const nlohmann::json& body, httplib::Response& res) {
                      handle_create_batch(batch_service(), body, res);
                  });
        get("/v1/batches", true, [this](const httplib::Request& req, httplib::Response& res) {
            handle_list_batches(batch_service(), req, res);
        });
        const std::string batch_path = R"(/v1/batches/([^/]+))";
        get(batch_path, true, [this](const httplib::Request& req, httplib::Response& res) {
            handle_get_batch(batch_service(), req.matches[1], res);
        });
        bodyless("POST", batch_path + "/cancel", [this](const httplib::Request& req, httplib::Response& res) {
            handle_cancel_batch(batch_service(), req.matches[1], res);
        });
        other_methods_not_allowed("/v1/files", "POST");
        other_methods_not_allowed(file_path, "GET, DELETE");
        other_methods_not_allowed(file_path + "/content", "GET");
        other_methods_not_allowed("/v1/batches", "GET, POST");
        other_methods_not_allowed(batch_path, "GET");
        other_methods_not_allowed(batch_path + "/cancel", "POST");
    }

    void configure() {
        const HttpServerOptions& o = state.options();
        server.set_payload_max_length(o.max_request_bytes);  // the front enforces it first, for every framing
        // cpp-httplib writes these into its Keep-Alive response header; the front enforces them.
        server.set_keep_alive_max_count(kKeepAliveMaxCount);
        server.set_keep_alive_timeout(std::max<int64_t>(1, o.keep_alive_timeout.count() / 1000));
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
                // The library answers some malformed requests before the pre-routing handler has run.
                if (!res.has_header("X-Request-Id")) res.set_header("X-Request-Id", random_id("req-"));
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
    HttpFrontOptions front;
    front.framing.max_body_bytes = o.max_request_bytes;
    front.max_connections = o.max_connections;
    front.max_probe_waiting = o.max_connections;
    front.max_workers = o.num_threads > 0 ? o.num_threads : kDefaultThreads;
    front.header_timeout = o.header_timeout;
    front.keep_alive_timeout = o.keep_alive_timeout;
    front.keep_alive_max_count = kKeepAliveMaxCount;
    Impl* impl = impl_.get();
    impl->front = std::make_unique<HttpFront>(
        front, [impl](FrontRequest& request) { return impl->answer(request); }, render_front_error,
        [impl](const RequestHead& head) { return impl->screen(head); });
    int port = impl->front->listen(o.host, o.port);
    impl->server.set_serving(true);
    impl->front->start();
    return port;
}

void HttpServer::set_model(ServingModel model) {
    impl_->state.set_model(std::move(model));
    if (impl_->batches) impl_->batches->start();
}

void HttpServer::begin_drain() {
    // The running batch stops first, its lines in flight dropped: they are redone when the server is back.
    if (impl_->batches) impl_->batches->stop();
    impl_->state.begin_drain();
    if (impl_->front) impl_->front->begin_drain();
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
    if (impl_->batches) impl_->batches->stop();
    if (!impl_->front) return;
    impl_->front->stop();
    impl_->front.reset();
    impl_->server.set_serving(false);
}

const ServerMetrics& HttpServer::metrics() const {
    return impl_->state.metrics();
}

}  // namespace gptoss
