// POST /v1/completions: raw prompts (text or token ids), no harmony. Generation stops on the model's EOS ids
// (generation_config.json) unless ignore_eos; text comes from the engine's stop-string-safe detokenizer.
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/engine.h"
#include "server/errors.h"
#include "server/routes.h"
#include "tokenizer/tokenizer.h"

namespace gptoss {

namespace {

// OpenAI's default max_tokens for the legacy completions API.
constexpr int kDefaultCompletionMaxTokens = 16;

struct CompletionChoice {
    int prompt_index = 0;
    std::string text;
    std::vector<int32_t> token_ids;
    nlohmann::json
        logprobs;  // legacy shape, non-streaming: {tokens, token_logprobs, top_logprobs, text_offset}
    size_t text_offset = 0;  // bytes of text so far (for text_offset)
    std::string finish_reason;
    nlohmann::json stop_reason = nullptr;
    int num_output_tokens = 0;
    bool started = false;  // streaming: the echo / prompt ids went out
};

nlohmann::json empty_legacy_logprobs() {
    return {{"tokens", nlohmann::json::array()},
            {"token_logprobs", nlohmann::json::array()},
            {"top_logprobs", nlohmann::json::array()},
            {"text_offset", nlohmann::json::array()}};
}

struct CompletionSession {
    ServerState& state;
    std::shared_ptr<const ServingModel> model;
    ServerState::ActiveGuard active;
    CompletionRequest request;
    std::string id = random_id("cmpl-");
    int64_t created = static_cast<int64_t>(std::time(nullptr));
    std::string model_name;
    std::string fingerprint;
    std::vector<std::vector<int32_t>> prompt_ids;
    std::vector<std::string> prompt_texts;  // for echo
    int num_cached_tokens = 0;
    std::vector<CompletionChoice> choices;
    std::unique_ptr<GenerationPump> pump;

    CompletionSession(ServerState& s, std::shared_ptr<const ServingModel> m)
        : state(s), model(std::move(m)), active(s) {}

    // Appends the event's tokens to `logprobs` (legacy shape); `offset` advances by each token's text.
    void append_logprobs(const TokenEvent& event, nlohmann::json& logprobs, size_t& offset) const {
        const Tokenizer& tok = *model->tokenizer;
        for (const auto& lp : event.logprobs) {
            std::string text = token_text(tok, lp.token);
            nlohmann::json top = nlohmann::json::object();
            for (const auto& t : lp.top) top[token_text(tok, t.token)] = t.logprob;
            logprobs["tokens"].push_back(text);
            logprobs["token_logprobs"].push_back(lp.logprob);
            logprobs["top_logprobs"].push_back(std::move(top));
            logprobs["text_offset"].push_back(offset);
            offset += text.size();
        }
    }

    void finish_choice(CompletionChoice& c, int index, const TokenEvent& event) {
        c.finish_reason = finish_reason_text(event.finish_reason);
        if (event.stop_token) c.stop_reason = *event.stop_token;
        if (event.stop_string) c.stop_reason = *event.stop_string;
        if (event.finish_reason == FinishReason::kError) {
            spdlog::error("generation failed id={} choice={} error={}", pump->context().request_id, index,
                          event.error);
        }
        pump->set_finish_label(index, finish_label_from_text(c.finish_reason));
    }

    nlohmann::json usage() const {
        int prompt = 0, completion = 0;
        for (const auto& p : prompt_ids) prompt += static_cast<int>(p.size());
        for (const auto& c : choices) completion += c.num_output_tokens;
        return {{"prompt_tokens", prompt},
                {"completion_tokens", completion},
                {"total_tokens", prompt + completion},
                {"prompt_tokens_details", {{"cached_tokens", num_cached_tokens}}}};
    }

    nlohmann::json envelope(nlohmann::json choices_json) const {
        return {{"id", id},
                {"object", "text_completion"},
                {"created", created},
                {"model", model_name},
                {"system_fingerprint", fingerprint},
                {"choices", std::move(choices_json)}};
    }

    void track_cached(const ChoiceEvent& e) {
        if (choices[e.choice].prompt_index == 0 && e.choice == 0) {
            num_cached_tokens = std::max(num_cached_tokens, e.event.num_cached_tokens);
        }
    }

    nlohmann::json collect() {
        std::string error;
        while (!pump->finished()) {
            for (auto& e : pump->poll(std::chrono::milliseconds(250))) {
                CompletionChoice& c = choices[e.choice];
                const TokenEvent& event = e.event;
                track_cached(e);
                c.text += event.text;
                c.token_ids.insert(c.token_ids.end(), event.token_ids.begin(), event.token_ids.end());
                c.num_output_tokens = std::max(c.num_output_tokens, event.num_output_tokens);
                if (request.logprobs) append_logprobs(event, c.logprobs, c.text_offset);
                if (event.finished) {
                    if (event.finish_reason == FinishReason::kError) error = event.error;
                    finish_choice(c, e.choice, event);
                }
            }
        }
        if (!error.empty()) throw api_errors::internal(error);
        nlohmann::json out = nlohmann::json::array();
        for (size_t i = 0; i < choices.size(); ++i) {
            CompletionChoice& c = choices[i];
            std::string text = request.echo ? prompt_texts[c.prompt_index] + c.text : c.text;
            nlohmann::json choice = {{"index", i},
                                     {"text", std::move(text)},
                                     {"logprobs", request.logprobs ? c.logprobs : nlohmann::json(nullptr)},
                                     {"finish_reason", c.finish_reason},
                                     {"stop_reason", c.stop_reason}};
            if (request.return_token_ids) {
                choice["prompt_token_ids"] = prompt_ids[c.prompt_index];
                choice["token_ids"] = c.token_ids;
            }
            out.push_back(std::move(choice));
        }
        nlohmann::json response = envelope(std::move(out));
        response["usage"] = usage();
        return response;
    }

