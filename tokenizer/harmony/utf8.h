// UTF-8 validation with Rust's exact error semantics, which harmony's streaming parser relies on to decide
// what to emit, what to hold back and where a U+FFFD goes (harmony.md 11, peer parse cases 20-28).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gptoss::harmony {

// Rust's std::str::Utf8Error for `bytes`: the length of the valid prefix, and the length of the invalid
// sequence after it (nullopt when the input merely ends inside a character). valid() when all is well-formed.
struct Utf8Check {
    size_t valid_up_to = 0;
    std::optional<size_t> error_len;
    bool incomplete_tail = false;  // the input ends inside a character (error_len is then nullopt)

    bool valid() const { return !error_len && !incomplete_tail; }
};

Utf8Check check_utf8(std::string_view bytes);

// Rust's String::from_utf8_lossy: each maximal invalid subpart (and an incomplete tail) becomes one U+FFFD.
std::string utf8_lossy(std::string_view bytes);

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace gptoss::harmony
