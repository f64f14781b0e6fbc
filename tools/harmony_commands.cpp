// Placeholder until the owning issue lands: the command exists so that the CLI lists it.
#include "config/cli_flags.h"
#include "tools/commands.h"

namespace gptoss::cli {

int render_command(const Args&) {
    throw CliError("render: not implemented yet");
}

int parse_command(const Args&) {
    throw CliError("parse: not implemented yet");
}

}  // namespace gptoss::cli
