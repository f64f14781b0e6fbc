// What `gptoss serve` makes of an environment: its flags and their GPTOSS_* variables as its --help lists
// them, and the ServerConfig it would run with. Both go through ServerConfig::from_args, the code serve uses,
// so flags added later are covered without touching these tests.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/server_config.h"
#include "tests/docker/deploy_files.h"

namespace gptoss::testing {

// Environment variable -> flag name, for every serve flag (GPTOSS_MAX_NUM_SEQS -> max-num-seqs).
std::map<std::string, std::string> serve_env_flags();

// The ServerConfig of `gptoss serve <args>` with exactly `env` as its GPTOSS_* environment: the process's
// own GPTOSS_* variables are hidden for the call and restored after. Throws what from_args throws.
ServerConfig effective_server_config(const EnvMap& env, const std::vector<std::string>& args = {});

}  // namespace gptoss::testing
