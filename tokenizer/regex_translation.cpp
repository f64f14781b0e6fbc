#include "tokenizer/regex_translation.h"

#include <cctype>
#include <cstdint>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tokenizer/tokenizer.h"

namespace gptoss {

namespace {

using Range = std::pair<uint32_t, uint32_t>;  // inclusive code point range

// Unicode White_Space (PropList.txt); unchanged since Unicode 6.3 dropped U+180E.
constexpr Range kWhiteSpace[] = {
    {0x09, 0x0D},     {0x20, 0x20},     {0x85, 0x85},     {0xA0, 0xA0},     {0x1680, 0x1680},
    {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000},
};

// Class items (no brackets) for a set of ranges, e.g. "\x{9}-\x{D}\x{20}".
std::string class_items(const std::vector<Range>& ranges) {
    std::string out;
    for (const auto& [lo, hi] : ranges) {
        out += fmt::format("\\x{{{:X}}}", lo);
        if (hi != lo) out += fmt::format("-\\x{{{:X}}}", hi);
    }
    return out;
}

std::vector<Range> white_space() {
    return {std::begin(kWhiteSpace), std::end(kWhiteSpace)};
}

std::vector<Range> not_white_space() {
    std::vector<Range> out;
    uint32_t next = 0;
    for (const auto& [lo, hi] : kWhiteSpace) {
        if (lo > next) out.push_back({next, lo - 1});
        next = hi + 1;
    }
    out.push_back({next, 0x10FFFF});
    return out;
}

// "[items]" or "[^items]". (Built by appending: GCC 12 warns falsely (-Wrestrict) on chained operator+.)
std::string bracket(bool negated, std::string_view items) {
    std::string out = negated ? "[^" : "[";
    out.append(items);
    out += ']';
    return out;
}

// Rust's Unicode \w (regex-syntax's perl_word): Alphabetic, Mark, Decimal_Number, Connector_Punctuation,
// Join_Control (U+200C, U+200D).
constexpr std::string_view kWordItems = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}";

class Translator {
public:
    explicit Translator(std::string_view pattern) : in_(pattern) {}

    std::string run() {
        while (pos_ < in_.size()) {
            const char c = in_[pos_];
            if (c == '\\') {
                escape();
            } else if (c == '[') {
                char_class();
            } else {
                out_ += c;
                ++pos_;
            }
        }
        return out_;
    }

private:
    [[noreturn]] void fail(std::string_view what) const {
        throw TokenizerError(
            fmt::format("pre-tokenizer pattern: {} at offset {} is not supported", what, pos_));
    }

    // An escape outside a class.
    void escape() {
        if (pos_ + 1 >= in_.size()) fail("a trailing backslash");
        const char e = in_[pos_ + 1];
        switch (e) {
            case 's':
                out_ += bracket(false, class_items(white_space()));
                break;
            case 'S':
                out_ += bracket(true, class_items(white_space()));
                break;
            case 'w':
                out_ += bracket(false, kWordItems);
                break;
            case 'W':
                out_ += bracket(true, kWordItems);
                break;
            case 'b':
            case 'B':
                word_boundary(e == 'b');
                break;
            case 'u':
            case 'U':
                code_point_escape();
                return;
            default:
                out_.append(in_.substr(pos_, 2));
                break;
        }
        pos_ += 2;
    }

    // Rust's \b / \B over its \w, as lookarounds.
    void word_boundary(bool boundary) {
        const std::string w = bracket(false, kWordItems);
        const std::string before = "(?<=" + w + ")", not_before = "(?<!" + w + ")";
        const std::string after = "(?=" + w + ")", not_after = "(?!" + w + ")";
        out_ += "(?:";
        out_ += boundary ? before + not_after : before + after;
        out_ += '|';
        out_ += boundary ? not_before + after : not_before + not_after;
        out_ += ')';
    }

    // \uXXXX, \u{X..}, \UXXXXXXXX, \U{X..} -> \x{X..}; pos_ is at the backslash.
    void code_point_escape() {
        const size_t digits = in_[pos_ + 1] == 'u' ? 4 : 8;
        size_t p = pos_ + 2;
        std::string hex;
        if (p < in_.size() && in_[p] == '{') {
            const size_t close = in_.find('}', p);
            if (close == std::string_view::npos) fail("an unterminated \\u{...} escape");
            hex = std::string(in_.substr(p + 1, close - p - 1));
            p = close + 1;
        } else {
            hex = std::string(in_.substr(p, digits));
            p += digits;
        }
        if (hex.empty() || hex.size() > 8) fail("a malformed \\u escape");
        for (char h : hex) {
            if (!std::isxdigit(static_cast<unsigned char>(h))) fail("a malformed \\u escape");
        }
        out_ += "\\x{" + hex + "}";
        pos_ = p;
    }

    // A bracketed class, copied with \s, \S and \w spelled out; pos_ is at '['.
    void char_class() {
        out_ += '[';
        ++pos_;
        if (pos_ < in_.size() && in_[pos_] == '^') {
            out_ += '^';
            ++pos_;
        }
        if (pos_ < in_.size() && in_[pos_] == ']') {  // a leading ']' is a literal in both engines
            out_ += "\\]";
            ++pos_;
        }
        while (pos_ < in_.size()) {
            const char c = in_[pos_];
            if (c == ']') {
                out_ += ']';
                ++pos_;
                return;
            }
            if (c == '[') {
                if (pos_ + 1 < in_.size() && in_[pos_ + 1] == ':') {
                    const size_t close = in_.find(":]", pos_ + 2);
                    if (close == std::string_view::npos) fail("an unterminated [: class");
                    out_.append(in_.substr(pos_, close + 2 - pos_));
                    pos_ = close + 2;
                    continue;
                }
                fail("a nested character class");
            }
            if ((c == '&' || c == '-' || c == '~') && pos_ + 1 < in_.size() && in_[pos_ + 1] == c) {
                fail("a class set operation");
            }
            if (c == '\\') {
                class_escape();
                continue;
            }
            out_ += c;
            ++pos_;
        }
        fail("an unterminated character class");
    }

    void class_escape() {
        if (pos_ + 1 >= in_.size()) fail("a trailing backslash");
        const char e = in_[pos_ + 1];
        switch (e) {
            case 's':
                out_ += class_items(white_space());
                break;
            case 'S':
                out_ += class_items(not_white_space());
                break;
            case 'w':
                out_ += kWordItems;
                break;
            case 'W':
                fail("\\W inside a class");
            case 'u':
            case 'U':
                code_point_escape();
                return;
            default:
                out_.append(in_.substr(pos_, 2));
                break;
        }
        pos_ += 2;
    }

    std::string_view in_;
    size_t pos_ = 0;
    std::string out_;
};

}  // namespace

std::string rust_regex_to_pcre2(std::string_view pattern) {
    return Translator(pattern).run();
}

}  // namespace gptoss
