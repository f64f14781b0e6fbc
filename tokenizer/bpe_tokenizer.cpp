#include "tokenizer/bpe_tokenizer.h"

#include <algorithm>

#include <fmt/format.h>

#include "tokenizer/utf8.h"

namespace gptoss {

namespace {

std::vector<std::string_view> as_views(const std::vector<std::string>& tokens) {
    return {tokens.begin(), tokens.end()};
}

}  // namespace

BpeTokenizer::BpeTokenizer(const Vocabulary& vocabulary)
    : ranks_(as_views(vocabulary.tokens)),
      pretokenizer_(vocabulary.pattern),
      special_matcher_(vocabulary.specials) {
    for (int b = 0; b < 256; ++b) {
        const char byte = static_cast<char>(b);
        if (ranks_.find(&byte, 1) < 0) {
            throw TokenizerError(
                fmt::format("vocabulary lacks the single-byte token 0x{:02X}, so not every text can "
                            "be encoded",
                            b));
        }
    }
    int32_t size = ranks_.num_ranks();
    for (const auto& s : vocabulary.specials) size = std::max(size, s.id + 1);
    id_bytes_.assign(size, {});
    is_special_.assign(size, false);
    for (int32_t id = 0; id < ranks_.num_ranks(); ++id) id_bytes_[id] = ranks_.bytes(id);
    special_texts_.reserve(vocabulary.specials.size());
    for (const auto& s : vocabulary.specials) {
        if (!id_bytes_[s.id].empty())
            continue;  // an alias, or a string for an ordinary id: decodes as the first
        special_texts_.push_back(s.text);
        id_bytes_[s.id] = special_texts_.back();
        is_special_[s.id] = true;
    }
}

void BpeTokenizer::encode_piece_slow(const RankTable::Key& key, std::vector<int32_t>& out) const {
    const std::string_view piece(key.bytes, key.length);
    if (cache_.find(piece, key.hash, out)) return;
    const size_t before = out.size();
    byte_pair_encode(ranks_, piece, out);
    cache_.insert(piece, key.hash, std::span<const int32_t>(out).subspan(before));
}

void BpeTokenizer::encode_ordinary_into(std::string_view text, std::vector<int32_t>& out) const {
    PieceBatcher batcher(*this, text, out, [](size_t, size_t) {});
    pretokenizer_.for_each_piece(text, [&](Piece p) { batcher.add(p); });
}

std::vector<int32_t> BpeTokenizer::encode_ordinary(std::string_view text) const {
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    encode_ordinary_into(text, out);
    return out;
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, const SpecialTokenPolicy& policy) const {
    if (!policy.allow_all && policy.allowed.empty()) return encode_ordinary(text);
    auto allowed = [&](std::string_view candidate) {
        return policy.allow_all ||
               std::find(policy.allowed.begin(), policy.allowed.end(), candidate) != policy.allowed.end();
    };
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    size_t pos = 0;
    while (pos < text.size()) {
        const auto match = special_matcher_.find_next(text, pos, allowed);
        const size_t stretch_end = match ? match->begin : text.size();
        encode_ordinary_into(text.substr(pos, stretch_end - pos), out);
        if (!match) break;
        out.push_back(match->id);
        pos = match->begin + match->length;
    }
    return out;
}

std::string_view BpeTokenizer::token_to_bytes(int32_t id) const {
    if (!is_valid(id)) throw TokenizerError(fmt::format("Invalid token for decoding: {}", id));
    return id_bytes_[id];
}

std::string BpeTokenizer::decode_bytes(std::span<const int32_t> ids) const {
    std::string out;
    for (int32_t id : ids) out += token_to_bytes(id);
    return out;
}

std::string BpeTokenizer::decode(std::span<const int32_t> ids) const {
    std::string out;
    utf8::append_lossy(decode_bytes(ids), out);
    return out;
}

std::optional<int32_t> BpeTokenizer::special_token_id(std::string_view text) const {
    return special_matcher_.find_id(text);
}

bool BpeTokenizer::is_special(int32_t id) const {
    return is_valid(id) && is_special_[id];
}

bool BpeTokenizer::is_valid(int32_t id) const {
    return id >= 0 && id < vocab_size() && !id_bytes_[id].empty();
}

}  // namespace gptoss
