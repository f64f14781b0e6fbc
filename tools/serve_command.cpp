// Placeholder until the owning issue lands: the command exists so that the CLI lists it.
#include "config/cli_flags.h"
#include "tools/commands.h"

namespace gptoss::cli {

int serve_command(const Args&) {
    throw CliError("serve: not implemented yet");
}

}  // namespace gptoss::cli
