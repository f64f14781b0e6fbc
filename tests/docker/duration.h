// Durations as compose and Docker write them: "45s", "1m30s", "1h", "500ms", "1.5s".
#pragma once

#include <string>

namespace gptoss::testing {

// Seconds; throws std::runtime_error on a malformed duration.
double parse_duration_seconds(const std::string& text);

}  // namespace gptoss::testing
