// HttpServer: the OpenAI-compatible HTTP API over one Engine (public header of the server module).
//
// Lifecycle, as `gptoss serve` drives it:
//   HttpServer server(options);  server.start();   // listening; /health answers 503 while loading
//   ... load tokenizer, weights, runner, Engine ...
//   server.set_model(model);                       // /health 200; generation routes open
//   ... SIGTERM ...
//   server.begin_drain();                          // new generation requests get 503; in-flight continue
//   server.wait_idle(drain_timeout) || server.abort_all();
//   server.stop();                                 // closes the listener and every connection, joins
//                                                  // the worker threads
//
// Routes: POST /v1/chat/completions, POST /v1/completions, POST /v1/responses, GET and DELETE
// /v1/responses/{id}, POST /v1/responses/{id}/cancel, GET /v1/models[/{id}], GET /health, GET /metrics,
// POST /tokenize, POST /detokenize, and the Batch API (/v1/files, /v1/batches: batches run in the background
// at low priority and resume after a restart). See docs/API.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/generation_config.h"
#include "engine/structured/token_vocabulary.h"

namespace gptoss {

class Engine;
class Tokenizer;
class ServerMetrics;

struct HttpServerOptions {
    std::string host = "0.0.0.0";
    int port = 8000;                       // 0 = any free port (start() returns it)
    std::string api_key;                   // empty = no authentication
    std::vector<std::string> model_names;  // [0] is listed by /v1/models; requests may use any of them
    std::string model_root;                // the checkpoint folder, shown by /v1/models
    size_t max_request_bytes = 16 * 1024 * 1024;
    int num_threads = 0;  // worker threads for POST routes (each in-flight request holds one); 0 = 64 + 16
    int max_connections = 4096;  // open connections; beyond, a new one gets 503 and is closed
    std::chrono::milliseconds keep_alive_timeout{5000};  // an idle connection is closed after this
    std::chrono::milliseconds header_timeout{10000};  // a request's head must arrive within this (else 408)
    std::string default_reasoning_effort = "medium";
    std::string harmony_current_date;  // "YYYY-MM-DD", "none" (no date line) or "" (today, UTC)
    std::chrono::milliseconds keep_alive_interval{1000};  // SSE comment while a stream has nothing to send
    size_t responses_store_size = 1024;  // /v1/responses kept for previous_response_id (LRU); 0 = none
    std::string batch_dir;  // files and batches of /v1/files and /v1/batches; empty = no Batch API
};

// What the generation routes need once the model is loaded.
struct ServingModel {
    std::shared_ptr<Engine> engine;
    std::shared_ptr<const Tokenizer> tokenizer;
    GenerationConfig generation_config;
    std::vector<int32_t>
        eos_token_ids;    // /v1/completions stops on these (generation_config, else config.json)
    std::string backend;  // "cpu" | "cuda": part of system_fingerprint
    // Token bytes for structured outputs; ServerState::set_model builds it from the tokenizer when unset.
    std::shared_ptr<const structured::TokenVocabulary> vocabulary;
};

class HttpServer {
public:
    explicit HttpServer(HttpServerOptions options);
    ~HttpServer();  // stop()s
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and starts serving on a background thread; returns the bound port. Throws std::runtime_error
    // naming the address when it cannot bind.
    int start();
    void set_model(ServingModel model);
    void begin_drain();
    // Waits until no generation request is in flight; false on timeout.
    bool wait_idle(std::chrono::milliseconds timeout);
    // Aborts every in-flight engine request (their streams end with finish_reason "abort").
    void abort_all();
    void stop();

    const ServerMetrics& metrics() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gptoss
