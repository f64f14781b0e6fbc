// POST /v1/chat/completions: harmony render (build_chat_prompt), n engine requests, and the output of each
// choice through its ChatOutputAssembler into OpenAI's message (non-streaming) or delta chunks (SSE).
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/engine.h"
#include "server/chat_mapping.h"
#include "server/errors.h"
#include "server/routes.h"
#include "server/structured_output.h"
#include "tokenizer/tokenizer.h"

namespace gptoss {

namespace {

// One choice's output state.
struct ChatChoice {
    ChatOutputAssembler assembler;
    // Logprobs of tokens that produced no output yet; they go with the next delta that does.
    std::vector<nlohmann::json> pending_logprobs;
    nlohmann::json content_logprobs = nlohmann::json::array();  // non-streaming: every content token's
    std::string finish_reason;
    std::optional<nlohmann::json> stop_reason;
    int num_output_tokens = 0;
};

// Everything one chat request needs until its last byte is written.
struct ChatSession {
    ServerState& state;
    std::shared_ptr<const ServingModel> model;
    ServerState::ActiveGuard active;
    ChatCompletionRequest request;
    std::string id = random_id("chatcmpl-");
    int64_t created = static_cast<int64_t>(std::time(nullptr));
    std::string model_name;
    std::string fingerprint;
    int num_prompt_tokens = 0;
    int num_cached_tokens = 0;
    std::vector<ChatChoice> choices;
    std::unique_ptr<GenerationPump> pump;

    ChatSession(ServerState& s, std::shared_ptr<const ServingModel> m)
        : state(s), model(std::move(m)), active(s) {}

    nlohmann::json delta_json(const ChatDelta& d) const {
        nlohmann::json j = nlohmann::json::object();
        if (!d.reasoning.empty() && request.include_reasoning) {
            j["reasoning_content"] = d.reasoning;  // older clients' name
            j["reasoning"] = d.reasoning;          // newer clients' name
        }
        if (!d.content.empty()) j["content"] = d.content;
        if (!d.tool_calls.empty()) {
            nlohmann::json calls = nlohmann::json::array();
            for (const auto& call : d.tool_calls) {
                nlohmann::json c = {{"index", call.index}};
                nlohmann::json function = {{"arguments", call.arguments}};
                if (call.id) c["id"] = *call.id, c["type"] = "function";
                if (call.name) function["name"] = *call.name;
                c["function"] = std::move(function);
                calls.push_back(std::move(c));
            }
            j["tool_calls"] = std::move(calls);
        }
        return j;
    }

    nlohmann::json chunk(int index, nlohmann::json delta, const nlohmann::json& logprobs,
                         const std::optional<std::string>& finish_reason) const {
        nlohmann::json choice = {{"index", index},
                                 {"delta", std::move(delta)},
                                 {"logprobs", logprobs},
                                 {"finish_reason", nullptr}};
        if (finish_reason) choice["finish_reason"] = *finish_reason;
        nlohmann::json c = {{"id", id},
                            {"object", "chat.completion.chunk"},
                            {"created", created},
                            {"model", model_name},
                            {"system_fingerprint", fingerprint},
                            {"choices", nlohmann::json::array({choice})}};
        if (request.params.include_usage) c["usage"] = nullptr;
        return c;
    }

    nlohmann::json usage() const {
        int completion = 0, reasoning = 0;
        for (const auto& c : choices) {
            completion += c.num_output_tokens;
            reasoning += c.assembler.num_reasoning_tokens();
        }
        return {{"prompt_tokens", num_prompt_tokens},
                {"completion_tokens", completion},
                {"total_tokens", num_prompt_tokens + completion},
                {"prompt_tokens_details", {{"cached_tokens", num_cached_tokens}}},
                {"completion_tokens_details", {{"reasoning_tokens", reasoning}}}};
    }

