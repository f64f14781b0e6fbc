// libFuzzer target: the two vocabulary-file loaders on arbitrary bytes. A file is user input (a model folder
// from anywhere): every malformed one must end in a TokenizerError, never a crash, a hang or a huge
// allocation. When the bytes do load, the tokenizer built from them must encode and decode its own text.
#include <cstdint>
#include <string>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/vocabulary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    for (bool json : {true, false}) {
        try {
            const gptoss::Vocabulary vocab = json ? gptoss::load_hf_tokenizer_json(bytes, "fuzz.json")
                                                  : gptoss::load_tiktoken_file(bytes, "fuzz.tiktoken");
            const gptoss::BpeTokenizer tok(vocab);
            const std::string text = "Hello, world! 123 \xE4\xBD\xA0\xE5\xA5\xBD <|start|>";
            if (tok.decode_bytes(tok.encode(text, gptoss::SpecialTokenPolicy::all())) != text)
                __builtin_trap();
        } catch (const gptoss::TokenizerError&) {
        }
    }
    return 0;
}
