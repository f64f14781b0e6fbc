// Tokenizer::from_file: reads a tokenizer file or checkpoint folder and picks the loader by content.
#include "tokenizer/tokenizer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <system_error>

#include <fmt/format.h>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/vocabulary.h"

namespace gptoss {

namespace {

// The bytes of a file: memory-mapped when possible (no zero-fill and no copy of a 28 MB tokenizer.json),
// read into memory otherwise (pipes, special files).
class FileBytes {
public:
    explicit FileBytes(const std::filesystem::path& path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw TokenizerError(fmt::format("cannot open tokenizer file {}", path.string()));
        struct stat st {};
        if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
            void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                             fd_, 0);
            if (p != MAP_FAILED) {
                mapped_ = static_cast<const char*>(p);
                size_ = static_cast<size_t>(st.st_size);
                return;
            }
        }
        char buffer[1 << 16];
        ssize_t n;
        while ((n = ::read(fd_, buffer, sizeof(buffer))) > 0) copy_.append(buffer, static_cast<size_t>(n));
        if (n < 0) throw TokenizerError(fmt::format("cannot read tokenizer file {}", path.string()));
    }
    ~FileBytes() {
        if (mapped_) ::munmap(const_cast<char*>(mapped_), size_);
        if (fd_ >= 0) ::close(fd_);
    }
    FileBytes(const FileBytes&) = delete;
    FileBytes& operator=(const FileBytes&) = delete;

    std::string_view view() const {
        return mapped_ ? std::string_view(mapped_, size_) : std::string_view(copy_);
    }

private:
    int fd_ = -1;
    const char* mapped_ = nullptr;
    size_t size_ = 0;
    std::string copy_;
};

// A tiktoken rank file starts with "<base64> <digits>" on its first line.
bool looks_like_tiktoken(std::string_view contents) {
    const std::string_view line = contents.substr(0, contents.find('\n'));
    const size_t space = line.find(' ');
    if (space == 0 || space == std::string_view::npos || space + 1 >= line.size()) return false;
    for (char c : line.substr(0, space)) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=') return false;
    }
    return std::isdigit(static_cast<unsigned char>(line[space + 1])) != 0;
}

}  // namespace

std::shared_ptr<const Tokenizer> Tokenizer::from_file(const std::filesystem::path& path) {
    std::filesystem::path file = path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        throw TokenizerError(fmt::format("tokenizer file {} does not exist", path.string()));
    }
    if (std::filesystem::is_directory(path, ec)) {
        file = path / "tokenizer.json";
        if (!std::filesystem::exists(file, ec)) {
            throw TokenizerError(fmt::format("model folder {} has no tokenizer.json", path.string()));
        }
    }
    const FileBytes bytes(file);
    const std::string_view contents = bytes.view();
    const size_t first = contents.find_first_not_of(" \t\r\n");
    Vocabulary vocabulary;
    if (first != std::string_view::npos && contents[first] == '{') {
        vocabulary = load_hf_tokenizer_json(contents, file.string());
    } else if (looks_like_tiktoken(contents)) {
        vocabulary = load_tiktoken_file(contents, file.string());
    } else {
        throw TokenizerError(fmt::format(
            "{} is neither a tokenizer.json nor a tiktoken rank file (o200k_base.tiktoken)", file.string()));
    }
    try {
        return std::make_shared<BpeTokenizer>(vocabulary);
    } catch (const TokenizerError& e) {
        throw TokenizerError(fmt::format("{}: {}", file.string(), e.what()));
    }
}

std::vector<int32_t> Tokenizer::encode_ordinary_parallel(std::string_view text, int) const {
    return encode_ordinary(text);
}

}  // namespace gptoss
