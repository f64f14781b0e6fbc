// Helpers the chat and completion routes share: ids, seeds, length checks, logprobs, SSE plumbing.
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/errors.h"
#include "server/routes.h"
#include "tokenizer/tokenizer.h"

namespace gptoss {

namespace {

uint64_t random_u64() {
    thread_local std::mt19937_64 rng(std::random_device{}());
    return rng();
}

nlohmann::json byte_array(std::string_view bytes) {
    nlohmann::json out = nlohmann::json::array();
    for (unsigned char c : bytes) out.push_back(static_cast<int>(c));
    return out;
}

}  // namespace

GenerationHandler generation_handler(std::string_view path) {
    if (path == "/v1/chat/completions") return handle_chat_completions;
    if (path == "/v1/completions") return handle_completions;
    if (path == "/v1/responses") return handle_responses;
    return nullptr;
}

void set_json(httplib::Response& res, const nlohmann::json& body, int status) {
    res.status = status;
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

std::string random_id(const std::string& prefix) {
    return fmt::format("{}{:016x}{:016x}", prefix, random_u64(), random_u64());
}

uint64_t choice_seed(const GenerationParams& params, int choice) {
    return params.seed ? *params.seed + static_cast<uint64_t>(choice) : random_u64();
}

int resolve_max_tokens(int num_prompt_tokens, const GenerationParams& params, int max_model_len,
                       int default_max_tokens, const std::string& prompt_param) {
    if (num_prompt_tokens >= max_model_len) {
        throw api_errors::invalid_request(
            fmt::format("This model's maximum context length is {} tokens, but the prompt has {} tokens. "
                        "Shorten the prompt.",
                        max_model_len, num_prompt_tokens),
            prompt_param, "context_length_exceeded");
    }
    int room = max_model_len - num_prompt_tokens;
    if (!params.max_tokens) return default_max_tokens > 0 ? std::min(default_max_tokens, room) : room;
    if (*params.max_tokens > room) {
        throw api_errors::invalid_request(
            fmt::format("This model's maximum context length is {} tokens. However, you requested {} tokens "
                        "({} in the prompt, {} for the completion). Reduce the prompt or '{}'.",
                        max_model_len, static_cast<int64_t>(num_prompt_tokens) + *params.max_tokens,
                        num_prompt_tokens, *params.max_tokens, params.max_tokens_param),
            params.max_tokens_param, "context_length_exceeded");
    }
    return *params.max_tokens;
}

void check_vocabulary_ids(const GenerationParams& params, const Tokenizer& tokenizer) {
    for (const auto& [id, bias] : params.logit_bias) {
        if (!tokenizer.is_valid(id)) {
            throw api_errors::invalid_request(
                fmt::format("Invalid 'logit_bias': token id {} is outside the vocabulary (0..{}).", id,
                            tokenizer.vocab_size() - 1),
                "logit_bias");
        }
    }
    for (int32_t id : params.stop_token_ids) {
        if (!tokenizer.is_valid(id)) {
            throw api_errors::invalid_request(
                fmt::format("Invalid 'stop_token_ids': token id {} is outside the vocabulary (0..{}).", id,
                            tokenizer.vocab_size() - 1),
                "stop_token_ids");
        }
    }
}

nlohmann::ordered_json ordered_body(const RequestContext& context) {
    // Already parsed (and depth-checked) once as nlohmann::json, so this cannot fail.
    return nlohmann::ordered_json::parse(context.body_text);
}

ChatPrompt render_chat_prompt(ServerState& state, const RequestContext& context, const Tokenizer& tokenizer) {
    return render_chat_body(state, context, ordered_body(context), tokenizer);
}

ChatPrompt render_chat_body(ServerState& state, const RequestContext& context,
                            const nlohmann::ordered_json& body, const Tokenizer& tokenizer) {
    try {
        return build_chat_prompt(body, tokenizer, state.chat_mapping_options());
    } catch (const ChatRequestError& e) {
        throw api_errors::invalid_request(e.what(),
                                          e.param().empty() ? std::nullopt : std::optional(e.param()));
    } catch (const nlohmann::json::exception& e) {
        // A body shape the mapping did not expect: the client's mistake, though the mapping should have named
        // the field; logged so that it gets a proper message.
        spdlog::warn("chat mapping failed on a body without naming the field id={} error={}",
                     context.request_id, e.what());
        throw api_errors::invalid_request(
            fmt::format("The request could not be mapped to the chat format: {}", e.what()));
    }
}

std::string token_text(const Tokenizer& tokenizer, int32_t id) {
    if (!tokenizer.is_valid(id)) return {};
    return std::string(tokenizer.token_to_bytes(id));
}

nlohmann::json token_logprob_json(const Tokenizer& tokenizer, const TokenLogprob& logprob) {
    auto entry = [&](int32_t id, float lp) {
        std::string text = token_text(tokenizer, id);
        return nlohmann::json{{"token", text}, {"logprob", lp}, {"bytes", byte_array(text)}};
    };
    nlohmann::json out = entry(logprob.token, logprob.logprob);
    nlohmann::json top = nlohmann::json::array();
    for (const auto& t : logprob.top) top.push_back(entry(t.token, t.logprob));
    out["top_logprobs"] = std::move(top);
    return out;
}

void start_event_stream(httplib::Response& res, std::function<void(SseWriter&)> run) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    auto shared_run = std::make_shared<std::function<void(SseWriter&)>>(std::move(run));
    res.set_chunked_content_provider("text/event-stream", [shared_run](size_t, httplib::DataSink& sink) {
        SseWriter sse([&sink](std::string_view bytes) { return sink.write(bytes.data(), bytes.size()); });
        (*shared_run)(sse);
        if (sse.ok()) sink.done();
        return sse.ok();
    });
}

bool pump_events(GenerationPump& pump, SseWriter& sse, std::chrono::milliseconds keep_alive,
                 const std::function<void(ChoiceEvent&)>& on_event) {
    using Clock = std::chrono::steady_clock;
    auto last_write = Clock::now();
    auto poll_timeout = std::min(keep_alive, std::chrono::milliseconds(250));
    while (!pump.finished()) {
        auto events = pump.poll(poll_timeout);
        size_t written = sse.num_events();
        for (auto& event : events) {
            on_event(event);
            if (!sse.ok()) break;
        }
        if (sse.ok() && sse.num_events() != written) last_write = Clock::now();
        if (sse.ok() && events.empty() && Clock::now() - last_write >= keep_alive) {
            sse.send_keep_alive();
            last_write = Clock::now();
        }
        if (!sse.ok()) {
            pump.set_client_gone();
            pump.abort();
            return false;
        }
    }
    return true;
}

}  // namespace gptoss
