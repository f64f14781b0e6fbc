#include "config/server_config.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "config/cli_flags.h"
#include "config/model_config.h"

namespace gptoss {

namespace {

// YYYY-MM-DD with a plausible month and day (the renderer prints it verbatim).
bool is_iso_date(const std::string& text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (text[i] < '0' || text[i] > '9') return false;
    }
    int month = std::stoi(text.substr(5, 2));
    int day = std::stoi(text.substr(8, 2));
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

}  // namespace

std::optional<ServerConfig> ServerConfig::from_args(const std::vector<std::string>& args) {
    ServerConfig c;
    FlagSet flags("serve", "[flags]",
                  "Serve a gpt-oss checkpoint over an OpenAI-compatible HTTP API (/v1/chat/completions, "
                  "/v1/completions, /v1/responses, /v1/models, /health, /metrics).",
                  /*use_env=*/true);
    flags.add_string("model", &c.model,
                     "checkpoint folder, or a Hugging Face id found in the local HF cache (never downloads); "
                     "default: the bundled demo model");
    flags.add_string("host", &c.host, "address to listen on");
    flags.add_int("port", &c.port, "TCP port to listen on");
    flags.add_string("api-key", &c.api_key, "require 'Authorization: Bearer KEY' on /v1 routes");
    flags.add_string("api-key-file", &c.api_key_file, "read the API key from this file");
    flags.add_string("served-model-name", &c.served_model_name,
                     "model name reported by /v1/models and accepted "
                     "in requests (default: the checkpoint folder name)");
    flags.add_choice("backend", &c.backend, {"auto", "cpu", "cuda"}, "which engine runs the model");
    flags.add_choice("default-reasoning-effort", &c.default_reasoning_effort, {"low", "medium", "high"},
                     "reasoning effort when a request gives none");
    flags.add_string("harmony-current-date", &c.harmony_current_date,
                     "date on the system message's 'Current date' line: YYYY-MM-DD, or none (no line); "
                     "default: today");
    flags.add_double("drain-timeout", &c.drain_timeout_seconds,
                     "seconds in-flight requests may take to finish after SIGTERM/SIGINT");
    flags.add_optional_bytes("max-request-bytes", &c.max_request_bytes,
                             "largest request body accepted (HTTP 413 above)");
    flags.add_int("http-threads", &c.http_threads,
                  "HTTP worker threads for POST routes (0 = --max-num-seqs + --max-queued-requests + 64)");
    flags.add_int("max-connections", &c.max_connections,
                  "open client connections; a connection beyond gets 503 and is closed");
    flags.add_double("keep-alive-timeout", &c.keep_alive_timeout_seconds,
                     "seconds an idle keep-alive connection stays open");
    flags.add_double("header-timeout", &c.header_timeout_seconds,
                     "seconds a request's headers may take to arrive (HTTP 408 after)");
    flags.add_int("responses-store-size", &c.responses_store_size,
                  "responses kept in memory for GET /v1/responses/{id} and previous_response_id, least "
                  "recently used evicted first (0 = keep none)");
    flags.add_string(
        "batch-dir", &c.batch_dir,
        "folder for the files and batches of /v1/files and /v1/batches, kept across restarts "
        "(default: $XDG_CACHE_HOME/gptoss/batches, else ~/.cache/gptoss/batches; none = no Batch API)");
    flags.add_choice("log-level", &c.log_level, {"trace", "debug", "info", "warn", "error", "off"},
                     "log verbosity");
    c.engine.register_flags(flags);
    if (!flags.parse(args)) {
        std::cout << flags.help();
        return std::nullopt;
    }
    c.resolve_api_key();
    c.validate();
    return c;
}

void ServerConfig::resolve_api_key() {
    if (api_key_file.empty()) return;
    if (!api_key.empty()) throw CliError("serve: give either --api-key or --api-key-file, not both");
    std::ifstream in(api_key_file);
    if (!in) throw CliError(fmt::format("serve: cannot read --api-key-file '{}'", api_key_file));
    std::stringstream buffer;
    buffer << in.rdbuf();
    api_key = buffer.str();
    while (!api_key.empty() && (api_key.back() == '\n' || api_key.back() == '\r' || api_key.back() == ' ')) {
        api_key.pop_back();
    }
    if (api_key.empty()) throw CliError(fmt::format("serve: --api-key-file '{}' is empty", api_key_file));
}

void ServerConfig::validate() const {
    if (port < 0 || port > 65535) throw ConfigError(fmt::format("--port must be in 0..65535, got {}", port));
    if (!harmony_current_date.empty() && harmony_current_date != "none") {
        if (!is_iso_date(harmony_current_date)) {
            throw ConfigError(fmt::format("--harmony-current-date must be YYYY-MM-DD or none, got '{}'",
                                          harmony_current_date));
        }
    }
    if (drain_timeout_seconds < 0) throw ConfigError("--drain-timeout must not be negative");
    if (max_request_bytes && *max_request_bytes <= 0)
        throw ConfigError("--max-request-bytes must be positive");
    if (http_threads < 0) throw ConfigError("--http-threads must not be negative");
    if (responses_store_size < 0) throw ConfigError("--responses-store-size must not be negative");
    if (max_connections < 1) throw ConfigError("--max-connections must be positive");
    if (keep_alive_timeout_seconds <= 0) throw ConfigError("--keep-alive-timeout must be positive");
    if (header_timeout_seconds <= 0) throw ConfigError("--header-timeout must be positive");
    engine.validate();
}

}  // namespace gptoss
