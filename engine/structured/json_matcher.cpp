#include "engine/structured/json_matcher.h"

#include <algorithm>
#include <cctype>
#include <tuple>
#include <utility>

namespace gptoss::structured {

// Frame fields by kind:
//   root:    phase 0 before the value (whitespace counted), 1 after it.
//   object:  phase 0 before '{', 1 after '{', 2 after ',', 3 in a key (escape/utf8 fields, value = key bytes
//            read, mask2 = properties still matching), 4 after the key, 5 after ':', 6 after a value;
//            mask = properties seen, property = the key's property (-1: additional).
//   array:   phase 0 before '[', 1 after '[', 2 after an item, 3 after ','; count = items started.
//   string:  phase 0 before '"', 1 in the body; count = UTF-16 units; formats: mask = patterns alive, count =
//            position; email: value = sub-state, count = dots in the domain.
//   number:  phase = position in the JSON number grammar (see kNumber* below); count = characters;
//            integers with bounds: mask = 1 when negative, value = magnitude.
//   literal: mask = literals still matching, count = bytes matched.
namespace {

enum NumberPhase : uint8_t {
    kNumberStart,
    kNumberMinus,
    kNumberZero,
    kNumberInt,
    kNumberDot,
    kNumberFraction,
    kNumberE,
    kNumberExpSign,
    kNumberExp,
};
// Every number the matcher admits is one a client's parser holds exactly or as a finite double: integers
// have at most 18 digits (inside int64; JSON parsers turn longer ones into doubles, which an integer check
// then rejects), and exponents at most 2 digits (32 characters of mantissa times 1e99 stays finite, where
// 5e511 is infinity to JavaScript and an error to nlohmann).
constexpr int kMaxNumberChars = 32;
constexpr int kMaxIntegerDigits = 18;
constexpr int kMaxExponentDigits = 2;

bool is_whitespace(uint8_t c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}
bool is_digit(uint8_t c) {
    return c >= '0' && c <= '9';
}
bool is_hex(uint8_t c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Fixed-shape formats as patterns: D digit, H hex digit, V uuid version 1-8, W uuid variant 8-b, P 1-9,
// q 0-2, w 1-2, r 0-1, j 0-3, m 0-5; anything else stands for itself. Months 01-12, days 01-31, hours 00-23;
// date-time is UTC ("Z") with no, 3 or 6 fraction digits: enough for every validator (zod's included) and
// within the 64 patterns a frame tracks.
const std::vector<std::string>& format_patterns(StringFormat format) {
    static const std::vector<std::string> kDates = [] {
        std::vector<std::string> out;
        for (const char* month : {"0P", "1q"}) {
            for (const char* day : {"0P", "wD", "3r"})
                out.push_back(std::string("DDDD-") + month + "-" + day);
        }
        return out;
    }();
    static const std::vector<std::string> kUuid = {"HHHHHHHH-HHHH-VHHH-WHHH-HHHHHHHHHHHH"};
    static const std::vector<std::string> kDateTime = [] {
        std::vector<std::string> out;
        for (const std::string& date : kDates) {
            for (const char* hour : {"rD", "2j"}) {
                for (const char* fraction : {"", ".DDD", ".DDDDDD"}) {
                    std::string p = date;
                    p.append("T").append(hour).append(":mD:mD").append(fraction).append("Z");
                    out.push_back(std::move(p));
                }
            }
        }
        return out;
    }();
    static const std::vector<std::string> kNone;
    switch (format) {
        case StringFormat::kDate:
            return kDates;
        case StringFormat::kUuid:
            return kUuid;
        case StringFormat::kDateTime:
            return kDateTime;
        default:
            return kNone;
    }
}

bool pattern_accepts(char p, uint8_t c) {
    switch (p) {
        case 'D':
            return is_digit(c);
        case 'H':
            return is_hex(c);
        case 'P':
            return c >= '1' && c <= '9';
        case 'q':
            return c >= '0' && c <= '2';
        case 'w':
            return c == '1' || c == '2';
        case 'r':
            return c == '0' || c == '1';
        case 'j':
            return c >= '0' && c <= '3';
        case 'm':
            return c >= '0' && c <= '5';
        case 'V':  // RFC 9562 version
            return c >= '1' && c <= '8';
        case 'W':  // RFC 9562 variant
            return c == '8' || c == '9' || c == 'a' || c == 'b' || c == 'A' || c == 'B';
        default:
            return static_cast<uint8_t>(p) == c;
    }
}

bool is_email_local(uint8_t c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool is_email_domain(uint8_t c) {
    return std::isalnum(c) || c == '-';
}

// Some integer with the digits read so far as a prefix (or exactly them, when `exact`) lies in the bounds.
bool integer_feasible(const GrammarNode& n, bool negative, int64_t magnitude, int digits, bool zero,
                      bool exact) {
    const __int128 low = n.minimum ? __int128(*n.minimum) : -(__int128(1) << 100);
    const __int128 high = n.maximum ? __int128(*n.maximum) : (__int128(1) << 100);
    if (digits == 0) return negative ? low <= -1 : true;
    __int128 scale = 1;
    const int max_extra = (zero || exact) ? 0 : kMaxIntegerDigits - digits;
    for (int j = 0; j <= max_extra; ++j, scale *= 10) {
        __int128 a = __int128(magnitude) * scale;
        __int128 b = a + scale - 1;
        if (negative) {
            const __int128 low_end = -b;
            b = -a;
            a = low_end;
        }
        if (b >= low && a <= high) return true;
    }
    return false;
}

enum class BodyStep { kReject, kPartial, kCharacter, kClose };

// A lead byte of a 4-byte UTF-8 sequence: a code point outside the BMP, two UTF-16 code units. JSON Schema
// validators in JavaScript (zod, ajv) count string lengths in UTF-16 units, so lengths here do too.
bool starts_astral(uint8_t c) {
    return c >= 0xF0 && c <= 0xF4;
}

// One byte of a JSON string body (after the opening quote), tracking escapes and UTF-8 in the frame.
BodyStep body_step(MatchFrame& f, uint8_t c) {
    if (f.utf8_left > 0) {
        if (c < f.utf8_low || c > f.utf8_high) return BodyStep::kReject;
        f.utf8_low = 0x80;
        f.utf8_high = 0xBF;
        if (--f.utf8_left > 0) return BodyStep::kPartial;
        f.utf8_low = f.utf8_high = 0;
        return BodyStep::kCharacter;
    }
    switch (f.escape) {
        case 0:
            break;
        case 1:
            if (c == 'u') {
                f.escape = 2;
                return BodyStep::kPartial;
            }
            if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
                c == 't') {
                f.escape = 0;
                return BodyStep::kCharacter;
            }
            return BodyStep::kReject;
        case 2:  // first hex digit; D starts a surrogate unless the next digit is 0-7
            if (!is_hex(c)) return BodyStep::kReject;
            f.escape = (c == 'd' || c == 'D') ? 6 : 3;
            return BodyStep::kPartial;
        case 6:
            if (c < '0' || c > '7') return BodyStep::kReject;
            f.escape = 4;
            return BodyStep::kPartial;
        case 3:
        case 4:
            if (!is_hex(c)) return BodyStep::kReject;
            ++f.escape;
            return BodyStep::kPartial;
        case 5:
            if (!is_hex(c)) return BodyStep::kReject;
            f.escape = 0;
            return BodyStep::kCharacter;
        default:
            return BodyStep::kReject;
    }
    if (c == '"') return BodyStep::kClose;
    if (c == '\\') {
        f.escape = 1;
        return BodyStep::kPartial;
    }
    if (c < 0x20) return BodyStep::kReject;
    if (c < 0x80) return BodyStep::kCharacter;
    f.utf8_low = 0x80;
    f.utf8_high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        f.utf8_left = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        f.utf8_left = 2;
        if (c == 0xE0) f.utf8_low = 0xA0;
        if (c == 0xED) f.utf8_high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        f.utf8_left = 3;
        if (c == 0xF0) f.utf8_low = 0x90;
        if (c == 0xF4) f.utf8_high = 0x8F;
    } else {
        return BodyStep::kReject;
    }
    return BodyStep::kPartial;
}

// What one byte does to the top frame.
struct Action {
    enum Kind { kReject, kStay, kPop, kPassUp, kChild } kind;
    int32_t child = -1;
};
constexpr Action kReject{Action::kReject};
constexpr Action kStay{Action::kStay};
constexpr Action kPop{Action::kPop};
constexpr Action kPassUp{Action::kPassUp};

class Stepper {
public:
    explicit Stepper(const JsonGrammar& g) : g_(g) {}

