#include "tokenizer/harmony/utf8.h"

namespace gptoss::harmony {

namespace {

bool is_continuation(unsigned char byte) {
    return (byte & 0xC0) == 0x80;
}

// Width of the sequence a lead byte starts (0: not a lead byte), as Rust's utf8_char_width.
int sequence_width(unsigned char lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 0;
}

// Whether `second` may follow `lead` (excludes overlong forms, surrogates and code points past U+10FFFF).
bool valid_second_byte(unsigned char lead, unsigned char second) {
    switch (lead) {
        case 0xE0:
            return second >= 0xA0 && second <= 0xBF;
        case 0xED:
            return second >= 0x80 && second <= 0x9F;
        case 0xF0:
            return second >= 0x90 && second <= 0xBF;
        case 0xF4:
            return second >= 0x80 && second <= 0x8F;
        default:
            return is_continuation(second);
    }
}

}  // namespace

Utf8Check check_utf8(std::string_view bytes) {
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    const size_t size = bytes.size();
    size_t i = 0;
    while (i < size) {
        const unsigned char lead = data[i];
        const int width = sequence_width(lead);
        Utf8Check error{i, std::nullopt, false};
        if (width == 0) {
            error.error_len = 1;
            return error;
        }
        for (int k = 1; k < width; ++k) {
            if (i + k >= size) {
                error.incomplete_tail = true;
                return error;
            }
            const bool ok = k == 1 ? valid_second_byte(lead, data[i + 1]) : is_continuation(data[i + k]);
            if (!ok) {
                error.error_len = static_cast<size_t>(k);
                return error;
            }
        }
        i += static_cast<size_t>(width);
    }
    return Utf8Check{size, std::nullopt, false};
}

std::string utf8_lossy(std::string_view bytes) {
    std::string out;
    while (!bytes.empty()) {
        const Utf8Check check = check_utf8(bytes);
        out.append(bytes.substr(0, check.valid_up_to));
        if (check.valid()) break;
        out.append(kReplacementCharacter);
        if (check.incomplete_tail) break;
        bytes.remove_prefix(check.valid_up_to + *check.error_len);
    }
    return out;
}

}  // namespace gptoss::harmony
