// run_batch: the whole of `gptoss run-batch` - load the model as serve does, run an OpenAI batch input file
// through the generation routes (no HTTP), append the answers to the output file, and report progress: a
// progress line on a terminal, else a log line every few seconds.
#pragma once

#include <filesystem>
#include <string>

#include "config/server_config.h"
#include "server/serve_app.h"

namespace gptoss {

struct RunBatchConfig {
    std::string input = "-";  // a JSONL file, or "-" for standard input
    std::string output;       // a JSONL file (resumed when it exists), or "-" for standard output
    int max_in_flight =
        0;                // requests at once; 0 = --max-num-seqs + min(--max-num-seqs, --max-queued-requests)
    ServerConfig server;  // the model and engine flags serve takes (the HTTP ones are unused)
};

// Returns the exit code: 0 once every line has an answer (failed lines included). Throws on errors before the
// job starts (model, input or output not usable) and when an answer cannot be written.
int run_batch(const RunBatchConfig& config, const std::filesystem::path& demo_model_dir,
              const RunnerFactory& make_runner);

}  // namespace gptoss
