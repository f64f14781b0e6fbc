// POST /tokenize and POST /detokenize, in vLLM's shapes:
//   {"prompt": "text"} or {"messages": [...], "tools": ...}  ->  {"count", "max_model_len", "tokens",
//   "token_strs"}
//   {"tokens": [ids]}                                          ->  {"prompt": "text"}
#include <fmt/format.h>

#include "engine/engine.h"
#include "server/chat_mapping.h"
#include "server/errors.h"
#include "server/routes.h"
#include "tokenizer/tokenizer.h"

namespace gptoss {

void handle_tokenize(ServerState& state, const RequestContext& context, const nlohmann::json& body,
                     httplib::Response& res) {
    TokenizeRequest request = parse_tokenize_request(body);
    state.check_model_name(request.model);
    auto model = state.ready_model();
    const Tokenizer& tokenizer = *model->tokenizer;
    std::vector<int32_t> tokens;
    if (request.chat) {
        tokens = render_chat_prompt(state, context, tokenizer).token_ids;
    } else {
        tokens = tokenizer.encode(*request.prompt, SpecialTokenPolicy::all());
    }
    nlohmann::json out = {{"count", tokens.size()},
                          {"max_model_len", model->engine->max_model_len()},
                          {"tokens", tokens},
                          {"token_strs", nullptr}};
    if (request.return_token_strs) {
        nlohmann::json strs = nlohmann::json::array();
        for (int32_t id : tokens) strs.push_back(token_text(tokenizer, id));
        out["token_strs"] = std::move(strs);
    }
    set_json(res, out);
}

void handle_detokenize(ServerState& state, const nlohmann::json& body, httplib::Response& res) {
    DetokenizeRequest request = parse_detokenize_request(body);
    state.check_model_name(request.model);
    auto model = state.ready_model();
    const Tokenizer& tokenizer = *model->tokenizer;
    for (size_t i = 0; i < request.tokens.size(); ++i) {
        if (!tokenizer.is_valid(request.tokens[i])) {
            throw api_errors::invalid_request(
                fmt::format("Invalid 'tokens[{}]': token id {} is outside the vocabulary (0..{}).", i,
                            request.tokens[i], tokenizer.vocab_size() - 1),
                fmt::format("tokens[{}]", i));
        }
    }
    set_json(res, {{"prompt", tokenizer.decode(request.tokens)}});
}

}  // namespace gptoss
