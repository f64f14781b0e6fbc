// docker/Dockerfile and docker/Dockerfile.cpu: two stages, the README's build commands verbatim in the build
// stage, only the binary and its libraries in the runtime stage, non-root, port, healthcheck, entrypoint.
#include "tests/docker/dockerfile.h"

#include <gtest/gtest.h>

#include <regex>

#include "tests/docker/deploy_files.h"
#include "tests/docker/serve_flags.h"
#include "tests/support/fixture.h"

namespace gptoss::testing {
namespace {

struct ImageCase {
    const char* file;           // under docker/
    const char* preset;         // the CMake preset its build stage builds
    const char* backend;        // GPTOSS_BACKEND of the image
    const char* build_image;    // regex the build stage's base image matches
    const char* runtime_image;  // the runtime stage's base image, $1.. from build_image's groups
};

const ImageCase kImages[] = {
    {"Dockerfile", "cuda", "cuda", R"(nvidia/cuda:(13\.[0-9.]+)-devel-(ubuntu[0-9.]+))",
     "nvidia/cuda:$1-runtime-$2"},
    {"Dockerfile.cpu", "cpu", "cpu", R"(debian:(12))", "debian:$1-slim"},
};

void PrintTo(const ImageCase& image, std::ostream* out) {
    *out << image.file;
}

class DockerfileTest : public ::testing::TestWithParam<ImageCase> {
protected:
    void SetUp() override {
        file_ = Dockerfile::load(docker_dir() / GetParam().file);
        ASSERT_GE(file_.stages.size(), 2u);
        build_ = file_.stage("build");
        ASSERT_NE(build_, nullptr) << "no stage named 'build'";
        runtime_ = &file_.stages.back();
    }
    Dockerfile file_;
    const DockerStage* build_ = nullptr;
    const DockerStage* runtime_ = nullptr;
};

std::string instruction_words(const DockerStage& stage, const char* keyword) {
    auto found = stage.find(keyword);
    return found.empty() ? "" : found.back()->arguments;
}

TEST_P(DockerfileTest, BuildsInADevelImageAndRunsInTheMatchingRuntimeImage) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(build_->image, m, std::regex(GetParam().build_image))) << build_->image;
    EXPECT_EQ(runtime_->image, m.format(GetParam().runtime_image));
    EXPECT_EQ(runtime_->name, "runtime");
}

TEST_P(DockerfileTest, BuildStageRunsExactlyTheReadmeBuildCommands) {
    std::vector<std::string> scripts;
    for (const auto& command : build_->run_commands()) {
        EXPECT_FALSE(std::regex_search(command, std::regex(R"(^(cmake|ninja|make|nvcc|g\+\+|c\+\+)\b)")))
            << "the build stage builds only through scripts/, as the README does: " << command;
        if (command.rfind("scripts/", 0) == 0) scripts.push_back(command);
    }
    ASSERT_EQ(scripts.size(), 2u);
    EXPECT_EQ(scripts[0], "scripts/setup.sh build");
    EXPECT_EQ(scripts[1].rfind(std::string("scripts/build.sh ") + GetParam().preset + " ", 0), 0u)
        << scripts[1];

    auto readme_blocks = markdown_code_blocks(read_file(source_dir() / "README.md"), "sh");
    bool documented = false;
    for (const auto& block : readme_blocks) documented = documented || block == scripts;
    EXPECT_TRUE(documented) << "README.md has no sh block with exactly these lines (drift):\n"
                            << scripts[0] << "\n"
                            << scripts[1];

    // The preset and every -D option it sets exist (CMake would only warn about a misspelt option).
    auto presets = read_json(source_dir() / "CMakePresets.json");
    bool preset_found = false;
    for (const auto& p : presets["configurePresets"])
        preset_found = preset_found || p["name"] == GetParam().preset;
    EXPECT_TRUE(preset_found) << GetParam().preset;
    std::string cmake = read_file(source_dir() / "CMakeLists.txt");
    for (const auto& word : split_words(scripts[1])) {
        if (word.rfind("-D", 0) != 0) continue;
        std::string option = word.substr(2, word.find('=') - 2);
        EXPECT_NE(cmake.find("option(" + option + " "), std::string::npos)
            << "unknown CMake option " << option;
    }

    // What leaves the build stage is the binary that preset built.
    std::string binary = std::string("build/") + GetParam().preset + "/tools/gptoss";
    bool copied = false;
    for (const auto& command : build_->run_commands())
        copied = copied || command.find(binary) != std::string::npos;
    EXPECT_TRUE(copied) << "the build stage never picks up " << binary;
}

