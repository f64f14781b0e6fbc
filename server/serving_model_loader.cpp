#include "server/serving_model_loader.h"

#include <chrono>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "config/generation_config.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

namespace gptoss {

HttpServerOptions http_server_options(const ServerConfig& config, const ResolvedModel& resolved) {
    HttpServerOptions options;
    options.host = config.host;
    options.port = config.port;
    options.api_key = config.api_key;
    options.model_names.push_back(config.served_model_name.empty() ? resolved.name
                                                                   : config.served_model_name);
    if (options.model_names.front() != resolved.name) options.model_names.push_back(resolved.name);
    options.model_root = std::filesystem::absolute(resolved.dir).string();
    options.max_request_bytes = static_cast<size_t>(config.max_request_bytes.value_or(int64_t{1} << 40));
    // Every request the engine may hold (running or queued) holds a worker; the 64 more answer the excess
    // with the engine's own 503 and serve /tokenize. GET routes have workers of their own (http_front.h).
    options.num_threads = config.http_threads > 0
                              ? config.http_threads
                              : config.engine.max_num_seqs + config.engine.max_queued_requests + 64;
    options.max_connections = config.max_connections;
    auto millis = [](double seconds) {
        return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    };
    options.keep_alive_timeout = millis(config.keep_alive_timeout_seconds);
    options.header_timeout = millis(config.header_timeout_seconds);
    options.default_reasoning_effort = config.default_reasoning_effort;
    options.harmony_current_date = config.harmony_current_date;
    options.responses_store_size = static_cast<size_t>(config.responses_store_size);
    options.batch_dir = config.batch_dir == "none" ? "" : config.batch_dir;
    if (config.batch_dir.empty()) {
        const char* xdg = std::getenv("XDG_CACHE_HOME");
        const char* home = std::getenv("HOME");
        if (xdg && *xdg) {
            options.batch_dir = (std::filesystem::path(xdg) / "gptoss" / "batches").string();
        } else if (home && *home) {
            options.batch_dir = (std::filesystem::path(home) / ".cache" / "gptoss" / "batches").string();
        }
        // A default folder that cannot be made (read-only home) turns the Batch API off rather than stopping
        // the server; one given with --batch-dir must work.
        std::error_code error;
        if (!options.batch_dir.empty() && !std::filesystem::create_directories(options.batch_dir, error) &&
            error) {
            spdlog::warn("batch api off: cannot create {} ({}); set --batch-dir", options.batch_dir,
                         error.message());
            options.batch_dir.clear();
        }
    }

    return options;
}

ServingModel load_serving_model(const ResolvedModel& resolved, const ServerConfig& config,
                                const RunnerFactory& make_runner) {
    auto load_start = std::chrono::steady_clock::now();
    ModelConfig model_config = ModelConfig::from_file(resolved.dir);
    GenerationConfig generation_config = GenerationConfig::from_model_dir(resolved.dir);
    std::shared_ptr<const Tokenizer> tokenizer = Tokenizer::from_file(resolved.dir);
    std::unique_ptr<ModelRunner> runner = make_runner(resolved.dir, model_config, config);
    std::string backend(runner->backend_name());
    auto engine = std::make_shared<Engine>(config.engine, std::move(runner), tokenizer);
    KvCapacity kv = engine->capacity();
    spdlog::info(
        "model ready backend={} max_model_len={} kv_blocks_full={} kv_blocks_window={} block_size={} "
        "max_cached_tokens={} load_s={:.1f}",
        backend, kv.max_model_len, kv.num_full_blocks, kv.num_window_blocks, kv.block_size,
        kv.max_cached_tokens,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count());

    ServingModel model;
    model.engine = engine;
    model.tokenizer = tokenizer;
    model.eos_token_ids.assign(generation_config.eos_token_ids.begin(),
                               generation_config.eos_token_ids.end());
    if (model.eos_token_ids.empty()) {
        model.eos_token_ids.assign(model_config.eos_token_ids.begin(), model_config.eos_token_ids.end());
    }
    model.generation_config = std::move(generation_config);
    model.backend = backend;
    return model;
}

}  // namespace gptoss
