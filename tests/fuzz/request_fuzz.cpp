// request_fuzz: arbitrary bytes as an HTTP request body through what the server does before it calls the
// engine: the request parser (JSON body -> typed chat / completion / tokenize / detokenize requests) and, for
// a chat body the parser accepts, the harmony rendering (build_chat_prompt). Rejections must be an ApiError
// of status 400 from the parser or a ChatRequestError from the mapping; any other exception, crash,
// sanitizer report or timeout is a bug.
//
// The vocabulary is loaded once, from $GPTOSS_FUZZ_TOKENIZER (a tokenizer.json, a .tiktoken file or a model
// folder; default: ../shared/vocab/o200k_base.tiktoken).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "server/chat_mapping.h"
#include "server/errors.h"
#include "server/openai_schema.h"
#include "tokenizer/tokenizer.h"

namespace {

std::shared_ptr<const gptoss::Tokenizer> g_tokenizer;

void expect_client_error(const gptoss::ApiError& e) {
    if (e.status() != 400) std::abort();
    // The error object must serialize whatever the message holds (it may quote client input).
    (void)e.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

template <typename F>
void parse(F f) {
    try {
        f();
    } catch (const gptoss::ApiError& e) {
        expect_client_error(e);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* path = std::getenv("GPTOSS_FUZZ_TOKENIZER");
    g_tokenizer = gptoss::Tokenizer::from_file(path && *path ? path : GPTOSS_DEFAULT_FUZZ_TOKENIZER);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    nlohmann::json body;
    try {
        body = gptoss::parse_json_body(text);
    } catch (const gptoss::ApiError& e) {
        expect_client_error(e);
        return 0;
    }
    parse([&] {
        gptoss::ChatCompletionRequest chat = gptoss::parse_chat_completion_request(body);
        gptoss::GenerationConfig defaults;
        (void)gptoss::make_sampling_params(chat.params, defaults, 1, chat.logprobs, chat.top_logprobs);
        gptoss::ChatMappingOptions options;
        options.current_date = "2025-01-01";
        try {
            // As the chat route does: the body again with the client's key order.
            gptoss::ChatPrompt prompt =
                gptoss::build_chat_prompt(nlohmann::ordered_json::parse(text), *g_tokenizer, options);
            gptoss::ChatOutputAssembler assembler(g_tokenizer, prompt);
            for (int32_t id : prompt.token_ids) (void)assembler.push(id);  // the prompt as if it were output
            (void)assembler.finish();
            (void)assembler.message().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        } catch (const gptoss::ChatRequestError&) {
        }
    });
    parse([&] { (void)gptoss::parse_completion_request(body); });
    parse([&] { (void)gptoss::parse_tokenize_request(body); });
    parse([&] { (void)gptoss::parse_detokenize_request(body); });
    return 0;
}
