// gptoss run-batch: an OpenAI batch input file (JSONL) through the generation routes, without HTTP; the
// server module runs the job, this command parses the flags and supplies the backend's runner.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <spdlog/spdlog.h>

#include "config/cli_flags.h"
#include "engine/weights/model_weights.h"
#include "server/batch_app.h"
#include "tools/commands.h"
#include "tools/runner_factory.h"

namespace gptoss::cli {

int run_batch_command(const Args& args) {
    RunBatchConfig config;
    ServerConfig& server = config.server;
    std::string log_level = "info";
    FlagSet flags(
        "run-batch", "-i requests.jsonl -o results.jsonl [flags]",
        "Run an OpenAI batch input file (lines of {custom_id, method, url, body} for "
        "/v1/chat/completions, /v1/completions or /v1/responses) and append one OpenAI batch output "
        "line per request. Rerun with the same output file to resume: custom_ids already answered "
        "are skipped.");
    flags.add_string("input", &config.input, "batch input file, or - for standard input (-i)");
    flags.add_string("output", &config.output,
                     "output file, appended to and resumed, or - for standard output (-o)");
    flags.add_int(
        "max-in-flight", &config.max_in_flight,
        "requests running at once (0 = --max-num-seqs + min(--max-num-seqs, --max-queued-requests))");
    flags.add_string("model", &server.model,
                     "checkpoint folder, or a Hugging Face id found in the local HF cache (never downloads); "
                     "default: the bundled demo model");
    flags.add_string("served-model-name", &server.served_model_name,
                     "model name accepted in request bodies (default: the checkpoint folder name)");
    flags.add_choice("backend", &server.backend, {"auto", "cpu", "cuda"}, "which engine runs the model");
    flags.add_choice("default-reasoning-effort", &server.default_reasoning_effort, {"low", "medium", "high"},
                     "reasoning effort when a request gives none");
    flags.add_string("harmony-current-date", &server.harmony_current_date,
                     "date on the system message's 'Current date' line: YYYY-MM-DD, or none (no line); "
                     "default: today");
    flags.add_choice("log-level", &log_level, {"trace", "debug", "info", "warn", "error", "off"},
                     "log verbosity");
    server.engine.register_flags(flags);
    // -i and -o, as vLLM's run-batch spells them.
    Args expanded;
    for (const auto& arg : args) {
        expanded.push_back(arg == "-i" ? "--input" : arg == "-o" ? "--output" : arg);
    }
    if (!flags.parse(expanded)) {
        std::cout << flags.help();
        return 0;
    }
    if (config.output.empty()) throw CliError("run-batch: --output (-o) is required");
    if (config.max_in_flight < 0) throw CliError("run-batch: --max-in-flight must not be negative");
    server.responses_store_size = 0;  // nothing can ask for a stored response afterwards
    server.validate();
    spdlog::set_level(spdlog::level::from_str(log_level));
    const std::string backend = resolve_backend(server.backend);
    return run_batch(config, GPTOSS_DEMO_MODEL_DIR,
                     [backend](const std::filesystem::path& dir, const ModelConfig& model_config,
                               const ServerConfig& server_config) {
                         std::shared_ptr<const ModelWeights> weights = ModelWeights::load(
                             dir, model_config, /*show_progress=*/isatty(fileno(stderr)) != 0);
                         return make_runner(backend, std::move(weights), server_config.engine);
                     });
}

}  // namespace gptoss::cli
