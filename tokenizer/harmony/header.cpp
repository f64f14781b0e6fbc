#include "tokenizer/harmony/header.h"

#include <string_view>

namespace gptoss::harmony {

namespace {

constexpr std::string_view kChannelMarker = "<|channel|>";
constexpr std::string_view kConstrainMarker = "<|constrain|>";

// Byte length of the Unicode White_Space character at text[pos] (Rust's char::is_whitespace), 0 if none.
size_t whitespace_length(std::string_view text, size_t pos) {
    const auto byte = [&](size_t i) { return i < text.size() ? static_cast<unsigned char>(text[i]) : 0; };
    const unsigned char b0 = byte(pos);
    if ((b0 >= 0x09 && b0 <= 0x0D) || b0 == 0x20) return 1;
    if (b0 == 0xC2 && (byte(pos + 1) == 0x85 || byte(pos + 1) == 0xA0)) return 2;  // U+0085, U+00A0
    if (b0 == 0xE1 && byte(pos + 1) == 0x9A && byte(pos + 2) == 0x80) return 3;    // U+1680
    if (b0 == 0xE2 && byte(pos + 1) == 0x80) {
        const unsigned char b2 = byte(pos + 2);
        if (b2 <= 0x8A || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF)
            return b2 >= 0x80 ? 3 : 0;  // U+2000-200A, 2028/9, 202F
    }
    if (b0 == 0xE2 && byte(pos + 1) == 0x81 && byte(pos + 2) == 0x9F) return 3;  // U+205F
    if (b0 == 0xE3 && byte(pos + 1) == 0x80 && byte(pos + 2) == 0x80) return 3;  // U+3000
    return 0;
}

// Length in bytes of the UTF-8 character starting at text[pos] (1 for stray bytes).
size_t char_length(std::string_view text, size_t pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    const size_t width = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return pos + width <= text.size() ? width : 1;
}

// Rust's str::trim (Unicode White_Space at both ends).
std::string trim(std::string_view text) {
    size_t begin = 0;
    while (begin < text.size()) {
        const size_t n = whitespace_length(text, begin);
        if (n == 0) break;
        begin += n;
    }
    size_t end = begin;  // one past the last non-whitespace character
    for (size_t pos = begin; pos < text.size();) {
        const size_t n = whitespace_length(text, pos);
        if (n == 0) {
            pos += char_length(text, pos);
            end = pos;
        } else {
            pos += n;
        }
    }
    return std::string(text.substr(begin, end - begin));
}

// Rust's split_ascii_whitespace (space, \t, \n, \f, \r; not \v).
std::vector<std::string> split_ascii_whitespace(std::string_view text) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; };
    std::vector<std::string> words;
    size_t pos = 0;
    while (pos < text.size()) {
        while (pos < text.size() && is_space(text[pos])) ++pos;
        const size_t start = pos;
        while (pos < text.size() && !is_space(text[pos])) ++pos;
        if (pos > start) words.emplace_back(text.substr(start, pos - start));
    }
    return words;
}

std::string join_words(const std::vector<std::string>& words, size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < end; ++i) {
        if (i > begin) out += ' ';
        out += words[i];
    }
    return out;
}

void repair(const HeaderParseOptions& options, std::vector<std::string>* warnings,
            const std::string& problem) {
    if (!options.lenient) throw ParseError(problem);
    if (warnings != nullptr) warnings->push_back(problem);
}

// Cuts "<|channel|>NAME" out of `text` and returns NAME (nullopt without a marker or, leniently, a name).
std::optional<std::string> take_channel(std::string& text, const HeaderParseOptions& options,
                                        std::vector<std::string>* warnings) {
    const size_t marker = text.find(kChannelMarker);
    if (marker == std::string::npos) return std::nullopt;
    const size_t value_begin = marker + kChannelMarker.size();
    size_t value_end = value_begin;
    while (value_end < text.size() && text[value_end] != '<' && whitespace_length(text, value_end) == 0) {
        value_end += char_length(text, value_end);
    }
    if (value_end == value_begin) {
        repair(options, warnings, "channel marker present but no channel value found in header");
        text.erase(marker, kChannelMarker.size());
        return std::nullopt;
    }
    std::string channel = text.substr(value_begin, value_end - value_begin);
    text.erase(marker, value_end - marker);
    return channel;
}

}  // namespace

ParsedHeader parse_header(const std::string& text, const HeaderParseOptions& options,
                          std::vector<std::string>* warnings) {
    ParsedHeader parsed;
    MessageHeader& header = parsed.header;
    std::string rest = text;
    header.channel = take_channel(rest, options, warnings);
    rest = trim(rest);
    // "to=x<|constrain|>json": a space before the marker makes the content type a word of its own.
    if (rest.find(kConstrainMarker) != std::string::npos) {
        std::string spaced;
        for (size_t pos = 0; pos < rest.size();) {
            if (rest.compare(pos, kConstrainMarker.size(), kConstrainMarker) == 0) {
                spaced += ' ';
                spaced += kConstrainMarker;
                pos += kConstrainMarker.size();
            } else {
                spaced += rest[pos++];
            }
        }
        rest = trim(spaced);
    }
    std::vector<std::string> words = split_ascii_whitespace(rest);
    size_t first = 0;  // words[first, last) are still unclaimed
    size_t last = words.size();

    Role role = Role::kAssistant;
    if (options.role) {
        role = *options.role;
    } else if (words.empty()) {
        repair(options, warnings, "message header did not contain a role");
    } else if (auto known = role_from_name(words[0])) {
        role = *known;
    } else if (words.size() > 1 || words[0].starts_with("to=")) {
        // An unknown first word followed by more header is a tool speaking: "browser.search to=assistant".
        role = Role::kTool;
        header.author.name = words[0];
        first = 1;
    } else {
        repair(options, warnings, "Unknown role: " + words[0]);
        first = 1;
    }
    if (role == Role::kTool && !header.author.name && !options.role && !words.empty())
        header.author.name = words[0];
    header.author.role = role;
    if (first < last && words[first] == role_name(role)) ++first;

    if (options.parse_recipient_and_type && first < last) {
        const size_t num_words = last - first;
        const std::string& last_word = words[--last];
        if (last_word.starts_with("to=")) {
            header.recipient = last_word.substr(3);
        } else if (num_words == 1 && !last_word.starts_with(kConstrainMarker)) {
            header.recipient = last_word;  // a lone unconstrained word is a bare recipient
        } else {
            header.content_type = last_word;
            if (first < last) {
                const std::string& raw = words[--last];
                header.recipient = raw.starts_with("to=") ? raw.substr(3) : raw;
            }
        }
    }
    if (first < last) parsed.remaining_words = join_words(words, first, last);
    return parsed;
}

}  // namespace gptoss::harmony
