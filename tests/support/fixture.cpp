#include "tests/support/fixture.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gptoss::testing {

std::filesystem::path shared_dir() {
    if (const char* env = std::getenv("GPTOSS_SHARED_DIR"); env && *env) return env;
    return GPTOSS_SHARED_DIR;
}

std::filesystem::path toy_harmony_dir() {
    return std::filesystem::path(GPTOSS_TEST_FIXTURES_DIR) / "toy-harmony";
}

std::filesystem::path tiny_gptoss_dir() {
    return shared_dir() / "fixtures" / "tiny-gptoss";
}

std::filesystem::path source_data_dir() {
    return std::filesystem::path(GPTOSS_SOURCE_DIR) / "tests" / "data";
}

std::filesystem::path binary_dir() {
    return GPTOSS_BINARY_DIR;
}

std::filesystem::path gptoss_executable() {
    return binary_dir() / "tools" / "gptoss";
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path.string());
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

nlohmann::json read_json(const std::filesystem::path& path) {
    return nlohmann::json::parse(read_file(path));
}

std::string run_command(const std::string& command, const std::string& input, int* exit_code) {
    // Feed stdin through a temporary file so large inputs cannot dead-lock against a full output pipe.
    char input_path[] = "/tmp/gptoss-test-input-XXXXXX";
    int fd = mkstemp(input_path);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    {
        std::ofstream out(input_path, std::ios::binary);
        out << input;
    }
    close(fd);
    std::string full = command + " < " + input_path;
    FILE* pipe = popen(full.c_str(), "r");
    if (!pipe) throw std::runtime_error("popen failed: " + command);
    std::string output;
    char buffer[65536];
    size_t n;
    while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
    int status = pclose(pipe);
    std::remove(input_path);
    if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return output;
}

TempDir::TempDir(const std::string& prefix) {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "-" + std::to_string(::getpid()) + "-" + (test ? test->name() : "no-test"));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

}  // namespace gptoss::testing
