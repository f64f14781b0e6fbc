// Pretokenizer: splits text into the pieces that BPE encodes one by one, with a PCRE2 (UTF + UCP + JIT)
// translation of the tokenizer's Rust-syntax pattern (see regex_translation.h).
//
// Pieces cover the text exactly, in order: every regex match is a piece and so is any text between matches
// (tokenizer.json's "Isolated" split; the o200k pattern leaves no gaps). Invalid UTF-8 never reaches PCRE2:
// each maximal valid run is split on its own and every byte that is not part of a valid character is a piece
// by itself (so it encodes to its single-byte token). Thread-safe: match state is per call.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace gptoss {

// The pre-tokenization pattern of o200k_base / o200k_harmony (tiktoken's, Rust regex syntax). Used for the
// tiktoken rank file, which carries no pattern.
extern const std::string_view kO200kPattern;

struct Piece {
    size_t begin;
    size_t end;
};

class Pretokenizer {
public:
    // `rust_pattern` is in Rust regex syntax; throws TokenizerError when it cannot be compiled.
    explicit Pretokenizer(std::string_view rust_pattern);
    ~Pretokenizer();
    Pretokenizer(const Pretokenizer&) = delete;
    Pretokenizer& operator=(const Pretokenizer&) = delete;

    // Calls fn(Piece) for each piece of text, in order.
    template <class Fn>
    void for_each_piece(std::string_view text, Fn&& fn) const {
        scan(text, &call<Fn>, &fn);
    }

    // Same pieces as for_each_piece would give for `text`, but only for those starting in [from, until), from
    // a scan that starts at `from` as if a piece had ended there. `text` must be valid UTF-8 and `from` a
    // character boundary. Returns the end of the last piece (>= until unless the text ended). Used by the
    // parallel encoder, which verifies that such scans agree where they meet.
    template <class Fn>
    size_t for_each_piece_from(std::string_view text, size_t from, size_t until, Fn&& fn) const {
        return scan_valid(text, 0, from, until, &call<Fn>, &fn);
    }

    const std::string& pcre2_pattern() const { return pcre2_pattern_; }

private:
    using PieceCallback = void (*)(void* context, Piece piece);
    template <class Fn>
    static void call(void* context, Piece piece) {
        (*static_cast<std::remove_reference_t<Fn>*>(context))(piece);
    }

    void scan(std::string_view text, PieceCallback callback, void* context) const;
    size_t scan_valid(std::string_view run, size_t base, size_t from, size_t until, PieceCallback callback,
                      void* context) const;

    struct Compiled;
    std::unique_ptr<Compiled> compiled_;
    std::string pcre2_pattern_;
};

}  // namespace gptoss
