#include "tokenizer/utf8.h"

#include <cstdint>
#include <cstring>

namespace gptoss::utf8 {

namespace {

// For a lead byte: the number of bytes of its character and the allowed range of the second byte
// (Unicode Table 3-7); the remaining continuation bytes are always 0x80..0xBF.
struct LeadInfo {
    uint8_t length;  // 0: not a lead byte
    uint8_t second_min;
    uint8_t second_max;
};

constexpr LeadInfo lead_info(unsigned char c) {
    if (c < 0x80) return {1, 0, 0};
    if (c < 0xC2) return {0, 0, 0};
    if (c < 0xE0) return {2, 0x80, 0xBF};
    if (c == 0xE0) return {3, 0xA0, 0xBF};
    if (c == 0xED) return {3, 0x80, 0x9F};
    if (c < 0xF0) return {3, 0x80, 0xBF};
    if (c == 0xF0) return {4, 0x90, 0xBF};
    if (c < 0xF4) return {4, 0x80, 0xBF};
    if (c == 0xF4) return {4, 0x80, 0x8F};
    return {0, 0, 0};
}

bool all_ascii8(const char* p) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    return (word & 0x8080808080808080ULL) == 0;
}

}  // namespace

Sequence classify_sequence(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const LeadInfo info = lead_info(p[0]);
    if (info.length == 0) return {SequenceKind::kInvalid, 1};
    if (info.length == 1) return {SequenceKind::kValid, 1};
    for (size_t i = 1; i < info.length; ++i) {
        if (i == text.size()) return {SequenceKind::kIncomplete, i};
        const unsigned char lo = i == 1 ? info.second_min : 0x80;
        const unsigned char hi = i == 1 ? info.second_max : 0xBF;
        if (p[i] < lo || p[i] > hi) return {SequenceKind::kInvalid, i};
    }
    return {SequenceKind::kValid, info.length};
}

size_t valid_prefix_length(std::string_view text) {
    size_t i = 0;
    const size_t n = text.size();
    while (i < n) {
        if (i + 8 <= n && all_ascii8(text.data() + i)) {
            i += 8;
            continue;
        }
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++i;
            continue;
        }
        const Sequence s = classify_sequence(text.substr(i));
        if (s.kind != SequenceKind::kValid) return i;
        i += s.length;
    }
    return n;
}

void append_lossy(std::string_view bytes, std::string& out) {
    const size_t consumed = append_complete(bytes, out);
    if (consumed < bytes.size()) out += kReplacementCharacter;  // an incomplete character at the very end
}

size_t append_complete(std::string_view bytes, std::string& out) {
    size_t i = 0;
    while (i < bytes.size()) {
        const size_t valid = valid_prefix_length(bytes.substr(i));
        out.append(bytes.data() + i, valid);
        i += valid;
        if (i == bytes.size()) break;
        const Sequence s = classify_sequence(bytes.substr(i));
        if (s.kind == SequenceKind::kIncomplete) return i;
        out += kReplacementCharacter;
        i += s.length;
    }
    return i;
}

void append_code_point(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

}  // namespace gptoss::utf8