    void feed(MatchThread t, uint8_t c, std::vector<MatchThread>& out, int depth = 0) const {
        while (!t.empty()) {
            MatchFrame& f = t.back();
            Action a = f.node < 0 ? root(f, c) : step(f, c);
            switch (a.kind) {
                case Action::kReject:
                    return;
                case Action::kStay:
                    out.push_back(std::move(t));
                    return;
                case Action::kPop:
                    t.pop_back();
                    out.push_back(std::move(t));
                    return;
                case Action::kPassUp:
                    t.pop_back();
                    continue;
                case Action::kChild:
                    start_value(std::move(t), a.child, c, out, depth);
                    return;
            }
        }
    }

    // The thread ends here: every open frame can end without another byte.
    bool complete(const MatchThread& t) const {
        for (size_t i = t.size(); i-- > 0;) {
            const MatchFrame& f = t[i];
            if (f.node < 0) return f.phase == 1;
            if (!can_end(f)) return false;
        }
        return false;
    }

private:
    void start_value(MatchThread t, int32_t node, uint8_t c, std::vector<MatchThread>& out, int depth) const {
        const GrammarNode& n = g_.nodes[size_t(node)];
        if (n.kind == NodeKind::kAnyOf) {
            if (depth > 2 * kMaxNesting) return;  // a $ref cycle that never opens a value
            for (int32_t alt : n.alternatives) start_value(t, alt, c, out, depth + 1);
            return;
        }
        if (t.size() > size_t(kMaxNesting)) return;
        MatchFrame f;
        f.node = node;
        if (n.kind == NodeKind::kLiterals) f.mask = low_bits(n.literals.size());
        if (n.kind == NodeKind::kString && n.format != StringFormat::kNone &&
            n.format != StringFormat::kEmail)
            f.mask = low_bits(format_patterns(n.format).size());
        t.push_back(f);
        feed(std::move(t), c, out, depth + 1);
    }

