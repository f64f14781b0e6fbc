// docker/compose.yaml: one service built from docker/Dockerfile, a GPU reservation, the model mounted
// read-only at /models, the serve port published, a healthcheck on /health, and a stop grace period longer
// than the drain timeout the service is given.
#include <gtest/gtest.h>

#include <regex>

#include "tests/docker/deploy_files.h"
#include "tests/docker/dockerfile.h"
#include "tests/docker/duration.h"
#include "tests/docker/serve_flags.h"

namespace gptoss::testing {
namespace {

class ComposeTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto documents = load_yaml_documents(docker_dir() / "compose.yaml");
        ASSERT_EQ(documents.size(), 1u);
        YAML::Node services = documents[0].node["services"];
        ASSERT_TRUE(services && services.IsMap());
        ASSERT_EQ(services.size(), 1u) << "one service";
        service_ = services.begin()->second;
    }

    // The Dockerfile the service is built from, resolved against compose.yaml's folder.
    std::filesystem::path dockerfile() const {
        return docker_dir() / service_["build"]["context"].as<std::string>() /
               service_["build"]["dockerfile"].as<std::string>();
    }

    ServerConfig server_config() const {
        Dockerfile file = Dockerfile::load(dockerfile());
        std::vector<std::string> args;
        for (const auto& arg : service_["command"]) args.push_back(arg.as<std::string>());
        return effective_server_config(overlay(file.stages.back().env(), compose_environment(service_)),
                                       args);
    }

    YAML::Node service_;
};

TEST_F(ComposeTest, BuildsTheCudaImage) {
    ASSERT_TRUE(service_["build"]);
    EXPECT_TRUE(std::filesystem::is_regular_file(dockerfile())) << dockerfile();
    EXPECT_EQ(std::filesystem::canonical(dockerfile()),
              std::filesystem::canonical(docker_dir() / "Dockerfile"));
    EXPECT_EQ(std::filesystem::canonical(docker_dir() / service_["build"]["context"].as<std::string>()),
              std::filesystem::canonical(source_dir()))
        << "the build context is the repository root (the Dockerfile copies scripts/ and the sources)";
    EXPECT_TRUE(service_["image"]) << "name the image, so that k8s/deployment.yaml can refer to it";
}

TEST_F(ComposeTest, ReservesAnNvidiaGpu) {
    YAML::Node devices = service_["deploy"]["resources"]["reservations"]["devices"];
    ASSERT_TRUE(devices && devices.IsSequence() && devices.size() >= 1);
    YAML::Node gpu = devices[0];
    EXPECT_EQ(gpu["driver"].as<std::string>(), "nvidia");
    bool has_gpu_capability = false;
    for (const auto& c : gpu["capabilities"])
        has_gpu_capability = has_gpu_capability || c.as<std::string>() == "gpu";
    EXPECT_TRUE(has_gpu_capability);
    EXPECT_TRUE(gpu["count"] || gpu["device_ids"]);
    if (gpu["count"] && gpu["count"].as<std::string>() != "all") {
        EXPECT_GE(gpu["count"].as<int>(), 1);
    }
}

TEST_F(ComposeTest, MountsTheModelReadOnlyWhereServeLooks) {
    std::string model = server_config().model;
    bool mounted = false;
    for (const auto& volume : service_["volumes"]) {
        if (volume.IsMap()) {
            if (volume["target"].as<std::string>() != model) continue;
            mounted = true;
            EXPECT_TRUE(volume["read_only"] && volume["read_only"].as<bool>()) << "mount the model read-only";
            EXPECT_FALSE(volume["source"].as<std::string>().empty());
        } else {
            // Short syntax: SOURCE:TARGET[:ro]
            std::string text = volume.as<std::string>();
            std::smatch m;
            if (!std::regex_match(text, m, std::regex(R"(([^:]+):([^:]+)(:(.*))?)")) || m[2] != model)
                continue;
            mounted = true;
            EXPECT_EQ(m[4].str(), "ro") << "mount the model read-only";
        }
    }
    EXPECT_TRUE(mounted) << "no volume mounted at " << model;
}

TEST_F(ComposeTest, PublishesThePortServeListensOn) {
    int port = server_config().port;
    bool published = false;
    for (const auto& entry : service_["ports"]) {
        // "HOST:CONTAINER", "IP:HOST:CONTAINER", "CONTAINER", optionally /tcp; or the long syntax.
        std::string container = entry.IsMap() ? entry["target"].as<std::string>() : entry.as<std::string>();
        container = container.substr(container.rfind(':') + 1);
        container = container.substr(0, container.find('/'));
        published = published || container == std::to_string(port);
    }
    EXPECT_TRUE(published) << "port " << port << " is not published";
}

TEST_F(ComposeTest, HealthcheckProbesHealth) {
    YAML::Node check = service_["healthcheck"];
    ASSERT_TRUE(check);
    ASSERT_TRUE(check["test"].IsSequence());
    std::string kind = check["test"][0].as<std::string>();
    EXPECT_TRUE(kind == "CMD" || kind == "CMD-SHELL") << kind;
    std::string joined;
    for (const auto& word : check["test"]) joined += compose_unescape(word.as<std::string>()) + " ";
    EXPECT_NE(joined.find("GET /health "), std::string::npos) << joined;
    EXPECT_NE(joined.find("${GPTOSS_PORT:-8000}"), std::string::npos) << "the probe follows GPTOSS_PORT";
    for (const char* field : {"interval", "timeout", "start_period"}) {
        ASSERT_TRUE(check[field]) << field;
        EXPECT_GT(parse_duration_seconds(check[field].as<std::string>()), 0) << field;
    }
}

TEST_F(ComposeTest, StopGracePeriodCoversTheDrain) {
    ASSERT_TRUE(service_["stop_grace_period"]) << "Docker's default (10 s) cuts the drain short";
    double grace = parse_duration_seconds(service_["stop_grace_period"].as<std::string>());
    EXPECT_GT(grace, server_config().drain_timeout_seconds);
}

}  // namespace
}  // namespace gptoss::testing
