// UTF-8 validation and lossy decoding, shared by the encoder (which pre-tokenizes only valid runs), decode()
// and the StreamDecoder.
//
// "Valid" is Unicode's well-formed UTF-8 (Table 3-7): no overlong forms, no surrogates, nothing above
// U+10FFFF. Invalid input is replaced per "maximal subpart" (one U+FFFD for each maximal prefix of a
// well-formed sequence, or for each lone bad byte), which is what Rust's String::from_utf8_lossy and the
// harmony parser do, so lossy text here equals theirs byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gptoss::utf8 {

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

enum class SequenceKind {
    kValid,       // a complete well-formed character of `length` bytes
    kInvalid,     // `length` bytes (a maximal subpart, >= 1) that can never become a character
    kIncomplete,  // all `length` remaining bytes are a proper prefix of a character: more may complete it
};

struct Sequence {
    SequenceKind kind;
    size_t length;
};

// Classifies the character starting at text[0]; text must not be empty.
Sequence classify_sequence(std::string_view text);

// Length of the longest prefix of `text` that is well-formed UTF-8 (stops before the first invalid or
// incomplete sequence).
size_t valid_prefix_length(std::string_view text);

inline bool is_valid(std::string_view text) {
    return valid_prefix_length(text) == text.size();
}

// Appends `bytes` to `out` with every invalid sequence (and an incomplete one at the end) replaced by U+FFFD.
void append_lossy(std::string_view bytes, std::string& out);

// Appends the part of `bytes` that is final to `out`: valid characters, and U+FFFD for each sequence that is
// already known to be invalid. Returns the number of bytes consumed; the rest (at most 3 bytes, a proper
// prefix of a character) must wait for more input.
size_t append_complete(std::string_view bytes, std::string& out);

// Appends the UTF-8 encoding of code point `cp` (at most U+10FFFF; surrogates are encoded as they are).
void append_code_point(uint32_t cp, std::string& out);

}  // namespace gptoss::utf8
