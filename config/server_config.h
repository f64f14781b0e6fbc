// ServerConfig: everything `gptoss serve` is told by flags or GPTOSS_* environment variables.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/engine_config.h"

namespace gptoss {

struct ServerConfig {
    std::string model;  // folder or Hugging Face id in the local HF cache; empty = bundled demo
    std::string host = "0.0.0.0";
    int port = 8000;
    std::string api_key;  // empty = no authentication
    std::string api_key_file;
    std::string served_model_name;  // default: the folder's name
    std::string backend = "auto";   // auto | cpu | cuda
    std::string default_reasoning_effort = "medium";
    std::string harmony_current_date;  // YYYY-MM-DD, "none" (no date line), or empty = today
    double drain_timeout_seconds = 30;
    std::optional<int64_t> max_request_bytes = 16 * 1024 * 1024;
    int http_threads = 0;  // 0 = --max-num-seqs + --max-queued-requests + 64
    int max_connections = 4096;
    double keep_alive_timeout_seconds = 5;
    double header_timeout_seconds = 10;
    int responses_store_size = 1024;  // stored /v1/responses (LRU) for previous_response_id; 0 = none
    // Files and batches of the Batch API; empty = $XDG_CACHE_HOME/gptoss/batches (else ~/.cache/…);
    // "none" = no Batch API.
    std::string batch_dir;
    std::string log_level = "info";
    EngineConfig engine;

    // Parses serve's flags (with GPTOSS_* fallbacks). Returns nullopt when --help was printed.
    // Throws CliError / ConfigError on bad values.
    static std::optional<ServerConfig> from_args(const std::vector<std::string>& args);
    void validate() const;
    // Reads api_key_file into api_key when given (trailing newline stripped).
    void resolve_api_key();
};

}  // namespace gptoss
