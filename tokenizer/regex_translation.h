// Rewrites a pre-tokenization pattern written for Rust's regex / fancy-regex (what tiktoken runs and what a
// tokenizer.json's Split pre-tokenizer holds) into PCRE2 syntax with the same meaning under UTF + UCP.
//
// Where the engines disagree, the Rust meaning is spelled out:
//   \s, \S   Rust: Unicode White_Space. PCRE2 UCP: \p{Z} + \h + \v, which adds U+180E. Both become explicit
//            classes of the 25 White_Space code points (and their complement), also inside [...] classes.
//   \w, \W   Rust: Alphabetic, M, Nd, Pc, Join_Control. PCRE2 10.42 UCP: L, N and '_' only.
//   \b, \B   word boundaries follow the rewritten \w.
//   \uXXXX, \u{X}, \UXXXXXXXX, \U{X}   Rust-only escapes, become \x{...}.
// `$` means end of text in Rust; the caller compiles with PCRE2_DOLLAR_ENDONLY. Rust features PCRE2 lacks
// (nested classes, class set operations &&, --, ~~, and \W inside a class) throw TokenizerError.
#pragma once

#include <string>
#include <string_view>

namespace gptoss {

std::string rust_regex_to_pcre2(std::string_view pattern);

}  // namespace gptoss
