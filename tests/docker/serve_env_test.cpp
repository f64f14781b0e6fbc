// Every GPTOSS_* variable that docker/ mentions is a serve flag's environment variable, and every value the
// images, compose.yaml and the Deployment set parses and validates as that flag.
#include <gtest/gtest.h>

#include <regex>

#include "config/cli_flags.h"
#include "tests/docker/deploy_files.h"
#include "tests/docker/dockerfile.h"
#include "tests/docker/serve_flags.h"
#include "tests/support/fixture.h"

namespace gptoss::testing {
namespace {

TEST(ServeEnvironment, HelpListsEveryFlagWithItsVariable) {
    auto flags = serve_env_flags();
    // A few flags every deployment file relies on, so that a change to --help's layout cannot empty the list.
    for (const char* flag :
         {"model", "host", "port", "backend", "drain-timeout", "max-num-seqs", "api-key"}) {
        std::string env = FlagSet::env_name(flag);
        ASSERT_TRUE(flags.count(env)) << env;
        EXPECT_EQ(flags.at(env), flag);
    }
}

TEST(ServeEnvironment, EveryGptossVariableInDockerIsAServeFlag) {
    auto flags = serve_env_flags();
    static const std::regex variable(R"(\bGPTOSS_[A-Z0-9_]*[A-Z0-9])");
    int checked = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(docker_dir())) {
        if (!entry.is_regular_file()) continue;
        std::string text = read_file(entry.path());
        for (auto it = std::sregex_iterator(text.begin(), text.end(), variable); it != std::sregex_iterator();
             ++it) {
            ++checked;
            EXPECT_TRUE(flags.count(it->str()))
                << std::filesystem::relative(entry.path(), source_dir()).string() << ": " << it->str()
                << " is no serve flag (gptoss serve would ignore it)";
        }
    }
    EXPECT_GT(checked, 10);
}

TEST(ServeEnvironment, EveryDeploymentsSettingsParseAsServeFlags) {
    Dockerfile cuda = Dockerfile::load(docker_dir() / "Dockerfile");
    Dockerfile cpu = Dockerfile::load(docker_dir() / "Dockerfile.cpu");
    auto compose = load_yaml_documents(docker_dir() / "compose.yaml");
    ASSERT_EQ(compose.size(), 1u);
    YAML::Node service = compose[0].node["services"].begin()->second;
    YAML::Node deployment = only_of_kind(load_k8s_documents(), "Deployment");
    ASSERT_TRUE(deployment);
    YAML::Node container = deployment["spec"]["template"]["spec"]["containers"][0];

    const std::pair<const char*, EnvMap> cases[] = {
        {"Dockerfile", cuda.stages.back().env()},
        {"Dockerfile.cpu", cpu.stages.back().env()},
        {"compose.yaml", overlay(cuda.stages.back().env(), compose_environment(service))},
        {"k8s/deployment.yaml", overlay(cuda.stages.back().env(), k8s_literal_env(container))},
    };
    for (const auto& [where, env] : cases) {
        SCOPED_TRACE(where);
        EXPECT_NO_THROW(effective_server_config(env));
        // Each value is the one serve ends up with: nothing is silently dropped.
        ServerConfig config = effective_server_config(env);
        if (env.count("GPTOSS_PORT")) {
            EXPECT_EQ(std::to_string(config.port), env.at("GPTOSS_PORT"));
        }
        if (env.count("GPTOSS_MODEL")) {
            EXPECT_EQ(config.model, env.at("GPTOSS_MODEL"));
        }
        if (env.count("GPTOSS_SERVED_MODEL_NAME")) {
            EXPECT_EQ(config.served_model_name, env.at("GPTOSS_SERVED_MODEL_NAME"));
        }
        if (env.count("GPTOSS_MAX_NUM_SEQS")) {
            EXPECT_EQ(std::to_string(config.engine.max_num_seqs), env.at("GPTOSS_MAX_NUM_SEQS"));
        }
    }
}

TEST(ServeEnvironment, DeploymentGuideTablesEveryFlag) {
    // docs/DEPLOYMENT.md's configuration table: rows "| `--flag` | `GPTOSS_FLAG` | ...".
    std::string guide = read_file(source_dir() / "docs" / "DEPLOYMENT.md");
    static const std::regex row(R"(\n\| `--([a-z0-9-]+)` \| `(GPTOSS_[A-Z0-9_]+)` \|)");
    std::map<std::string, std::string> tabled;  // env -> flag
    for (auto it = std::sregex_iterator(guide.begin(), guide.end(), row); it != std::sregex_iterator();
         ++it) {
        EXPECT_EQ((*it)[2].str(), FlagSet::env_name((*it)[1].str()));
        tabled[(*it)[2].str()] = (*it)[1].str();
    }
    EXPECT_EQ(tabled, serve_env_flags())
        << "docs/DEPLOYMENT.md's configuration table differs from serve's flags";
}

TEST(ServeEnvironment, AMisspeltValueFailsAsItWouldInTheContainer) {
    // The check above can fail: serve rejects a bad value and names the variable.
    try {
        effective_server_config({{"GPTOSS_DRAIN_TIMEOUT", "30s"}});
        FAIL() << "a malformed GPTOSS_DRAIN_TIMEOUT was accepted";
    } catch (const CliError& e) {
        EXPECT_NE(std::string(e.what()).find("GPTOSS_DRAIN_TIMEOUT"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace gptoss::testing