    // Feeds one engine event to its choice; emit(delta, logprobs) is called for every non-empty delta.
    void consume(ChoiceEvent& e, const std::function<void(int, const ChatDelta&, nlohmann::json)>& emit) {
        ChatChoice& c = choices[e.choice];
        const TokenEvent& event = e.event;
        if (e.choice == 0) num_cached_tokens = std::max(num_cached_tokens, event.num_cached_tokens);
        c.num_output_tokens = std::max(c.num_output_tokens, event.num_output_tokens);
        const Tokenizer& tokenizer = *model->tokenizer;
        // A token's logprob goes with the delta it completes when that delta carries content (the OpenAI
        // logprobs cover the message content). Tokens that produce nothing yet (part of a UTF-8 character)
        // wait for the next delta; a special token ends a message or header, so what waits is dropped then.
        auto add_logprob = [&](size_t k) {
            if (request.logprobs && k < event.logprobs.size() && !tokenizer.is_special(event.token_ids[k])) {
                c.pending_logprobs.push_back(token_logprob_json(tokenizer, event.logprobs[k]));
            }
        };
        auto emit_delta = [&](const ChatDelta& delta) {
            if (delta.empty()) return;
            nlohmann::json logprobs = nullptr;
            if (request.logprobs) {
                if (!delta.content.empty()) logprobs = {{"content", std::move(c.pending_logprobs)}};
                c.pending_logprobs.clear();
            }
            emit(e.choice, delta, std::move(logprobs));
        };
        if (!event.finished) {
            for (size_t k = 0; k < event.token_ids.size(); ++k) {
                ChatDelta delta = c.assembler.push(event.token_ids[k]);
                add_logprob(k);
                emit_delta(delta);
                if (tokenizer.is_special(event.token_ids[k])) c.pending_logprobs.clear();
            }
            return;
        }
        // The last event in one piece, with the end of generation folded in, so that the bytes of a matched
        // stop string never reach the client.
        for (size_t k = 0; k < event.token_ids.size(); ++k) add_logprob(k);
        emit_delta(c.assembler.push_event(event));
        if (event.finish_reason == FinishReason::kAbort || event.finish_reason == FinishReason::kError) {
            c.finish_reason = finish_reason_text(event.finish_reason);
        } else {
            c.finish_reason = c.assembler.finish_reason(event.finish_reason);
        }
        if (event.stop_token) c.stop_reason = *event.stop_token;
        if (event.stop_string) c.stop_reason = *event.stop_string;
        if (event.finish_reason == FinishReason::kError) {
            spdlog::error("generation failed id={} choice={} error={}", pump->context().request_id, e.choice,
                          event.error);
        }
        pump->set_finish_label(e.choice, finish_label_from_text(c.finish_reason));
    }

    nlohmann::json collect() {
        std::string error;
        while (!pump->finished()) {
            for (auto& e : pump->poll(std::chrono::milliseconds(250))) {
                if (e.event.finish_reason == FinishReason::kError) error = e.event.error;
                consume(e, [&](int index, const ChatDelta& delta, nlohmann::json logprobs) {
                    if (request.logprobs && !delta.content.empty() && logprobs.is_object()) {
                        for (auto& entry : logprobs["content"])
                            choices[index].content_logprobs.push_back(entry);
                    }
                });
            }
        }
        if (!error.empty()) throw api_errors::internal(error);
        nlohmann::json out_choices = nlohmann::json::array();
        for (size_t i = 0; i < choices.size(); ++i) {
            ChatChoice& c = choices[i];
            nlohmann::json choice = {
                {"index", i},
                {"message", c.assembler.message(request.include_reasoning)},
                {"logprobs", nullptr},
                {"finish_reason", c.finish_reason},
                {"stop_reason", c.stop_reason ? *c.stop_reason : nlohmann::json(nullptr)}};
            if (request.logprobs) choice["logprobs"] = {{"content", c.content_logprobs}};
            out_choices.push_back(std::move(choice));
        }
        return {{"id", id},
                {"object", "chat.completion"},
                {"created", created},
                {"model", model_name},
                {"system_fingerprint", fingerprint},
                {"choices", std::move(out_choices)},
                {"usage", usage()}};
    }