    static uint64_t low_bits(size_t n) { return n >= 64 ? ~uint64_t(0) : (uint64_t(1) << n) - 1; }

    Action root(MatchFrame& f, uint8_t c) const {
        if (f.phase != 0) return kReject;
        if (is_whitespace(c)) return whitespace(f);
        f.phase = 1;
        f.whitespace = 0;
        return {Action::kChild, g_.root};
    }

    static Action whitespace(MatchFrame& f) {
        if (f.whitespace >= kMaxWhitespaceRun) return kReject;
        ++f.whitespace;
        return kStay;
    }

    Action step(MatchFrame& f, uint8_t c) const {
        const GrammarNode& n = g_.nodes[size_t(f.node)];
        switch (n.kind) {
            case NodeKind::kObject:
                return object(n, f, c);
            case NodeKind::kArray:
                return array(n, f, c);
            case NodeKind::kString:
                return string(n, f, c);
            case NodeKind::kInteger:
            case NodeKind::kNumber:
                return number(n, f, c);
            case NodeKind::kLiterals:
                return literal(n, f, c);
            case NodeKind::kAnyOf:
                return kReject;  // never on a stack
        }
        return kReject;
    }

    static bool required_seen(const GrammarNode& n, const MatchFrame& f) {
        for (size_t i = 0; i < n.properties.size(); ++i) {
            if (n.properties[i].required && !(f.mask >> i & 1)) return false;
        }
        return true;
    }
    static bool key_possible(const GrammarNode& n, const MatchFrame& f) {
        return n.additional >= 0 || (f.mask | ~low_bits(n.properties.size())) != ~uint64_t(0);
    }

