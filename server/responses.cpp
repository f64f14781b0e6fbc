// POST /v1/responses: the Responses request is translated into a chat body (responses_mapping) and
// rendered by the chat mapping; one engine request; its tokens through a ResponseOutputAssembler into
// output items, returned whole or streamed as the Responses event sequence. GET / DELETE /v1/responses/{id}
// and POST /v1/responses/{id}/cancel read the ResponseStore.
//
// Streamed event order (each with a sequence_number from 0):
//   response.created, response.in_progress,
//   per item: response.output_item.added, [response.content_part.added], the item's deltas
//     (response.reasoning_text.delta | response.output_text.delta | response.function_call_arguments.delta),
//     their .done, [response.content_part.done], response.output_item.done,
//   then response.completed | response.incomplete (max_output_tokens, or cancelled) | error +
//   response.failed.
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/engine.h"
#include "server/errors.h"
#include "server/response_output_assembler.h"
#include "server/responses_mapping.h"
#include "server/routes.h"
#include "server/structured_output.h"
#include "tokenizer/tokenizer.h"

namespace gptoss {

namespace {

using Json = nlohmann::json;
using Item = ResponseOutputItem;
using Emit = std::function<void(const char* type, Json payload)>;

ApiError response_not_found(const std::string& id, const std::optional<std::string>& param = std::nullopt) {
    return ApiError(404, "invalid_request_error", fmt::format("Response with id '{}' not found.", id), param);
}

// Everything one Responses request needs until its last byte is written.
struct ResponseSession {
    ServerState& state;
    std::shared_ptr<const ServingModel> model;
    ServerState::ActiveGuard active;
    ResponsesRequest request;
    std::string id = random_id("resp_");
    int64_t created_at = static_cast<int64_t>(std::time(nullptr));
    std::string model_name;
    std::string reasoning_effort;
    double temperature = 1.0, top_p = 1.0;
    std::vector<nlohmann::ordered_json> conversation;  // history + input, what the prompt rendered
    std::optional<ResponseOutputAssembler> assembler;
    int num_prompt_tokens = 0, num_cached_tokens = 0, num_output_tokens = 0;
    std::string status = "in_progress";
    Json incomplete_details = nullptr;
    Json error = nullptr;
    std::unique_ptr<GenerationPump> pump;
    int64_t sequence_number = 0;

    ResponseSession(ServerState& s, std::shared_ptr<const ServingModel> m)
        : state(s), model(std::move(m)), active(s) {}
    ~ResponseSession() { state.responses().end_generation(id); }

    std::string item_status(const Item& item) const {
        if (status == "in_progress") return item.complete ? "completed" : "in_progress";
        return item.complete ? "completed" : "incomplete";
    }

    Json response_json() const {
        Json output = Json::array();
        for (const Item& item : assembler->items()) {
            output.push_back(response_item_json(item, item_status(item), request.encrypted_reasoning));
        }
        Json usage = nullptr;
        if (status != "in_progress") {
            usage = {{"input_tokens", num_prompt_tokens},
                     {"input_tokens_details", {{"cached_tokens", num_cached_tokens}}},
                     {"output_tokens", num_output_tokens},
                     {"output_tokens_details", {{"reasoning_tokens", assembler->num_reasoning_tokens()}}},
                     {"total_tokens", num_prompt_tokens + num_output_tokens}};
        }
        auto optional = [](const auto& v) { return v ? Json(*v) : Json(nullptr); };
        return {{"id", id},
                {"object", "response"},
                {"created_at", created_at},
                {"status", status},
                {"background", false},
                {"error", error},
                {"incomplete_details", incomplete_details},
                {"instructions", optional(request.instructions)},
                {"max_output_tokens", optional(request.params.max_tokens)},
                {"max_tool_calls", nullptr},
                {"model", model_name},
                {"output", std::move(output)},
                {"parallel_tool_calls", request.parallel_tool_calls},
                {"previous_response_id", optional(request.previous_response_id)},
                {"reasoning", {{"effort", reasoning_effort}, {"summary", nullptr}}},
                {"service_tier", "default"},
                {"store", request.store},
                {"temperature", temperature},
                {"text", Json(request.text)},
                {"tool_choice", Json(request.tool_choice)},
                {"tools", Json(request.tools)},
                {"top_p", top_p},
                {"truncation", request.truncation_auto ? "auto" : "disabled"},
                {"usage", std::move(usage)},
                {"user", request.params.user.empty() ? Json(nullptr) : Json(request.params.user)},
                {"metadata", Json(request.metadata)}};
    }

