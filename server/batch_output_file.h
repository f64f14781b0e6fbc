// BatchOutputFile: a JSONL file a batch job appends its answers to, one fsync'd line at a time, so that a
// kill loses at most the lines in flight. Opening an existing file resumes it: the keys of its lines are
// read back (batch_output_key) and a torn last line (a kill mid-write) is cut off before appending.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace gptoss {

class BatchOutputFile {
public:
    // Opens (creating it when missing) the file at `path`; throws std::runtime_error naming it.
    static BatchOutputFile open(const std::filesystem::path& path);
    // Standard output: nothing to resume, and a pipe cannot be fsync'd.
    static BatchOutputFile standard_output();
    ~BatchOutputFile();
    BatchOutputFile(BatchOutputFile&& other) noexcept;
    BatchOutputFile& operator=(BatchOutputFile&&) = delete;

    // Keys of the lines already in the file when it was opened.
    const std::unordered_set<std::string>& done_keys() const { return done_keys_; }
    // Writes `line` and a newline in one write, then fsyncs (files only). Not thread-safe. Throws
    // std::runtime_error when the write fails (disk full): a job must not go on losing answers.
    void append(const nlohmann::json& line);
    int64_t num_lines() const { return num_lines_; }

private:
    BatchOutputFile(int fd, bool owned, std::string name) : fd_(fd), owned_(owned), name_(std::move(name)) {}

    int fd_ = -1;
    bool owned_ = false;
    std::string name_;
    std::unordered_set<std::string> done_keys_;
    int64_t num_lines_ = 0;
};

}  // namespace gptoss
