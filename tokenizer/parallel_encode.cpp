// BpeTokenizer::encode_ordinary_parallel: the same ids as encode_ordinary for long texts, on several threads.
//
// The text is cut into equal chunks at character boundaries. Each worker pre-tokenizes and encodes the pieces
// that start in its chunk, scanning the whole text from the chunk start (so lookahead sees the real text), as
// if a piece had ended there. That guess can be wrong, but the scan from a piece boundary depends on nothing
// but that position: as soon as the true (sequential) piece boundary coincides with a piece start of the next
// worker, the two scans agree from there on. Stitching walks the chunks in order and takes a worker's ids
// from the first of its pieces that starts where the previous piece ended; if none does (rare: a chunk start
// in the middle of a long piece that the worker split differently), pieces are encoded sequentially until it
// does. The result is therefore identical to the sequential scan by construction.
#include <algorithm>
#include <thread>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/utf8.h"

namespace gptoss {

namespace {

constexpr size_t kMinChunkBytes = 64 * 1024;  // below this, thread start-up costs more than it saves

struct ChunkResult {
    std::vector<size_t> piece_starts;  // [num_pieces] increasing
    std::vector<size_t> id_offsets;    // [num_pieces] where each piece's ids begin in `ids`
    std::vector<int32_t> ids;
    size_t end = 0;  // end of the last piece
};

bool is_continuation_byte(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

std::vector<int32_t> BpeTokenizer::encode_ordinary_parallel(std::string_view text, int num_threads) const {
    if (num_threads <= 0) num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const size_t num_chunks = std::min<size_t>(num_threads, text.size() / kMinChunkBytes);
    // Invalid UTF-8 is split around its bad bytes first (see pretokenizer.h); such input takes the simple
    // path.
    if (num_chunks <= 1 || !utf8::is_valid(text)) return encode_ordinary(text);

    std::vector<size_t> bounds(num_chunks + 1);  // [num_chunks + 1] chunk starts at character boundaries
    for (size_t i = 0; i <= num_chunks; ++i) {
        size_t b = text.size() * i / num_chunks;
        while (b < text.size() && is_continuation_byte(text[b])) ++b;
        bounds[i] = b;
    }
    std::vector<ChunkResult> chunks(num_chunks);
    auto work = [&](size_t i) {
        ChunkResult& r = chunks[i];
        r.ids.reserve((bounds[i + 1] - bounds[i]) / 4 + 16);
        PieceBatcher batcher(*this, text, r.ids, [&r](size_t begin, size_t id_offset) {
            r.piece_starts.push_back(begin);
            r.id_offsets.push_back(id_offset);
        });
        r.end = pretokenizer_.for_each_piece_from(text, bounds[i], bounds[i + 1],
                                                  [&](Piece p) { batcher.add(p); });
    };
    std::vector<std::thread> threads;
    threads.reserve(num_chunks - 1);
    for (size_t i = 1; i < num_chunks; ++i) threads.emplace_back(work, i);
    work(0);
    for (auto& t : threads) t.join();

    std::vector<int32_t> out = std::move(chunks[0].ids);
    size_t end = chunks[0].end;  // where the true piece sequence has reached
    for (size_t i = 1; i < num_chunks; ++i) {
        const ChunkResult& r = chunks[i];
        while (end < r.end) {
            auto it = std::lower_bound(r.piece_starts.begin(), r.piece_starts.end(), end);
            if (it != r.piece_starts.end() && *it == end) {
                const size_t j = static_cast<size_t>(it - r.piece_starts.begin());
                out.insert(out.end(), r.ids.begin() + static_cast<std::ptrdiff_t>(r.id_offsets[j]),
                           r.ids.end());
                end = r.end;
                break;
            }
            // Not in step yet: encode the next true piece here.
            end = pretokenizer_.for_each_piece_from(text, end, end + 1, [&](Piece p) {
                encode_piece(ranks_.prepare(text.substr(p.begin, p.end - p.begin)), out);
            });
        }
    }
    return out;
}

}  // namespace gptoss