    void item_event(const ResponseOutputEvent& e, const Emit& emit) const {
        const Item& item = assembler->items()[e.output_index];
        const size_t index = e.output_index;
        const bool call = item.type == Item::Type::kFunctionCall;
        const bool reasoning = item.type == Item::Type::kReasoning;
        Json where = {{"item_id", item.id}, {"output_index", index}};
        if (!call) where["content_index"] = 0;
        auto with = [&](std::initializer_list<std::pair<const char*, Json>> fields) {
            Json j = where;
            for (const auto& [key, value] : fields) j[key] = value;
            return j;
        };
        switch (e.kind) {
            case ResponseOutputEvent::Kind::kItemAdded: {
                emit("response.output_item.added",
                     {{"output_index", index},
                      {"item", response_item_json(item, "in_progress", request.encrypted_reasoning)}});
                if (call) return;
                Item empty = item;
                empty.text.clear();
                emit("response.content_part.added", with({{"part", response_content_part_json(empty)}}));
                return;
            }
            case ResponseOutputEvent::Kind::kDelta:
                if (call) {
                    emit("response.function_call_arguments.delta", with({{"delta", e.delta}}));
                } else if (reasoning) {
                    emit("response.reasoning_text.delta", with({{"delta", e.delta}}));
                } else {
                    emit("response.output_text.delta",
                         with({{"delta", e.delta}, {"logprobs", Json::array()}}));
                }
                return;
            case ResponseOutputEvent::Kind::kItemDone:
                if (call) {
                    emit("response.function_call_arguments.done",
                         with({{"name", item.name}, {"arguments", item.text}}));
                } else {
                    if (reasoning) {
                        emit("response.reasoning_text.done", with({{"text", item.text}}));
                    } else {
                        emit("response.output_text.done",
                             with({{"text", item.text}, {"logprobs", Json::array()}}));
                    }
                    emit("response.content_part.done", with({{"part", response_content_part_json(item)}}));
                }
                emit("response.output_item.done",
                     {{"output_index", index},
                      {"item", response_item_json(item, item.complete ? "completed" : "incomplete",
                                                  request.encrypted_reasoning)}});
                return;
        }
    }

    void consume(const TokenEvent& event, const Emit& emit) {
        num_cached_tokens = std::max(num_cached_tokens, event.num_cached_tokens);
        num_output_tokens = std::max(num_output_tokens, event.num_output_tokens);
        for (int32_t token : event.token_ids) {
            for (const auto& e : assembler->push(token)) item_event(e, emit);
        }
        if (!event.finished) return;
        for (const auto& e : assembler->finish()) item_event(e, emit);
        FinishLabel label = assembler->has_function_call() ? FinishLabel::kToolCalls : FinishLabel::kStop;
        switch (event.finish_reason) {
            case FinishReason::kError:
                status = "failed";
                error = {{"code", "server_error"}, {"message", event.error}};
                label = FinishLabel::kError;
                spdlog::error("generation failed id={} response={} error={}", pump->context().request_id, id,
                              event.error);
                break;
            case FinishReason::kAbort:
                status = "cancelled";
                label = FinishLabel::kAbort;
                break;
            case FinishReason::kLength:
                status = "incomplete";
                incomplete_details = {{"reason", "max_output_tokens"}};
                label = FinishLabel::kLength;
                break;
            default:
                status = "completed";
        }
        for (const auto& warning : assembler->warnings()) {
            spdlog::warn("model output repaired id={} response={}: {}", pump->context().request_id, id,
                         warning);
        }
        pump->set_finish_label(0, label);
        keep();
    }

    // Stores the response (store: true) with the conversation a continuation starts from.
    void keep() const {
        if (!request.store) return;
        StoredResponse stored{response_json(), conversation};
        if (status != "in_progress") {
            for (const Item& item : assembler->items()) {
                stored.conversation.push_back(normalize_input_item(
                    nlohmann::ordered_json(response_item_json(item, item_status(item), false)), "output"));
            }
        }
        state.responses().put(id, std::move(stored));
    }

    Json collect() {
        while (!pump->finished()) {
            for (auto& e : pump->poll(std::chrono::milliseconds(250)))
                consume(e.event, [](const char*, Json) {});
        }
        if (status == "failed") throw api_errors::internal(error["message"].get<std::string>());
        return response_json();
    }

