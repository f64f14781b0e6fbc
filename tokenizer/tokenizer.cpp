// Tokenizer::from_file: reads a tokenizer file or checkpoint folder and picks the loader by content.
#include "tokenizer/tokenizer.h"

#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/vocabulary.h"

namespace gptoss {

namespace {

std::string read_whole_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw TokenizerError(fmt::format("cannot open tokenizer file {}", path.string()));
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    std::string contents;
    if (!ec) contents.resize(size);
    if (!in.read(contents.data(), static_cast<std::streamsize>(contents.size()))) {
        throw TokenizerError(fmt::format("cannot read tokenizer file {}", path.string()));
    }
    return contents;
}

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
    if (std::filesystem::is_directory(path, ec)) {
        file = path / "tokenizer.json";
        if (!std::filesystem::exists(file, ec)) {
            throw TokenizerError(fmt::format("model folder {} has no tokenizer.json", path.string()));
        }
    }
    const std::string contents = read_whole_file(file);
    const size_t first = contents.find_first_not_of(" \t\r\n");
    Vocabulary vocabulary;
    if (first != std::string::npos && contents[first] == '{') {
        vocabulary = load_hf_tokenizer_json(contents, file.string());
    } else if (looks_like_tiktoken(contents)) {
        vocabulary = load_tiktoken_file(contents, file.string());
    } else {
        throw TokenizerError(
            fmt::format("{} is neither a tokenizer.json nor a tiktoken rank file (o200k_base.tiktoken)", file.string()));
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
