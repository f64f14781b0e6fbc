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
    // The format is chosen by content, not by name.
    static std::shared_ptr<const Tokenizer> from_file(const std::filesystem::path& path);

    virtual ~Tokenizer() = default;

    // Ordinary text: special-token strings are encoded as plain text.
    virtual std::vector<int32_t> encode_ordinary(std::string_view text) const = 0;
    // Text where the special-token strings named by `policy` become their ids.
    virtual std::vector<int32_t> encode(std::string_view text, const SpecialTokenPolicy& policy) const = 0;
    // Concatenated token bytes; may be invalid UTF-8 (a prefix can end inside a character).
    virtual std::string decode_bytes(std::span<const int32_t> ids) const = 0;
    // decode_bytes with invalid UTF-8 replaced by U+FFFD.
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
