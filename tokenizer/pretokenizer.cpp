#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

#include "tokenizer/regex_translation.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace gptoss {

const std::string_view kO200kPattern =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'"
    "ve|'m|'"
    "ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|"
    "'t|'re|'"
    "ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

namespace {

std::string pcre2_message(int code) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(code, buffer, sizeof(buffer));
    return reinterpret_cast<const char*>(buffer);
}

// Owns one match data block (ovector) for the duration of a scan.
struct MatchData {
    explicit MatchData(const pcre2_code* code) : data(pcre2_match_data_create_from_pattern(code, nullptr)) {
        if (!data) throw std::bad_alloc();
    }
    ~MatchData() { pcre2_match_data_free(data); }
    MatchData(const MatchData&) = delete;
    MatchData& operator=(const MatchData&) = delete;
    pcre2_match_data* data;
};

}  // namespace

struct Pretokenizer::Compiled {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Compiled() { pcre2_code_free(code); }
};

Pretokenizer::Pretokenizer(std::string_view rust_pattern)
    : compiled_(std::make_unique<Compiled>()), pcre2_pattern_(rust_regex_to_pcre2(rust_pattern)) {
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    compiled_->code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pcre2_pattern_.data()), pcre2_pattern_.size(),
                      PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error, &error_offset, nullptr);
    if (!compiled_->code) {
        throw TokenizerError(fmt::format("pre-tokenizer pattern does not compile: {} (at offset {} of {})",
                                         pcre2_message(error), error_offset, pcre2_pattern_));
    }
    // Without JIT (an unsupported platform) the interpreter gives the same matches, only slower.
    compiled_->jit = pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE) == 0;
}

Pretokenizer::~Pretokenizer() = default;

void Pretokenizer::scan(std::string_view text, PieceCallback callback, void* context) const {
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t valid = utf8::valid_prefix_length(text.substr(pos));
        if (valid > 0) pos += scan_valid(text.substr(pos, valid), pos, 0, valid, callback, context);
        if (pos == text.size()) break;
        // Bytes that are not part of a valid character: one piece each.
        const size_t bad = utf8::classify_sequence(text.substr(pos)).length;
        for (size_t i = 0; i < bad; ++i, ++pos) callback(context, {pos, pos + 1});
    }
}

// Pieces of the valid UTF-8 `run` (which starts at byte `base` of the caller's text), scanning from `from`
// and stopping before the first piece that starts at or after `until`. Returns where the scan stopped.
size_t Pretokenizer::scan_valid(std::string_view run, size_t base, size_t from, size_t until,
                                PieceCallback callback, void* context) const {
    MatchData match(compiled_->code);
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(run.data());
    size_t piece_start = from;  // end of the last piece
    size_t search = from;       // where the next match attempt starts (past an empty match)
    while (piece_start < run.size() && piece_start < until) {
        const int rc = compiled_->jit ? pcre2_jit_match(compiled_->code, subject, run.size(), search, 0,
                                                        match.data, nullptr)
                                      : pcre2_match(compiled_->code, subject, run.size(), search,
                                                    PCRE2_NO_UTF_CHECK, match.data, nullptr);
        size_t match_begin = run.size();
        size_t match_end = run.size();
        if (rc >= 0) {
            const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.data);
            match_begin = ovector[0];
            match_end = ovector[1];
        } else if (rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_MATCHLIMIT ||
                   rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT) {
            throw TokenizerError(
                fmt::format("pre-tokenizer: the pattern needs too much backtracking at byte {} ({})",
                            base + search, pcre2_message(rc)));
        } else if (rc != PCRE2_ERROR_NOMATCH) {
            throw TokenizerError(
                fmt::format("pre-tokenizer: PCRE2 failed at byte {}: {}", base + search, pcre2_message(rc)));
        }
        if (match_begin == match_end && match_end < run.size()) {
            // An empty match splits nothing: look again one character further.
            search = match_end + utf8::classify_sequence(run.substr(match_end)).length;
            continue;
        }
        if (match_begin > piece_start) {  // text no alternative matched is a piece of its own
            callback(context, {base + piece_start, base + match_begin});
            piece_start = match_begin;
            if (piece_start >= until) break;
        }
        if (match_end > match_begin) callback(context, {base + match_begin, base + match_end});
        piece_start = search = match_end;
    }
    return piece_start;
}

}  // namespace gptoss
