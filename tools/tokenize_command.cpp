// Placeholder until the owning issue lands: the command exists so that the CLI lists it.
#include "config/cli_flags.h"
#include "tools/commands.h"

namespace gptoss::cli {

int tokenize_command(const Args&) {
    throw CliError("tokenize: not implemented yet");
}

int detokenize_command(const Args&) {
    throw CliError("detokenize: not implemented yet");
}

}  // namespace gptoss::cli
