// The gptoss subcommands. Each takes the arguments after its own name and returns the process exit code.
// Errors print one line to stderr and return non-zero; --help prints the command's flags and returns 0.
#pragma once

#include <string>
#include <vector>

namespace gptoss::cli {

using Args = std::vector<std::string>;

int serve_command(const Args& args);            // tools/serve_command.cpp
int run_batch_command(const Args& args);        // tools/run_batch_command.cpp
int tokenize_command(const Args& args);         // tools/tokenize_command.cpp
int detokenize_command(const Args& args);       // tools/tokenize_command.cpp
int render_command(const Args& args);           // tools/harmony_commands.cpp
int parse_command(const Args& args);            // tools/harmony_commands.cpp
int score_command(const Args& args);            // tools/score_command.cpp
int generate_command(const Args& args);         // tools/generate_command.cpp
int make_checkpoint_command(const Args& args);  // tools/make_checkpoint_command.cpp
int bench_command(const Args& args);            // tools/bench_command.cpp
int bench_serve_command(const Args& args);      // tools/bench_serve_command.cpp (`gptoss bench serve`)

}  // namespace gptoss::cli
