// The images' entrypoint outside a container: the built gptoss started with the ENTRYPOINT words and exactly
// the environment each deployment gives it (Dockerfile.cpu, Dockerfile, compose.yaml, k8s Deployment), must
// answer /health with 200, list the model on /v1/models, export the autoscaler's gauge on /metrics, pass the
// image's own HEALTHCHECK command, and exit 0 within the drain timeout on SIGTERM.
//
// What differs from a container, and why: GPTOSS_MODEL points at the unpacked toy checkpoint instead of
// /models, GPTOSS_PORT is a free port and GPTOSS_HOST 127.0.0.1 (tests only use loopback), and GPTOSS_BACKEND
// is cpu (no GPU here). Everything else is exactly what the files set.
#include <gtest/gtest.h>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "tests/docker/deploy_files.h"
#include "tests/docker/dockerfile.h"
#include "tests/docker/serve_flags.h"
#include "tests/docker/serve_process.h"
#include "tests/support/fixture.h"

namespace gptoss::testing {
namespace {

constexpr const char* kQueueGauge = "# TYPE gptoss:num_requests_waiting gauge";

struct Launch {
    std::vector<std::string> entrypoint;   // the image's ENTRYPOINT words
    std::vector<std::string> args;         // arguments after them (compose command / k8s args)
    EnvMap env;                            // the container's GPTOSS_* environment
    std::vector<std::string> healthcheck;  // the container's health command; empty for an HTTP probe
};

Launch from_image(const char* dockerfile) {
    Dockerfile file = Dockerfile::load(docker_dir() / dockerfile);
    const DockerStage& runtime = file.stages.back();
    Launch launch;
    launch.entrypoint = exec_form(runtime.find("ENTRYPOINT").back()->arguments).value();
    launch.env = runtime.env();
    launch.healthcheck = parse_healthcheck(runtime.find("HEALTHCHECK").back()->arguments)->command;
    return launch;
}

Launch from_compose() {
    YAML::Node service =
        load_yaml_documents(docker_dir() / "compose.yaml")[0].node["services"].begin()->second;
    Launch launch = from_image("Dockerfile");
    launch.env = overlay(launch.env, compose_environment(service));
    for (const auto& a : service["command"]) launch.args.push_back(a.as<std::string>());
    std::vector<std::string> test;
    for (const auto& w : service["healthcheck"]["test"])
        test.push_back(compose_unescape(w.as<std::string>()));
    if (test[0] == "CMD-SHELL") {
        launch.healthcheck = {"/bin/sh", "-c", test[1]};
    } else {
        launch.healthcheck.assign(test.begin() + 1, test.end());
    }
    return launch;
}

Launch from_k8s() {
    YAML::Node deployment = only_of_kind(load_k8s_documents(), "Deployment");
    YAML::Node container = deployment["spec"]["template"]["spec"]["containers"][0];
    Launch launch = from_image("Dockerfile");
    launch.env = overlay(launch.env, k8s_literal_env(container));
    for (const auto& a : container["args"]) launch.args.push_back(a.as<std::string>());
    launch.healthcheck.clear();  // httpGet probes: /health is checked directly
    return launch;
}

struct Case {
    const char* name;
    Launch (*make)();
};

const Case kCases[] = {
    {"DockerfileCpu", [] { return from_image("Dockerfile.cpu"); }},
    {"Dockerfile", [] { return from_image("Dockerfile"); }},
    {"Compose", from_compose},
    {"Kubernetes", from_k8s},
};

void PrintTo(const Case& c, std::ostream* out) {
    *out << c.name;
}

class ServeEntrypointTest : public ::testing::TestWithParam<Case> {};

TEST_P(ServeEntrypointTest, ServesHealthModelsAndMetricsThenDrainsOnSigterm) {
    Launch launch = GetParam().make();
    ASSERT_EQ(launch.entrypoint.at(0), "gptoss");
    int port = free_local_port();
    EnvMap env = overlay(launch.env, {{"GPTOSS_MODEL", toy_harmony_dir().string()},
                                      {"GPTOSS_PORT", std::to_string(port)},
                                      {"GPTOSS_HOST", "127.0.0.1"},
                                      {"GPTOSS_BACKEND", "cpu"}});
    ServerConfig config = effective_server_config(env, launch.args);
    std::string served_name =
        config.served_model_name.empty() ? toy_harmony_dir().filename().string() : config.served_model_name;

    std::vector<std::string> argv = launch.entrypoint;
    argv[0] = gptoss_executable().string();
    argv.insert(argv.end(), launch.args.begin(), launch.args.end());
    ServeProcess server(argv, env);
    ASSERT_TRUE(server.wait_until_healthy(port, std::chrono::seconds(120)))
        << "no 200 from /health; server output:\n"
        << server.log();

    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10);
    auto models = client.Get("/v1/models");
    ASSERT_TRUE(models) << "no answer from /v1/models";
    ASSERT_EQ(models->status, 200) << models->body;
    nlohmann::json list = nlohmann::json::parse(models->body);
    EXPECT_EQ(list.value("object", ""), "list");
    bool listed = false;
    for (const auto& model : list.value("data", nlohmann::json::array()))
        listed = listed || model["id"] == served_name;
    EXPECT_TRUE(listed) << served_name << " not in " << models->body;

    auto metrics = client.Get("/metrics");
    ASSERT_TRUE(metrics) << "no answer from /metrics";
    EXPECT_EQ(metrics->status, 200);
    EXPECT_NE(metrics->body.find(kQueueGauge), std::string::npos)
        << "the autoscaler scales on this gauge (k8s/hpa.yaml); /metrics has:\n"
        << metrics->body.substr(0, 2000);

    if (!launch.healthcheck.empty()) {
        EXPECT_EQ(run_with_environment(launch.healthcheck, env), 0) << "the image's health command failed";
    }

    auto exit_code =
        server.terminate(std::chrono::seconds(static_cast<int>(config.drain_timeout_seconds) + 15));
    ASSERT_TRUE(exit_code) << "gptoss serve did not exit after SIGTERM; output:\n" << server.log();
    EXPECT_EQ(*exit_code, 0) << server.log();
}

INSTANTIATE_TEST_SUITE_P(Deployments, ServeEntrypointTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gptoss::testing