    void stream(SseWriter& sse) {
        auto send_choice = [&](nlohmann::json choice) {
            nlohmann::json chunk = envelope(nlohmann::json::array({std::move(choice)}));
            if (request.params.include_usage) chunk["usage"] = nullptr;
            sse.send(chunk);
        };
        bool connected = pump_events(*pump, sse, state.options().keep_alive_interval, [&](ChoiceEvent& e) {
            CompletionChoice& c = choices[e.choice];
            const TokenEvent& event = e.event;
            track_cached(e);
            c.num_output_tokens = std::max(c.num_output_tokens, event.num_output_tokens);
            std::string text = event.text;
            nlohmann::json choice = {{"index", e.choice}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
            if (!c.started) {
                if (request.echo) text = prompt_texts[c.prompt_index] + text;
                if (request.return_token_ids) choice["prompt_token_ids"] = prompt_ids[c.prompt_index];
            }
            if (request.logprobs) {
                nlohmann::json lp = empty_legacy_logprobs();
                append_logprobs(event, lp, c.text_offset);
                choice["logprobs"] = std::move(lp);
            }
            if (request.return_token_ids) choice["token_ids"] = event.token_ids;
            bool has_payload =
                !text.empty() || (request.return_token_ids && !event.token_ids.empty()) || !c.started;
            choice["text"] = std::move(text);
            if (event.finished) {
                if (event.finish_reason == FinishReason::kError) {
                    sse.send(api_errors::internal(event.error).to_json());
                }
                finish_choice(c, e.choice, event);
                choice["finish_reason"] = c.finish_reason;
                choice["stop_reason"] = c.stop_reason;
                has_payload = true;
            }
            if (has_payload) send_choice(std::move(choice));
            c.started = true;
        });
        if (!connected) return;
        if (request.params.include_usage) {
            nlohmann::json chunk = envelope(nlohmann::json::array());
            chunk["usage"] = usage();
            sse.send(chunk);
        }
        sse.send_done();
    }
};

}  // namespace

void handle_completions(ServerState& state, const RequestContext& context, const nlohmann::json& body,
                        httplib::Response& res) {
    auto session = std::make_shared<CompletionSession>(state, nullptr);
    session->request = parse_completion_request(body);
    CompletionRequest& request = session->request;
    state.check_model_name(request.params.model);
    session->model = state.generation_model();
    const ServingModel& model = *session->model;
    const Tokenizer& tokenizer = *model.tokenizer;
    check_vocabulary_ids(request.params, tokenizer);

    int max_model_len = model.engine->max_model_len();
    std::vector<int> max_tokens;
    for (size_t p = 0; p < request.prompts.size(); ++p) {
        std::string param = request.prompts.size() == 1 ? "prompt" : fmt::format("prompt[{}]", p);
        std::vector<int32_t> ids;
        std::string text;
        if (const auto* t = std::get_if<std::string>(&request.prompts[p])) {
            // As Hugging Face tokenizers do, special-token text in a raw prompt becomes the special token.
            ids = tokenizer.encode(*t, SpecialTokenPolicy::all());
            text = *t;
        } else {
            ids = std::get<std::vector<int32_t>>(request.prompts[p]);
            for (int32_t id : ids) {
                if (!tokenizer.is_valid(id)) {
                    throw api_errors::invalid_request(
                        fmt::format("Invalid '{}': token id {} is outside the vocabulary (0..{}).", param, id,
                                    tokenizer.vocab_size() - 1),
                        param);
                }
            }
            if (request.echo) text = tokenizer.decode(ids);
        }
        if (ids.empty())
            throw api_errors::invalid_request(fmt::format("Invalid '{}': the prompt is empty.", param),
                                              param);
        max_tokens.push_back(resolve_max_tokens(static_cast<int>(ids.size()), request.params, max_model_len,
                                                kDefaultCompletionMaxTokens, param));
        session->prompt_ids.push_back(std::move(ids));
        session->prompt_texts.push_back(std::move(text));
    }

    session->model_name = request.params.model.empty() ? state.served_model_name() : request.params.model;
    session->fingerprint = state.system_fingerprint();
    std::vector<Request> engine_requests;
    int n = request.params.n;
    for (size_t p = 0; p < session->prompt_ids.size(); ++p) {
        for (int j = 0; j < n; ++j) {
            int index = static_cast<int>(p) * n + j;
            Request r;
            r.prompt_token_ids = session->prompt_ids[p];
            bool want_logprobs = request.logprobs.has_value();
            r.sampling = make_sampling_params(request.params, model.generation_config,
                                              choice_seed(request.params, index), want_logprobs,
                                              request.logprobs.value_or(0));
            r.stop.max_tokens = max_tokens[p];
            if (!request.params.ignore_eos) r.stop.stop_token_ids = model.eos_token_ids;
            for (int32_t id : request.params.stop_token_ids) r.stop.stop_token_ids.push_back(id);
            r.stop.stop_strings = request.params.stop;
            engine_requests.push_back(std::move(r));
            CompletionChoice choice;
            choice.prompt_index = static_cast<int>(p);
            choice.logprobs = empty_legacy_logprobs();
            if (request.echo) choice.text_offset = session->prompt_texts[p].size();
            session->choices.push_back(std::move(choice));
        }
    }
    session->pump = std::make_unique<GenerationPump>(state, session->model, context, "completions");
    session->pump->set_user(request.params.user);
    session->pump->submit(std::move(engine_requests));

    if (!request.params.stream) {
        set_json(res, session->collect());
        return;
    }
    start_event_stream(res, [session](SseWriter& sse) { session->stream(sse); });
}

}  // namespace gptoss
