// responses_fuzz: arbitrary bytes as a /v1/responses body through what the Responses route does before it
// calls the engine: the request parser (parse_responses_request), the translation into a chat body
// (chat_body_for_responses, with truncation's drop_oldest_turn), its harmony rendering (build_chat_prompt),
// and the output side: the prompt's tokens through a ResponseOutputAssembler as if they were output, each
// item shaped as JSON and read back as an input item (what the store keeps for previous_response_id).
// Rejections must be an ApiError of status 400 or a ChatRequestError; any other exception, crash, sanitizer
// report or timeout is a bug.
//
// The vocabulary is loaded once, from $GPTOSS_FUZZ_TOKENIZER (a tokenizer.json, a .tiktoken file or a model
// folder; default: ../shared/vocab/o200k_base.tiktoken).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/chat_mapping.h"
#include "server/errors.h"
#include "server/openai_schema.h"
#include "server/response_output_assembler.h"
#include "server/responses_mapping.h"
#include "tokenizer/tokenizer.h"

namespace {

std::shared_ptr<const gptoss::Tokenizer> g_tokenizer;

void expect_client_error(const gptoss::ApiError& e) {
    if (e.status() != 400) std::abort();
    (void)e.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void render_and_read_back(const gptoss::ResponsesRequest& request,
                          std::vector<nlohmann::ordered_json> conversation) {
    gptoss::ChatMappingOptions options;
    options.current_date = "2025-01-01";
    for (int turn = 0; turn < 2; ++turn) {
        gptoss::ChatPrompt prompt = gptoss::build_chat_prompt(
            gptoss::chat_body_for_responses(request, conversation), *g_tokenizer, options);
        gptoss::ResponseOutputAssembler assembler(g_tokenizer, prompt);
        for (int32_t id : prompt.token_ids) (void)assembler.push(id);
        (void)assembler.finish();
        for (const auto& item : assembler.items()) {
            nlohmann::json shaped = gptoss::response_item_json(item, "completed", true);
            (void)shaped.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            conversation.push_back(gptoss::normalize_input_item(nlohmann::ordered_json(shaped), "output"));
        }
        if (!gptoss::drop_oldest_turn(conversation)) return;
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
    try {
        (void)gptoss::parse_json_body(text);  // depth check and object check, as the route's first step
        gptoss::ResponsesRequest request =
            gptoss::parse_responses_request(nlohmann::ordered_json::parse(text));
        render_and_read_back(request, request.input);
    } catch (const gptoss::ApiError& e) {
        expect_client_error(e);
    } catch (const gptoss::ChatRequestError&) {
    }
    return 0;
}
