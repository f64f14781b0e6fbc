#include "tokenizer/json_scanner.h"

#include <array>

#include <fmt/format.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace gptoss {

namespace {

constexpr size_t kMaxDepth = 1000;  // deeper nesting is not a tokenizer.json

}  // namespace

void JsonScanner::fail(std::string_view what) const {
    const bool at_end = pos_ >= doc_.size();
    throw TokenizerError(fmt::format("{}: {} at byte {}{}", source_, what, pos_,
                                     at_end ? " (the file ends there: truncated?)" : ""));
}

void JsonScanner::expect(char c) {
    skip_whitespace();
    if (pos_ >= doc_.size() || doc_[pos_] != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
}

bool JsonScanner::next_member(std::string& key, bool& first) {
    skip_whitespace();
    if (pos_ < doc_.size() && doc_[pos_] == '}') {
        ++pos_;
        return false;
    }
    if (!first) expect(',');
    first = false;
    read_string(key);
    expect(':');
    return true;
}

bool JsonScanner::next_element(bool& first) {
    skip_whitespace();
    if (pos_ < doc_.size() && doc_[pos_] == ']') {
        ++pos_;
        return false;
    }
    if (!first) expect(',');
    first = false;
    return true;
}

uint32_t JsonScanner::read_hex4() {
    if (pos_ + 4 > doc_.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        const char c = doc_[pos_++];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v |= c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v |= c - 'A' + 10;
        } else {
            fail("malformed \\u escape");
        }
    }
    return v;
}

std::string JsonScanner::read_string() {
    std::string out;
    read_string(out);
    return out;
}

void JsonScanner::read_string(std::string& out) {
    expect('"');
    out.clear();
    while (true) {
        const size_t start = pos_;
        while (pos_ < doc_.size() && doc_[pos_] != '"' && doc_[pos_] != '\\' &&
               static_cast<unsigned char>(doc_[pos_]) >= 0x20)
            ++pos_;
        out.append(doc_.data() + start, pos_ - start);
        if (pos_ >= doc_.size()) fail("unterminated string");
        const char c = doc_[pos_++];
        if (c == '"') return;
        if (c != '\\') {
            --pos_;
            fail("control character in a string");
        }
        if (pos_ >= doc_.size()) fail("unterminated string");
        const char e = doc_[pos_++];
        switch (e) {
            case '"':
                out += '"';
                break;
            case '\\':
                out += '\\';
                break;
            case '/':
                out += '/';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                uint32_t cp = read_hex4();
                if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair spells one code point
                    if (pos_ + 2 > doc_.size() || doc_[pos_] != '\\' || doc_[pos_ + 1] != 'u')
                        fail("lone surrogate");
                    pos_ += 2;
                    const uint32_t low = read_hex4();
                    if (low < 0xDC00 || low > 0xDFFF) fail("invalid surrogate pair");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail("lone surrogate");
                }
                utf8::append_code_point(cp, out);
                break;
            }
            default:
                fail("invalid escape");
        }
    }
}

int64_t JsonScanner::read_integer() {
    skip_whitespace();
    const bool negative = pos_ < doc_.size() && doc_[pos_] == '-';
    if (negative) ++pos_;
    const size_t start = pos_;
    int64_t v = 0;
    while (pos_ < doc_.size() && doc_[pos_] >= '0' && doc_[pos_] <= '9') {
        if (pos_ - start >= 18) fail("integer too large");
        v = v * 10 + (doc_[pos_++] - '0');
    }
    if (pos_ == start) fail("expected an integer");
    if (pos_ < doc_.size() && (doc_[pos_] == '.' || doc_[pos_] == 'e' || doc_[pos_] == 'E'))
        fail("expected an integer");
    return negative ? -v : v;
}

bool JsonScanner::peek_null() {
    skip_whitespace();
    if (doc_.substr(pos_, 4) != "null") return false;
    pos_ += 4;
    return true;
}

namespace {

// Byte classes for skipping: the bytes that end a run of string content, and the structural bytes of JSON.
constexpr std::array<bool, 256> make_table(std::string_view bytes) {
    std::array<bool, 256> t{};
    for (char c : bytes) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr auto kStringSpecial = make_table("\"\\");
constexpr auto kStructural = make_table("\"[]{}");

}  // namespace

void JsonScanner::skip_string() {
    ++pos_;  // the opening quote
    while (pos_ < doc_.size()) {
        while (pos_ < doc_.size() && !kStringSpecial[static_cast<unsigned char>(doc_[pos_])]) ++pos_;
        if (pos_ >= doc_.size()) break;
        if (doc_[pos_++] == '"') return;
        ++pos_;  // the escaped character
    }
    fail("unterminated string");
}

std::string_view JsonScanner::skip_value() {
    skip_whitespace();
    const size_t start = pos_;
    if (pos_ >= doc_.size()) fail("unexpected end of input");
    const char first = doc_[pos_];
    if (first == '"') {
        skip_string();
    } else if (first == '[' || first == '{') {
        // Only brackets and strings matter inside a skipped container; brackets must pair up.
        std::string open(1, first);
        ++pos_;
        while (!open.empty()) {
            while (pos_ < doc_.size() && !kStructural[static_cast<unsigned char>(doc_[pos_])]) ++pos_;
            if (pos_ >= doc_.size()) fail("unexpected end of input");
            const char c = doc_[pos_];
            if (c == '"') {
                skip_string();
                continue;
            }
            ++pos_;
            if (c == '[' || c == '{') {
                if (open.size() >= kMaxDepth) fail("nesting too deep");
                open += c;
            } else {
                if (open.back() != (c == ']' ? '[' : '{')) fail("mismatched bracket");
                open.pop_back();
            }
        }
    } else {  // a number or a literal: up to the next delimiter
        while (pos_ < doc_.size() &&
               std::string_view(",:]} \n\r\t{[\"").find(doc_[pos_]) == std::string_view::npos)
            ++pos_;
        if (pos_ == start) fail("unexpected character");
    }
    return doc_.substr(start, pos_ - start);
}

void JsonScanner::expect_end() {
    skip_whitespace();
    if (pos_ != doc_.size()) fail("unexpected data after the end of the JSON document");
}

}  // namespace gptoss
