// gptoss: the command-line tool. `gptoss <command> [flags]`; `gptoss help` lists the commands.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "config/cli_flags.h"
#include "config/model_config.h"
#include "tools/commands.h"
#include "tools/logging.h"

namespace {

struct Command {
    std::string_view name;
    int (*run)(const gptoss::cli::Args&);
    std::string_view summary;
};

constexpr Command kCommands[] = {
    {"serve", gptoss::cli::serve_command, "serve a checkpoint over the OpenAI-compatible HTTP API"},
    {"run-batch", gptoss::cli::run_batch_command, "run an OpenAI batch file (JSONL) offline, resumable"},
    {"generate", gptoss::cli::generate_command, "generate token ids from a prompt of token ids"},
    {"score", gptoss::cli::score_command, "write the float32 logits of every position to a safetensors file"},
    {"tokenize", gptoss::cli::tokenize_command, "text on stdin -> token ids (JSON)"},
    {"detokenize", gptoss::cli::detokenize_command, "token ids (JSON) on stdin -> text"},
    {"render", gptoss::cli::render_command, "render a harmony conversation (JSON on stdin) to token ids"},
    {"parse", gptoss::cli::parse_command, "parse harmony token ids (JSON on stdin) into messages"},
    {"make-checkpoint", gptoss::cli::make_checkpoint_command, "write a synthetic gpt-oss checkpoint"},
    {"bench", gptoss::cli::bench_command, "measure engine or serving (bench serve) throughput"},
};

#ifdef GPTOSS_HAVE_CUDA
constexpr bool kHaveCuda = true;
#else
constexpr bool kHaveCuda = false;
#endif

void print_usage(std::FILE* out) {
    fmt::print(out, "gptoss {}: an OpenAI-compatible inference server for gpt-oss\n\n", GPTOSS_VERSION);
    fmt::print(out,
               "usage: gptoss <command> [flags]     (gptoss <command> --help for its flags)\n\ncommands:\n");
    for (const auto& c : kCommands) fmt::print(out, "  {:<17}{}\n", c.name, c.summary);
    fmt::print(out, "  {:<17}{}\n  {:<17}{}\n", "help", "show this text", "--version", "print the version");
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
        print_usage(stdout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version" || args[0] == "version") {
        fmt::print("gptoss {} (cuda backend: {})\n", GPTOSS_VERSION, kHaveCuda ? "built in" : "not built");
        return 0;
    }
    for (const auto& command : kCommands) {
        if (args[0] != command.name) continue;
        // The long-running commands log their progress; the one-shot tools stay quiet.
        const bool long_running = command.name == "serve" || command.name == "run-batch";
        gptoss::cli::setup_logging(long_running ? "info" : "warn");
        try {
            return command.run({args.begin() + 1, args.end()});
        } catch (const gptoss::CliError& e) {
            fmt::print(stderr, "gptoss: {}\n", e.what());
            return 2;
        } catch (const std::exception& e) {
            fmt::print(stderr, "gptoss {}: {}\n", command.name, e.what());
            return 1;
        }
    }
    fmt::print(stderr, "gptoss: unknown command '{}' (run 'gptoss help' for the list)\n", args[0]);
    return 2;
}