TEST_P(DockerfileTest, RuntimeStageHoldsOnlyTheBinaryAndItsLibraries) {
    auto copies = runtime_->find("COPY");
    ASSERT_EQ(copies.size(), 1u) << "the runtime stage copies one thing: the collected binary and libraries";
    EXPECT_EQ(copies[0]->arguments.rfind("--from=build ", 0), 0u) << copies[0]->arguments;
    EXPECT_TRUE(runtime_->find("ADD").empty());
    for (const auto& command : runtime_->run_commands()) {
        EXPECT_FALSE(std::regex_search(command, std::regex(R"(\b(apt-get|apt|dpkg|pip|curl|wget)\b)")))
            << "the runtime stage installs nothing: " << command;
    }
    // The collected libraries are found by the dynamic loader, and gptoss is on PATH for the ENTRYPOINT.
    std::string runtime_commands;
    for (const auto& command : runtime_->run_commands()) runtime_commands += command + "\n";
    EXPECT_NE(runtime_commands.find("/opt/gptoss/lib > /etc/ld.so.conf.d/"), std::string::npos);
    EXPECT_NE(runtime_commands.find("\nldconfig\n"), std::string::npos);
    EXPECT_NE(runtime_commands.find("ln -s /opt/gptoss/bin/gptoss /usr/local/bin/gptoss"), std::string::npos);
}

TEST_P(DockerfileTest, RunsAsANumericNonRootUser) {
    std::string user = instruction_words(*runtime_, "USER");
    ASSERT_FALSE(user.empty()) << "the runtime stage sets no USER (it would run as root)";
    std::string uid = user.substr(0, user.find(':'));
    ASSERT_TRUE(std::regex_match(uid, std::regex("[0-9]+")))
        << "USER " << user << ": Kubernetes' runAsNonRoot can only verify a numeric uid";
    EXPECT_NE(std::stoi(uid), 0);
    // The user exists in the image with that uid.
    std::string runtime_commands;
    for (const auto& command : runtime_->run_commands()) runtime_commands += command + "\n";
    EXPECT_NE(runtime_commands.find("useradd --uid " + uid + " "), std::string::npos);
}

TEST_P(DockerfileTest, ServesTheMountedModelOnTheExposedPort) {
    ServerConfig config = effective_server_config(runtime_->env());
    EXPECT_EQ(config.model, "/models");
    EXPECT_EQ(config.host, "0.0.0.0") << "a container must listen on all interfaces";
    EXPECT_EQ(config.backend, GetParam().backend);
    EXPECT_EQ(instruction_words(*runtime_, "EXPOSE"), std::to_string(config.port));
    EXPECT_EQ(config.port, 8000);
}

TEST_P(DockerfileTest, HealthcheckProbesHealth) {
    auto instructions = runtime_->find("HEALTHCHECK");
    ASSERT_EQ(instructions.size(), 1u);
    auto check = parse_healthcheck(instructions[0]->arguments);
    ASSERT_TRUE(check) << "HEALTHCHECK NONE";
    std::string joined;
    for (const auto& word : check->command) joined += word + " ";
    EXPECT_NE(joined.find("GET /health "), std::string::npos) << joined;
    EXPECT_NE(joined.find("${GPTOSS_PORT:-8000}"), std::string::npos) << "the probe follows GPTOSS_PORT";
    for (const char* option : {"interval", "timeout", "start-period", "retries"}) {
        EXPECT_TRUE(check->options.count(option)) << "--" << option;
    }
}

TEST_P(DockerfileTest, EntrypointIsGptossServe) {
    auto entrypoint = exec_form(instruction_words(*runtime_, "ENTRYPOINT"));
    ASSERT_TRUE(entrypoint) << "ENTRYPOINT must be in exec form, so that signals reach gptoss";
    EXPECT_EQ(*entrypoint, (std::vector<std::string>{"gptoss", "serve"}));
    EXPECT_TRUE(runtime_->find("CMD").empty()) << "arguments after the image name are serve flags";
}

INSTANTIATE_TEST_SUITE_P(Images, DockerfileTest, ::testing::ValuesIn(kImages),
                         [](const auto& info) { return std::string(info.param.preset); });

TEST(DockerfileParser, JoinsContinuationsSkipsCommentsAndSubstitutesArgs) {
    Dockerfile file = Dockerfile::parse(
        "# syntax=docker/dockerfile:1\n"
        "ARG TAG=1.2\n"
        "FROM base:${TAG}-x AS one\n"
        "RUN a && \\\n"
        "# a comment inside the continuation\n"
        "    b 'x && y' ; c\n"
        "ENV A=1 B=\"two words\"\n"
        "ENV C 3 4\n"
        "FROM scratch\n"
        "HEALTHCHECK --interval=5s CMD [\"probe\", \"--x\"]\n");
    ASSERT_EQ(file.stages.size(), 2u);
    EXPECT_EQ(file.stages[0].image, "base:1.2-x");
    EXPECT_EQ(file.stages[0].name, "one");
    EXPECT_EQ(file.stages[0].run_commands(), (std::vector<std::string>{"a", "b 'x && y'", "c"}));
    EXPECT_EQ(file.stages[0].env(), (EnvMap{{"A", "1"}, {"B", "two words"}, {"C", "3 4"}}));
    auto check = parse_healthcheck(file.stages[1].find("HEALTHCHECK")[0]->arguments);
    ASSERT_TRUE(check);
    EXPECT_EQ(check->options.at("interval"), "5s");
    EXPECT_EQ(check->command, (std::vector<std::string>{"probe", "--x"}));
    EXPECT_THROW(Dockerfile::parse("RUN x\n"), std::runtime_error);
    EXPECT_THROW(Dockerfile::parse("FROM a\nRUN x \\\n"), std::runtime_error);
}

}  // namespace
}  // namespace gptoss::testing
