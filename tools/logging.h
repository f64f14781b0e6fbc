// Process-wide logging setup: spdlog to stderr, one line per event, "key=value" fields after the message.
#pragma once

#include <string>

namespace gptoss::cli {

// level: trace | debug | info | warn | error | off. Commands other than serve default to warn (quiet).
void setup_logging(const std::string& level);

}  // namespace gptoss::cli