    void stream(SseWriter& sse) {
        for (size_t i = 0; i < choices.size() && sse.ok(); ++i) {
            sse.send(
                chunk(static_cast<int>(i), {{"role", "assistant"}, {"content", ""}}, nullptr, std::nullopt));
        }
        bool connected =
            sse.ok() && pump_events(*pump, sse, state.options().keep_alive_interval, [&](ChoiceEvent& e) {
                if (e.event.finish_reason == FinishReason::kError) {
                    sse.send(api_errors::internal(e.event.error).to_json());
                }
                consume(e, [&](int index, const ChatDelta& delta, nlohmann::json logprobs) {
                    nlohmann::json d = delta_json(delta);
                    if (!d.empty()) sse.send(chunk(index, std::move(d), logprobs, std::nullopt));
                });
                if (e.event.finished) {
                    sse.send(
                        chunk(e.choice, nlohmann::json::object(), nullptr, choices[e.choice].finish_reason));
                }
            });
        if (!connected) {
            pump->set_client_gone();
            return;
        }
        if (request.params.include_usage) {
            sse.send({{"id", id},
                      {"object", "chat.completion.chunk"},
                      {"created", created},
                      {"model", model_name},
                      {"system_fingerprint", fingerprint},
                      {"choices", nlohmann::json::array()},
                      {"usage", usage()}});
        }
        sse.send_done();
    }
};

}  // namespace

void handle_chat_completions(ServerState& state, const RequestContext& context, const nlohmann::json& body,
                             httplib::Response& res) {
    auto session = std::make_shared<ChatSession>(state, nullptr);
    session->request = parse_chat_completion_request(body);
    ChatCompletionRequest& request = session->request;
    state.check_model_name(request.params.model);
    session->model = state.generation_model();
    const ServingModel& model = *session->model;
    check_vocabulary_ids(request.params, *model.tokenizer);

    ChatPrompt prompt = render_chat_prompt(state, context, *model.tokenizer);
    const auto constraint = make_structured_constraint(
        chat_structured_output_request(body, prompt.tool_calls_allowed), model.vocabulary,
        {"response_format.json_schema.schema", "tools[{}].function.parameters"});
    int num_prompt_tokens = static_cast<int>(prompt.token_ids.size());
    int max_tokens =
        resolve_max_tokens(num_prompt_tokens, request.params, model.engine->max_model_len(), 0, "messages");

    session->model_name = request.params.model.empty() ? state.served_model_name() : request.params.model;
    session->fingerprint = state.system_fingerprint();
    session->num_prompt_tokens = num_prompt_tokens;
    std::vector<Request> engine_requests;
    session->choices.reserve(request.params.n);
    for (int i = 0; i < request.params.n; ++i) {
        Request r;
        r.prompt_token_ids = prompt.token_ids;
        r.sampling =
            make_sampling_params(request.params, model.generation_config, choice_seed(request.params, i),
                                 request.logprobs, request.top_logprobs);
        r.sampling.constraint = constraint;
        r.stop.max_tokens = max_tokens;
        r.stop.stop_token_ids = prompt.stop_token_ids;
        for (int32_t id : request.params.stop_token_ids) r.stop.stop_token_ids.push_back(id);
        r.stop.stop_strings = request.params.stop;
        engine_requests.push_back(std::move(r));
        session->choices.push_back({ChatOutputAssembler(model.tokenizer, prompt)});
    }
    session->pump = std::make_unique<GenerationPump>(state, session->model, context, "chat");
    session->pump->set_user(request.params.user);
    session->pump->submit(std::move(engine_requests));

    if (!request.params.stream) {
        set_json(res, session->collect());
        return;
    }
    start_event_stream(res, [session](SseWriter& sse) { session->stream(sse); });
}

}  // namespace gptoss
