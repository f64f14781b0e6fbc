// Loader for tiktoken rank files (o200k_base.tiktoken): one "<base64 token bytes> <decimal rank>" per line.
#include <array>
#include <cstdint>

#include <fmt/format.h>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocabulary.h"

namespace gptoss {

namespace {

constexpr std::array<int8_t, 256> make_base64_table() {
    std::array<int8_t, 256> table{};
    for (auto& v : table) v = -1;
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < alphabet.size(); ++i)
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    return table;
}
constexpr auto kBase64 = make_base64_table();

// Standard base64 with '=' padding; false on any malformed input.
bool decode_base64(std::string_view text, std::string& out) {
    out.clear();
    if (text.empty() || text.size() % 4 != 0) return false;
    size_t padding = 0;
    if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
    const size_t data_chars = text.size() - padding;
    uint32_t buffer = 0;
    int bits = 0;
    for (size_t i = 0; i < data_chars; ++i) {
        const int8_t v = kBase64[static_cast<unsigned char>(text[i])];
        if (v < 0) return false;
        buffer = (buffer << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    // Leftover bits must be zero padding (canonical encoding).
    return (buffer & ((1u << bits) - 1)) == 0;
}

}  // namespace

Vocabulary load_tiktoken_file(std::string_view contents, const std::string& source) {
    Vocabulary vocab;
    vocab.tokens.reserve(kHarmonyFirstSpecialId);
    std::string bytes;
    size_t line_number = 0;
    size_t num_tokens = 0;
    for (size_t pos = 0; pos < contents.size();) {
        size_t end = contents.find('\n', pos);
        if (end == std::string_view::npos) end = contents.size();
        std::string_view line = contents.substr(pos, end - pos);
        pos = end + 1;
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) continue;
        auto fail = [&](std::string_view why) -> TokenizerError {
            return TokenizerError(fmt::format("tiktoken rank file {} line {}: {}", source, line_number, why));
        };
        const size_t space = line.find(' ');
        if (space == std::string_view::npos) throw fail("expected '<base64 token> <rank>'");
        const std::string_view rank_text = line.substr(space + 1);
        if (rank_text.empty() || rank_text.size() > 9) throw fail("the rank is missing or too large");
        int64_t rank = 0;
        for (char c : rank_text) {
            if (c < '0' || c > '9') throw fail("the rank is not a decimal number");
            rank = rank * 10 + (c - '0');
        }
        if (!decode_base64(line.substr(0, space), bytes)) throw fail("the token is not valid base64");
        if (rank >= kHarmonyFirstSpecialId) {
            throw fail(fmt::format("rank {} collides with the o200k_harmony special tokens ({}..{})", rank,
                                   kHarmonyFirstSpecialId, kHarmonyVocabSize - 1));
        }
        if (static_cast<size_t>(rank) >= vocab.tokens.size()) vocab.tokens.resize(rank + 1);
        if (!vocab.tokens[rank].empty()) throw fail(fmt::format("rank {} appears twice", rank));
        vocab.tokens[rank] = bytes;
        ++num_tokens;
    }
    // The harmony specials start right after the ranks, so the file must hold exactly 0..199997; anything
    // else is a truncated or different file.
    if (num_tokens != static_cast<size_t>(kHarmonyFirstSpecialId)) {
        throw TokenizerError(
            fmt::format("tiktoken rank file {} has {} tokens; o200k_harmony needs the {} ranks 0..{} of "
                        "o200k_base (truncated "
                        "or not an o200k file?)",
                        source, num_tokens, kHarmonyFirstSpecialId, kHarmonyFirstSpecialId - 1));
    }
    vocab.specials = harmony_special_tokens();
    vocab.pattern = std::string(kO200kPattern);
    return vocab;
}

}  // namespace gptoss
