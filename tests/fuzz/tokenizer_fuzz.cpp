// libFuzzer target: encode, decode and stream-decode arbitrary bytes with the o200k_harmony tokenizer.
//
// The vocabulary is loaded once, from $GPTOSS_FUZZ_TOKENIZER (a tokenizer.json, a .tiktoken file or a model
// folder; default: ../shared/vocab/o200k_base.tiktoken). Each input is used twice: as text (any bytes, often
// invalid UTF-8) and as a sequence of token ids. Checked: nothing crashes or hangs, decode_bytes(encode(x))
// == x with and without special tokens, decode(encode(x)) == x for valid UTF-8, the stream decoder emits only
// valid UTF-8 and adds up to decode().
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

std::shared_ptr<const gptoss::Tokenizer> g_tokenizer;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "tokenizer_fuzz: %s\n", what);
        std::abort();
    }
}

void fuzz_text(const gptoss::Tokenizer& tok, const std::string& text) {
    const auto ids = tok.encode_ordinary(text);
    check(tok.decode_bytes(ids) == text, "decode_bytes(encode_ordinary(x)) != x");
    for (int32_t id : ids) check(!tok.is_special(id), "encode_ordinary produced a special id");
    if (gptoss::utf8::is_valid(text)) check(tok.decode(ids) == text, "decode(encode_ordinary(x)) != x");
    check(tok.encode(text, gptoss::SpecialTokenPolicy::none()) == ids,
          "encode(x, none) != encode_ordinary(x)");
    check(tok.decode_bytes(tok.encode(text, gptoss::SpecialTokenPolicy::all())) == text,
          "decode_bytes(encode(x, all)) != x");
    gptoss::SpecialTokenPolicy some;
    some.allowed = {"<|start|>", "<|end|>", "<|message|>"};
    check(tok.decode_bytes(tok.encode(text, some)) == text, "decode_bytes(encode(x, some)) != x");
}

void fuzz_ids(const std::shared_ptr<const gptoss::Tokenizer>& tok, const uint8_t* data, size_t size) {
    std::vector<int32_t> ids;
    for (size_t i = 0; i + 3 < size; i += 4) {
        uint32_t raw;
        std::memcpy(&raw, data + i, 4);
        // Mostly real ids (many ordinary ones end inside a character), sometimes anything.
        ids.push_back(raw >> 31 ? static_cast<int32_t>(raw)
                                : static_cast<int32_t>(raw % (tok->vocab_size() + 8)));
    }
    bool all_valid = true;
    for (int32_t id : ids) all_valid = all_valid && tok->is_valid(id);
    std::string decoded;
    try {
        decoded = tok->decode(ids);
        check(all_valid, "decode accepted an invalid id");
        check(gptoss::utf8::is_valid(decoded), "decode returned invalid UTF-8");
    } catch (const gptoss::TokenizerError&) {
        check(!all_valid, "decode threw on valid ids");
    }
    gptoss::StreamDecoder stream(tok, /*skip_special=*/false);
    std::string streamed;
    for (int32_t id : ids) {
        const std::string chunk = stream.push(id);
        check(gptoss::utf8::is_valid(chunk), "StreamDecoder emitted invalid UTF-8");
        streamed += chunk;
    }
    streamed += stream.flush();
    check(gptoss::utf8::is_valid(streamed), "StreamDecoder::flush emitted invalid UTF-8");
    if (all_valid) check(streamed == decoded, "streamed text != decode(ids)");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* path = std::getenv("GPTOSS_FUZZ_TOKENIZER");
    g_tokenizer = gptoss::Tokenizer::from_file(path && *path ? path : GPTOSS_DEFAULT_FUZZ_TOKENIZER);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz_text(*g_tokenizer, std::string(reinterpret_cast<const char*>(data), size));
    fuzz_ids(g_tokenizer, data, size);
    return 0;
}
