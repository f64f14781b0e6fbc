// JsonMatcher: which byte strings are prefixes of a document in a JsonGrammar's language (json_grammar.h).
//
// A pushdown matcher: each thread is a stack of frames, one per open value (object, array, string, number,
// literal), below a root frame. anyOf forks a thread per alternative when a value starts; threads that reject
// a byte die, identical threads merge. The state is the sorted set of live threads, so two matchers that
// read bytes leading to the same set are equal (state_key() is the mask cache's key).
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/structured/json_grammar.h"

namespace gptoss::structured {

// One open value. Field meaning depends on the node's kind (json_matcher.cpp says which); unused fields stay
// 0 so that equal states compare equal.
struct MatchFrame {
    int32_t node = -1;  // -1: the root frame
    uint8_t phase = 0;
    uint8_t whitespace = 0;  // length of the current whitespace run
    uint8_t escape = 0;      // string bodies: inside a \ escape
    uint8_t utf8_left = 0;   // string bodies: continuation bytes still due
    uint8_t utf8_low = 0;    // string bodies: the range of the next continuation byte
    uint8_t utf8_high = 0;
    int32_t count = 0;  // items so far, string UTF-16 units so far, literal / pattern position, number length
    int32_t property = 0;  // objects: the property whose value comes next (-1: an additional one)
    uint64_t mask = 0;     // objects: properties seen; literals / formats: candidates alive; integers: sign
    uint64_t mask2 = 0;    // objects: properties whose key matches the key read so far
    int64_t value = 0;     // objects: key bytes; integers: magnitude; exponents: digits; email: sub-state

    auto operator<=>(const MatchFrame&) const = default;
};
using MatchThread = std::vector<MatchFrame>;  // root first

// How a token's bytes read inside a JSON string body from a neutral position (not within an escape or a
// UTF-8 sequence): all inside the body, up to a closing quote, or not at all. The per-vocabulary index of
// these (string_token_index.h) lets a string body's mask skip the walk.
struct StringBodyRead {
    enum class Kind : uint8_t { kInside, kCloses, kRejected };
    Kind kind = Kind::kRejected;
    int32_t characters =
        0;  // UTF-16 units of the complete characters (an escape is one) before the end / quote
    bool ends_partial = false;  // kInside: the bytes stop within an escape or a UTF-8 sequence
    int32_t close_offset = 0;   // kCloses: the index of the closing quote
};
StringBodyRead read_string_body(std::string_view bytes);

struct OpenString;

class JsonMatcher {
public:
    explicit JsonMatcher(std::shared_ptr<const JsonGrammar> grammar);

    // Reads one byte; false (and the state unchanged) when no document has the bytes so far as a prefix.
    bool advance(uint8_t byte);
    // All bytes or none: false leaves the state unchanged.
    bool advance(std::string_view bytes);
    // The bytes so far are a whole document.
    bool is_complete() const;
    // Some byte can follow.
    bool can_continue() const;
    // Equal for equal states (the same set of threads).
    std::string state_key() const;
    // Set when the state is a single thread inside a string body as OpenString describes.
    std::optional<OpenString> open_string() const;

    const JsonGrammar& grammar() const { return *grammar_; }

private:
    std::shared_ptr<const JsonGrammar> grammar_;
    std::vector<MatchThread> threads_;  // sorted, unique
};

// The matcher is inside one string body at a neutral position: a plain string value (no format) or an
// object key that can only be an additional one. What it accepts is a function of the characters alone up
// to the closing quote, then of `after_close`.
struct OpenString {
    int32_t characters = 0;   // read so far (counted only under length limits)
    int32_t min_length = 0;   // characters the string needs before its closing quote
    int32_t max_length = -1;  // -1: unbounded
    JsonMatcher after_close;  // the state right after the closing quote
};

}  // namespace gptoss::structured
