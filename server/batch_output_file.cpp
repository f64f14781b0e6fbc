#include "server/batch_output_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/batch_line.h"

namespace gptoss {

BatchOutputFile BatchOutputFile::open(const std::filesystem::path& path) {
    // Read back what an earlier run wrote, up to its last complete line.
    std::unordered_set<std::string> keys;
    int64_t num_lines = 0;
    std::uintmax_t complete_bytes = 0;
    {
        std::ifstream in(path, std::ios::binary);
        std::string line;
        std::uintmax_t offset = 0;
        while (std::getline(in, line)) {
            if (in.eof()) break;  // no newline after it: torn by a kill mid-write
            offset += line.size() + 1;
            complete_bytes = offset;
            if (line.empty()) continue;
            if (auto key = batch_output_key(line)) {
                keys.insert(*key);
                ++num_lines;
            } else {
                spdlog::warn("batch output file {}: a line that is not a batch output line is kept as is",
                             path.string());
            }
        }
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw std::runtime_error(
            fmt::format("cannot open {} for writing: {}", path.string(), std::strerror(errno)));
    }
    if (::ftruncate(fd, static_cast<off_t>(complete_bytes)) != 0 ||
        ::lseek(fd, static_cast<off_t>(complete_bytes), SEEK_SET) < 0) {
        int error = errno;
        ::close(fd);
        throw std::runtime_error(fmt::format("cannot resume {}: {}", path.string(), std::strerror(error)));
    }
    BatchOutputFile file(fd, true, path.string());
    file.done_keys_ = std::move(keys);
    file.num_lines_ = num_lines;
    return file;
}

BatchOutputFile BatchOutputFile::standard_output() {
    return BatchOutputFile(STDOUT_FILENO, false, "standard output");
}

BatchOutputFile::BatchOutputFile(BatchOutputFile&& other) noexcept
    : fd_(other.fd_),
      owned_(other.owned_),
      name_(std::move(other.name_)),
      done_keys_(std::move(other.done_keys_)),
      num_lines_(other.num_lines_) {
    other.fd_ = -1;
    other.owned_ = false;
}

BatchOutputFile::~BatchOutputFile() {
    if (owned_ && fd_ >= 0) ::close(fd_);
}

void BatchOutputFile::append(const nlohmann::json& line) {
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text.push_back('\n');
    size_t written = 0;
    while (written < text.size()) {
        ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error(fmt::format("cannot write {}: {}", name_, std::strerror(errno)));
        written += static_cast<size_t>(n);
    }
    if (owned_ && ::fdatasync(fd_) != 0) {
        throw std::runtime_error(fmt::format("cannot sync {}: {}", name_, std::strerror(errno)));
    }
    ++num_lines_;
}

}  // namespace gptoss
