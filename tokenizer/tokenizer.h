// Tokenizer: the o200k_harmony byte-level BPE of gpt-oss (public header of the tokenizer module).
//
// Loads either a Hugging Face tokenizer.json or a tiktoken rank file (o200k_base.tiktoken) + the harmony
// special tokens; both expose the same ids, including the whole reserved range up to vocab_size - 1.
// Thread-safe after construction (encode may be called from many threads at once).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gptoss {

class TokenizerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Which special-token strings encode() may turn into special ids. Default: none (text stays text).
struct SpecialTokenPolicy {
    bool allow_all = false;
    std::vector<std::string> allowed;  // e.g. {"<|start|>"}; ignored when allow_all
    static SpecialTokenPolicy none() { return {}; }
    static SpecialTokenPolicy all() { return {true, {}}; }
};

class Tokenizer {
public:
    // Reads `path`: a tokenizer.json, a .tiktoken rank file, or a checkpoint folder holding tokenizer.json.
    // The format is chosen by content, not by name. Throws TokenizerError naming the file and the problem.
    static std::shared_ptr<const Tokenizer> from_file(const std::filesystem::path& path);

    virtual ~Tokenizer() = default;

    // Ordinary text: special-token strings are encoded as plain text. Any bytes are accepted: valid UTF-8
    // runs are pre-tokenized as usual and every byte that is not part of a valid character becomes its own
    // single-byte token, so decode_bytes(encode_ordinary(x)) == x for all x.
    virtual std::vector<int32_t> encode_ordinary(std::string_view text) const = 0;
    // Text where the special-token strings named by `policy` become their ids (leftmost match first; strings
    // in policy.allowed that are not special tokens are ignored). With SpecialTokenPolicy::none() this is
    // encode_ordinary: user text can never produce a control token.
    virtual std::vector<int32_t> encode(std::string_view text, const SpecialTokenPolicy& policy) const = 0;
    // The same ids as encode_ordinary(text), computed on up to `num_threads` threads (0: one per hardware
    // thread); for long prompts. Short texts take the single-threaded path.
    virtual std::vector<int32_t> encode_ordinary_parallel(std::string_view text, int num_threads) const;
    // Concatenated token bytes; may be invalid UTF-8 (a prefix can end inside a character).
    virtual std::string decode_bytes(std::span<const int32_t> ids) const = 0;
    // decode_bytes with invalid UTF-8 replaced by U+FFFD (one per maximal invalid subpart, like Rust's
    // from_utf8_lossy). decode and decode_bytes throw TokenizerError on an invalid id.
    virtual std::string decode(std::span<const int32_t> ids) const = 0;
    // Raw bytes of one token; special tokens give their literal text ("<|start|>"). Throws on bad ids.
    virtual std::string_view token_to_bytes(int32_t id) const = 0;
    virtual std::optional<int32_t> special_token_id(std::string_view text) const = 0;
    virtual bool is_special(int32_t id) const = 0;
    virtual bool is_valid(int32_t id) const = 0;
    // Number of ids (201088 for o200k_harmony: 199998 ranks + specials up to 201087).
    virtual int32_t vocab_size() const = 0;
};

// Incremental detokenizer for streaming: push ids one at a time, get back only complete UTF-8.
// A multi-byte character split across tokens is held until complete; invalid sequences become U+FFFD.
// The concatenated output equals tokenizer->decode(ids) (without the special ids when skip_special).
// Special ids that are not skipped contribute their literal text. An id that is not in the vocabulary does
// not throw: it becomes one U+FFFD (as in the harmony parser).
class StreamDecoder {
public:
    explicit StreamDecoder(std::shared_ptr<const Tokenizer> tokenizer, bool skip_special = true);
    // Text that became complete with this token (possibly empty).
    std::string push(int32_t id);
    // Emits whatever is still pending (lossy), for the end of a stream.
    std::string flush();

private:
    std::shared_ptr<const Tokenizer> tokenizer_;
    bool skip_special_;
    std::string pending_;
};

}  // namespace gptoss