    void stream(SseWriter& sse) {
        Emit emit = [&](const char* type, Json payload) {
            payload["type"] = type;
            payload["sequence_number"] = sequence_number++;
            sse.send_event(type, payload);
        };
        emit("response.created", {{"response", response_json()}});
        emit("response.in_progress", {{"response", response_json()}});
        bool connected = sse.ok() && pump_events(*pump, sse, state.options().keep_alive_interval,
                                                 [&](ChoiceEvent& e) { consume(e.event, emit); });
        if (!connected) {
            pump->set_client_gone();
            return;
        }
        if (status == "failed") {
            emit("error", {{"code", "server_error"}, {"message", error["message"]}, {"param", nullptr}});
            emit("response.failed", {{"response", response_json()}});
        } else if (status == "completed") {
            emit("response.completed", {{"response", response_json()}});
        } else {
            emit("response.incomplete", {{"response", response_json()}});
        }
    }
};

// The prompt for the session's conversation; truncation "auto" drops the oldest turns until it fits.
ChatPrompt render_prompt(ResponseSession& session, const RequestContext& context) {
    const Tokenizer& tokenizer = *session.model->tokenizer;
    const int max_model_len = session.model->engine->max_model_len();
    const int room_needed = session.request.params.max_tokens.value_or(1);
    for (;;) {
        ChatPrompt prompt =
            render_chat_body(session.state, context,
                             chat_body_for_responses(session.request, session.conversation), tokenizer);
        const bool fits = static_cast<int64_t>(prompt.token_ids.size()) + room_needed <= max_model_len;
        if (fits || !session.request.truncation_auto || !drop_oldest_turn(session.conversation))
            return prompt;
    }
}

}  // namespace

void handle_responses(ServerState& state, const RequestContext& context, const nlohmann::json&,
                      httplib::Response& res) {
    auto session = std::make_shared<ResponseSession>(state, nullptr);
    session->request = parse_responses_request(ordered_body(context));
    ResponsesRequest& request = session->request;
    state.check_model_name(request.params.model);
    session->model = state.generation_model();
    const ServingModel& model = *session->model;

    if (request.previous_response_id) {
        auto previous = state.responses().get(*request.previous_response_id);
        if (!previous) {
            throw ApiError(
                404, "invalid_request_error",
                fmt::format("Previous response with id '{}' not found.", *request.previous_response_id),
                "previous_response_id");
        }
        session->conversation = previous->conversation;
    }
    session->conversation.insert(session->conversation.end(), request.input.begin(), request.input.end());
    ChatPrompt prompt = render_prompt(*session, context);
    session->num_prompt_tokens = static_cast<int>(prompt.token_ids.size());
    const int max_tokens = resolve_max_tokens(session->num_prompt_tokens, request.params,
                                              model.engine->max_model_len(), 0, "input");

    session->model_name = request.params.model.empty() ? state.served_model_name() : request.params.model;
    session->reasoning_effort = request.reasoning_effort.value_or(state.options().default_reasoning_effort);
    Request r;
    r.prompt_token_ids = prompt.token_ids;
    r.sampling = make_sampling_params(request.params, model.generation_config, choice_seed(request.params, 0),
                                      false, 0);
    r.sampling.constraint = make_structured_constraint(
        chat_structured_output_request(chat_body_for_responses(request, session->conversation),
                                       prompt.tool_calls_allowed),
        model.vocabulary, {"text.format.schema", "tools[{}].parameters"});
    session->temperature = r.sampling.temperature;
    session->top_p = r.sampling.top_p;
    r.stop.max_tokens = max_tokens;
    r.stop.stop_token_ids = prompt.stop_token_ids;
    session->assembler.emplace(model.tokenizer, prompt);
    session->pump = std::make_unique<GenerationPump>(state, session->model, context, "responses");
    session->pump->set_user(request.params.user);
    std::vector<Request> requests;
    requests.push_back(std::move(r));
    session->pump->submit(std::move(requests));

    // Cancel aborts the engine request; the session sees FinishReason::kAbort and reports "cancelled".
    std::weak_ptr<Engine> engine = model.engine;
    state.responses().begin_generation(session->id, [engine, ids = session->pump->request_ids()] {
        if (auto e = engine.lock()) {
            for (RequestId rid : ids) e->abort(rid);
        }
    });
    session->keep();  // GET answers "in_progress" while it generates

    if (!request.params.stream) {
        set_json(res, session->collect());
        return;
    }
    start_event_stream(res, [session](SseWriter& sse) { session->stream(sse); });
}

void handle_get_response(ServerState& state, const std::string& id, httplib::Response& res) {
    auto stored = state.responses().get(id);
    if (!stored) throw response_not_found(id);
    set_json(res, stored->response);
}

void handle_delete_response(ServerState& state, const std::string& id, httplib::Response& res) {
    if (!state.responses().erase(id)) throw response_not_found(id);
    set_json(res, {{"id", id}, {"object", "response.deleted"}, {"deleted", true}});
}

void handle_cancel_response(ServerState& state, const std::string& id, httplib::Response& res) {
    if (!state.responses().cancel(id)) {
        if (state.responses().get(id)) {
            throw api_errors::invalid_request(
                fmt::format("Response with id '{}' is not in progress and cannot be cancelled.", id));
        }
        throw response_not_found(id);
    }
    auto stored = state.responses().get(id);
    Json body = stored ? stored->response : Json{{"id", id}, {"object", "response"}};
    body["status"] = "cancelled";
    set_json(res, body);
}

}  // namespace gptoss