    Action object(const GrammarNode& n, MatchFrame& f, uint8_t c) const {
        if (f.phase == 0) {
            if (c != '{') return kReject;
            f.phase = 1;
            return kStay;
        }
        if (f.phase == 3) return key(n, f, c);
        if (is_whitespace(c)) return whitespace(f);
        f.whitespace = 0;
        switch (f.phase) {
            case 1:
                if (c == '}') return required_seen(n, f) ? kPop : kReject;
                [[fallthrough]];
            case 2:
                if (c != '"' || !key_possible(n, f)) return kReject;
                f.phase = 3;
                f.mask2 = low_bits(n.properties.size());
                f.value = 0;
                return kStay;
            case 4:
                if (c != ':') return kReject;
                f.phase = 5;
                return kStay;
            case 5:
                f.phase = 6;
                if (f.property >= 0) {
                    f.mask |= uint64_t(1) << f.property;
                    return {Action::kChild, n.properties[size_t(f.property)].node};
                }
                return {Action::kChild, n.additional};
            case 6:
                if (c == '}') return required_seen(n, f) ? kPop : kReject;
                if (c != ',' || !key_possible(n, f)) return kReject;
                f.phase = 2;
                return kStay;
            default:
                return kReject;
        }
    }

    static Action key(const GrammarNode& n, MatchFrame& f, uint8_t c) {
        const BodyStep s = body_step(f, c);
        if (s == BodyStep::kReject) return kReject;
        if (s == BodyStep::kClose) {
            for (size_t i = 0; i < n.properties.size(); ++i) {
                if ((f.mask2 >> i & 1) && n.properties[i].key.size() == size_t(f.value)) {
                    if (f.mask >> i & 1) return kReject;  // a key twice
                    f.property = static_cast<int32_t>(i);
                    f.phase = 4;
                    f.mask2 = 0;
                    f.value = 0;
                    return kStay;
                }
            }
            if (n.additional < 0) return kReject;
            f.property = -1;
            f.phase = 4;
            f.mask2 = 0;
            f.value = 0;
            return kStay;
        }
        for (size_t i = 0; i < n.properties.size(); ++i) {
            const std::string& k = n.properties[i].key;
            if ((f.mask2 >> i & 1) && !(k.size() > size_t(f.value) && uint8_t(k[size_t(f.value)]) == c))
                f.mask2 &= ~(uint64_t(1) << i);
        }
        ++f.value;
        if (n.additional < 0 && (f.mask2 & ~f.mask) == 0) return kReject;
        if (n.additional >= 0 && f.mask2 == 0)
            f.value = 0;  // an additional key: its length no longer matters
        return kStay;
    }

    Action array(const GrammarNode& n, MatchFrame& f, uint8_t c) const {
        if (f.phase == 0) {
            if (c != '[') return kReject;
            f.phase = 1;
            return kStay;
        }
        if (is_whitespace(c)) return whitespace(f);
        f.whitespace = 0;
        const bool closable = f.count >= n.min_items;
        switch (f.phase) {
            case 1:
                if (c == ']') return closable ? kPop : kReject;
                [[fallthrough]];
            case 3: {
                const int32_t item = item_node(n, f.count);
                if (item < 0) return kReject;
                // Counted only where the count matters, so that the items of a plain list share states.
                if (counts_items(n)) ++f.count;
                f.phase = 2;
                return {Action::kChild, item};
            }
            case 2:
                if (c == ']') return closable ? kPop : kReject;
                if (c != ',' || item_node(n, f.count) < 0) return kReject;
                f.phase = 3;
                return kStay;
            default:
                return kReject;
        }
    }

