// Where tests find their inputs: ../shared (fixtures, vocab, peer vectors) and the build tree.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace gptoss::testing {

// ../shared, or $GPTOSS_SHARED_DIR when set.
std::filesystem::path shared_dir();
// The unpacked toy-harmony checkpoint (build tree; unpacked at build time from ../shared).
std::filesystem::path toy_harmony_dir();
// ../shared/fixtures/tiny-gptoss
std::filesystem::path tiny_gptoss_dir();
// The repository's own checked-in test data: tests/data of the source tree.
std::filesystem::path source_data_dir();
// The build tree's root (where the gptoss executable is).
std::filesystem::path binary_dir();
// The gptoss executable of this build.
std::filesystem::path gptoss_executable();

std::string read_file(const std::filesystem::path& path);
nlohmann::json read_json(const std::filesystem::path& path);
// Runs a shell command, feeding `input` on stdin; returns stdout. Sets *exit_code when given.
std::string run_command(const std::string& command, const std::string& input = "", int* exit_code = nullptr);

// A fresh, empty folder under the system temp dir, named after the process and the running test, removed
// with the object.
class TempDir {
public:
    explicit TempDir(const std::string& prefix);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace gptoss::testing
