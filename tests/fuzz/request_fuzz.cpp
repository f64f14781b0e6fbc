// request_fuzz: arbitrary bytes as an HTTP request body through the request parser (JSON body ->
// typed chat / completion / tokenize / detokenize requests). The parser may only ever reject input with an
// ApiError of status 400; any other exception, crash, sanitizer report or timeout is a bug.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/errors.h"
#include "server/openai_schema.h"

namespace {

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
    });
    parse([&] { (void)gptoss::parse_completion_request(body); });
    parse([&] { (void)gptoss::parse_tokenize_request(body); });
    parse([&] { (void)gptoss::parse_detokenize_request(body); });
    return 0;
}