    static bool counts_items(const GrammarNode& n) {
        return !n.prefix_items.empty() || n.min_items > 0 || n.max_items >= 0;
    }
    static int32_t item_node(const GrammarNode& n, int32_t index) {
        if (n.max_items >= 0 && index >= n.max_items) return -1;
        return index < static_cast<int32_t>(n.prefix_items.size()) ? n.prefix_items[size_t(index)] : n.items;
    }

    static Action string(const GrammarNode& n, MatchFrame& f, uint8_t c) {
        if (f.phase == 0) {
            if (c != '"') return kReject;
            f.phase = 1;
            return kStay;
        }
        if (n.format == StringFormat::kEmail) return email(f, c);
        if (n.format != StringFormat::kNone) return pattern(n, f, c);
        const bool starts_character = f.utf8_left == 0 && f.escape == 0;
        switch (body_step(f, c)) {
            case BodyStep::kReject:
                return kReject;
            case BodyStep::kPartial:
                if (!starts_character) return kStay;
                {
                    // The first byte of a character that would not fit: no completion could close the string.
                    const int32_t width = starts_astral(c) ? 2 : 1;
                    if (n.max_length >= 0 && f.count + width > n.max_length) return kReject;
                    // An astral character's second unit is counted at its lead byte, the first at its end.
                    if (width == 2 && (n.min_length > 0 || n.max_length >= 0)) ++f.count;
                }
                return kStay;
            case BodyStep::kClose:
                return f.count >= n.min_length ? kPop : kReject;
            case BodyStep::kCharacter:
                // Counted only under a length limit, so that an unlimited string keeps one state (one mask).
                if (n.min_length == 0 && n.max_length < 0) return kStay;
                ++f.count;
                return n.max_length < 0 || f.count <= n.max_length ? kStay : kReject;
        }
        return kReject;
    }

    static Action pattern(const GrammarNode& n, MatchFrame& f, uint8_t c) {
        const auto& patterns = format_patterns(n.format);
        uint64_t alive = 0;
        bool closable = false;
        for (size_t i = 0; i < patterns.size(); ++i) {
            if (!(f.mask >> i & 1)) continue;
            const std::string& p = patterns[i];
            if (p.size() == size_t(f.count)) closable = true;
            if (p.size() > size_t(f.count) && pattern_accepts(p[size_t(f.count)], c))
                alive |= uint64_t(1) << i;
        }
        if (c == '"') return closable ? kPop : kReject;
        if (alive == 0) return kReject;
        f.mask = alive;
        ++f.count;
        return kStay;
    }

    // local@label(.label)+ ; value: 0 local empty, 1 in local, 2 label empty, 3 in label.
    static Action email(MatchFrame& f, uint8_t c) {
        if (c == '"') return f.value == 3 && f.count >= 1 ? kPop : kReject;
        switch (f.value) {
            case 0:
            case 1:
                if (c == '@' && f.value == 1) {
                    f.value = 2;
                    return kStay;
                }
                if (!is_email_local(c)) return kReject;
                f.value = 1;
                return kStay;
            case 2:
                if (!is_email_domain(c)) return kReject;
                f.value = 3;
                return kStay;
            case 3:
                if (c == '.') {
                    f.value = 2;
                    ++f.count;
                    return kStay;
                }
                return is_email_domain(c) ? kStay : kReject;
            default:
                return kReject;
        }
    }

    static bool number_accepting(const GrammarNode& n, const MatchFrame& f) {
        const bool end = f.phase == kNumberZero || f.phase == kNumberInt || f.phase == kNumberFraction ||
                         f.phase == kNumberExp;
        if (!end) return false;
        if (n.kind == NodeKind::kInteger && (n.minimum || n.maximum))
            return integer_feasible(n, f.mask != 0, f.value, 1, f.phase == kNumberZero, true);
        return true;
    }

