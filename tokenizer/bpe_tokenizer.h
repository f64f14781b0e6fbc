// BpeTokenizer: the Tokenizer for byte-level BPE vocabularies (o200k_harmony), built from a Vocabulary
// whatever file it came from.
//
// encode: cut the text at allowed special-token strings, pre-tokenize each stretch into pieces (PCRE2), and
// encode each piece: a piece that is itself a token is one id (most are); otherwise its BPE result, from the
// piece cache when it was seen recently. Invalid UTF-8 bytes are pieces of one byte (see pretokenizer.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/piece_cache.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/rank_table.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocabulary.h"

namespace gptoss {

class BpeTokenizer final : public Tokenizer {
public:
    // Throws TokenizerError when the vocabulary cannot encode every byte or its pattern does not compile.
    explicit BpeTokenizer(const Vocabulary& vocabulary);

    std::vector<int32_t> encode_ordinary(std::string_view text) const override;
    std::vector<int32_t> encode(std::string_view text, const SpecialTokenPolicy& policy) const override;
    std::vector<int32_t> encode_ordinary_parallel(std::string_view text, int num_threads) const override;
    std::string decode_bytes(std::span<const int32_t> ids) const override;
    std::string decode(std::span<const int32_t> ids) const override;
    std::string_view token_to_bytes(int32_t id) const override;
    std::optional<int32_t> special_token_id(std::string_view text) const override;
    bool is_special(int32_t id) const override;
    bool is_valid(int32_t id) const override;
    int32_t vocab_size() const override { return static_cast<int32_t>(id_bytes_.size()); }

    // Appends the ids of ordinary text (no special tokens) to `out`.
    void encode_ordinary_into(std::string_view text, std::vector<int32_t>& out) const;
    // Appends the ids of one pre-tokenized piece, prepared by ranks().prepare(piece).
    void encode_piece(const RankTable::Key& piece, std::vector<int32_t>& out) const {
        if (const int32_t rank = ranks_.find(piece); rank >= 0) {
            out.push_back(rank);
            return;
        }
        encode_piece_slow(piece, out);
    }
    const Pretokenizer& pretokenizer() const { return pretokenizer_; }
    const RankTable& ranks() const { return ranks_; }

private:
    void encode_piece_slow(const RankTable::Key& piece, std::vector<int32_t>& out) const;

    RankTable ranks_;
    Pretokenizer pretokenizer_;
    SpecialTokenMatcher special_matcher_;
    std::vector<std::string> special_texts_;  // backing store of the special ids' texts
    std::vector<std::string_view> id_bytes_;  // [vocab_size] bytes of every id; empty: not a valid id
    std::vector<bool> is_special_;            // [vocab_size]
    PieceCache cache_;
};

// Encodes a stream of pieces in small batches: every piece's rank-table slot is prefetched when it is added
// and looked up when the batch is full, so the cache misses of a batch overlap instead of queueing.
// on_piece(begin, id_offset) is told where each piece's ids start in `out` (the parallel encoder records it).
template <class OnPiece>
class PieceBatcher {
public:
    PieceBatcher(const BpeTokenizer& tokenizer, std::string_view text, std::vector<int32_t>& out,
                 OnPiece on_piece)
        : tokenizer_(tokenizer), text_(text), out_(out), on_piece_(on_piece) {}
    ~PieceBatcher() { flush(); }
    PieceBatcher(const PieceBatcher&) = delete;
    PieceBatcher& operator=(const PieceBatcher&) = delete;

    void add(Piece piece) {
        begins_[size_] = piece.begin;
        keys_[size_++] = tokenizer_.ranks().prepare(text_.substr(piece.begin, piece.end - piece.begin));
        if (size_ == kBatch) flush();
    }
    void flush() {
        for (size_t i = 0; i < size_; ++i) {
            on_piece_(begins_[i], out_.size());
            tokenizer_.encode_piece(keys_[i], out_);
        }
        size_ = 0;
    }

private:
    static constexpr size_t kBatch = 16;
    const BpeTokenizer& tokenizer_;
    std::string_view text_;
    std::vector<int32_t>& out_;
    OnPiece on_piece_;
    RankTable::Key keys_[kBatch];
    size_t begins_[kBatch];
    size_t size_ = 0;
};

}  // namespace gptoss