    static Action number(const GrammarNode& n, MatchFrame& f, uint8_t c) {
        const bool integer = n.kind == NodeKind::kInteger;
        const bool bounded = integer && (n.minimum || n.maximum);
        auto next = [&](uint8_t phase) {
            if (++f.count > kMaxNumberChars) return kReject;
            f.phase = phase;
            return kStay;
        };
        auto digit = [&](uint8_t phase) {
            if (integer) {
                const int digits = f.count - (f.mask != 0 ? 1 : 0);  // before this one
                if (digits >= kMaxIntegerDigits) return kReject;
                if (bounded) {
                    f.value = f.value * 10 + (c - '0');
                    if (!integer_feasible(n, f.mask != 0, f.value, digits + 1, phase == kNumberZero, false))
                        return kReject;
                }
            }
            return next(phase);
        };
        auto exponent_digit = [&] {
            if (++f.value > kMaxExponentDigits) return kReject;
            return next(kNumberExp);
        };
        switch (f.phase) {
            case kNumberStart:
                if (c == '-') {
                    f.mask = integer ? 1 : 0;
                    if (bounded && !integer_feasible(n, true, 0, 0, false, false)) return kReject;
                    return next(kNumberMinus);
                }
                [[fallthrough]];
            case kNumberMinus:
                if (c == '0') return digit(kNumberZero);
                if (is_digit(c)) return digit(kNumberInt);
                return kReject;
            case kNumberInt:
                if (is_digit(c)) return digit(kNumberInt);
                [[fallthrough]];
            case kNumberZero:
                if (!integer && c == '.') return next(kNumberDot);
                if (!integer && (c == 'e' || c == 'E')) return next(kNumberE);
                return number_accepting(n, f) ? kPassUp : kReject;
            case kNumberDot:
                return is_digit(c) ? next(kNumberFraction) : kReject;
            case kNumberFraction:
                if (is_digit(c)) return next(kNumberFraction);
                if (c == 'e' || c == 'E') return next(kNumberE);
                return kPassUp;
            case kNumberE:
                if (c == '+' || c == '-') return next(kNumberExpSign);
                [[fallthrough]];
            case kNumberExpSign:
                return is_digit(c) ? exponent_digit() : kReject;
            case kNumberExp:
                return is_digit(c) ? exponent_digit() : kPassUp;
            default:
                return kReject;
        }
    }

    static Action literal(const GrammarNode& n, MatchFrame& f, uint8_t c) {
        uint64_t alive = 0;
        bool complete = false;
        bool longer = false;
        for (size_t i = 0; i < n.literals.size(); ++i) {
            if (!(f.mask >> i & 1)) continue;
            const std::string& lit = n.literals[i];
            if (lit.size() == size_t(f.count)) complete = true;
            if (lit.size() > size_t(f.count) && uint8_t(lit[size_t(f.count)]) == c) {
                alive |= uint64_t(1) << i;
                if (lit.size() > size_t(f.count) + 1) longer = true;
            }
        }
        if (alive == 0) return complete ? kPassUp : kReject;
        f.mask = alive;
        ++f.count;
        return longer ? kStay : kPop;
    }

    bool can_end(const MatchFrame& f) const {
        const GrammarNode& n = g_.nodes[size_t(f.node)];
        if (n.kind == NodeKind::kInteger || n.kind == NodeKind::kNumber) return number_accepting(n, f);
        if (n.kind == NodeKind::kLiterals) {
            for (size_t i = 0; i < n.literals.size(); ++i) {
                if ((f.mask >> i & 1) && n.literals[i].size() == size_t(f.count)) return true;
            }
        }
        return false;
    }

    const JsonGrammar& g_;
};

void normalize(std::vector<MatchThread>& threads) {
    std::sort(threads.begin(), threads.end());
    threads.erase(std::unique(threads.begin(), threads.end()), threads.end());
}

}  // namespace

StringBodyRead read_string_body(std::string_view bytes) {
    StringBodyRead out;
    MatchFrame f;
    for (size_t i = 0; i < bytes.size(); ++i) {
        switch (body_step(f, static_cast<uint8_t>(bytes[i]))) {
            case BodyStep::kReject:
                return out;
            case BodyStep::kPartial:
                if (starts_astral(static_cast<uint8_t>(bytes[i])) && f.utf8_left == 3) ++out.characters;
                break;
            case BodyStep::kCharacter:
                ++out.characters;
                break;
            case BodyStep::kClose:
                out.kind = StringBodyRead::Kind::kCloses;
                out.close_offset = static_cast<int32_t>(i);
                return out;
        }
    }
    out.kind = StringBodyRead::Kind::kInside;
    out.ends_partial = f.escape != 0 || f.utf8_left != 0;
    return out;
}

std::optional<OpenString> JsonMatcher::open_string() const {
    if (threads_.size() != 1 || threads_[0].size() < 2) return std::nullopt;
    const MatchFrame& f = threads_[0].back();
    if (f.escape != 0 || f.utf8_left != 0) return std::nullopt;
    const GrammarNode& n = grammar_->nodes[size_t(f.node)];
    OpenString out{0, 0, -1, *this};
    MatchThread& closed = out.after_close.threads_[0];
    if (n.kind == NodeKind::kString && f.phase == 1 && n.format == StringFormat::kNone) {
        out.characters = f.count;
        out.min_length = n.min_length;
        out.max_length = n.max_length;
        closed.pop_back();  // as Stepper::string's kClose does
        return out;
    }
    if (n.kind == NodeKind::kObject && f.phase == 3 && f.mask2 == 0 && n.additional >= 0) {
        MatchFrame& key = closed.back();  // as Stepper::key's kClose does for an additional key
        key.property = -1;
        key.phase = 4;
        key.mask2 = 0;
        key.value = 0;
        return out;
    }
    return std::nullopt;
}

JsonMatcher::JsonMatcher(std::shared_ptr<const JsonGrammar> grammar) : grammar_(std::move(grammar)) {
    threads_.push_back(MatchThread{MatchFrame{}});
}

bool JsonMatcher::advance(uint8_t byte) {
    const Stepper stepper(*grammar_);
    std::vector<MatchThread> next;
    for (const MatchThread& t : threads_) stepper.feed(t, byte, next);
    if (next.empty()) return false;
    normalize(next);
    threads_ = std::move(next);
    return true;
}

bool JsonMatcher::advance(std::string_view bytes) {
    JsonMatcher copy = *this;
    for (char c : bytes) {
        if (!copy.advance(static_cast<uint8_t>(c))) return false;
    }
    *this = std::move(copy);
    return true;
}

bool JsonMatcher::is_complete() const {
    const Stepper stepper(*grammar_);
    return std::any_of(threads_.begin(), threads_.end(),
                       [&](const MatchThread& t) { return stepper.complete(t); });
}

bool JsonMatcher::can_continue() const {
    for (int c = 0; c < 256; ++c) {
        JsonMatcher copy = *this;
        if (copy.advance(static_cast<uint8_t>(c))) return true;
    }
    return false;
}

std::string JsonMatcher::state_key() const {
    std::string key;
    for (const MatchThread& t : threads_) {
        key.push_back('|');
        for (const MatchFrame& f : t) {
            const auto fields =
                std::make_tuple(f.node, f.phase, f.whitespace, f.escape, f.utf8_left, f.utf8_low, f.utf8_high,
                                f.count, f.property, f.mask, f.mask2, f.value);
            std::apply(
                [&](const auto&... v) { (key.append(reinterpret_cast<const char*>(&v), sizeof(v)), ...); },
                fields);
        }
    }
    return key;
}

}  // namespace gptoss::structured
