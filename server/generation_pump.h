// GenerationPump: the engine requests behind one HTTP request (n choices, or prompts x n), read as one
// stream of events. Records latency metrics per choice and writes the request's log line when it ends.
//
// Owned by a handler (non-streaming) or by its SSE provider (streaming); destroying it aborts choices that
// have not finished (the client went away) and waits briefly for the engine to confirm, so their KV pages
// are free by the time the connection is closed.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/request.h"
#include "server/metrics.h"
#include "server/server_state.h"

namespace gptoss {

class TokenStream;

struct ChoiceEvent {
    int choice = 0;
    TokenEvent event;
};

class GenerationPump {
public:
    GenerationPump(ServerState& state, std::shared_ptr<const ServingModel> model, RequestContext context,
                   std::string endpoint);
    ~GenerationPump();
    GenerationPump(const GenerationPump&) = delete;
    GenerationPump& operator=(const GenerationPump&) = delete;

    // Submits one engine request per choice (choice i = requests[i]); fills in their ids. Throws ApiError
    // (from EngineError) after aborting the ones already queued.
    void submit(std::vector<Request> requests);
    // Events of any choice, waiting up to `timeout` when none is ready (empty on timeout).
    std::vector<ChoiceEvent> poll(std::chrono::milliseconds timeout);
    bool finished() const { return num_finished_ == static_cast<int>(choices_.size()); }
    int num_choices() const { return static_cast<int>(choices_.size()); }
    // Aborts the unfinished choices (client disconnected or drain timeout).
    void abort();
    // The final finish reason of a choice, as the response reports it; counted in the metrics and logged.
    void set_finish_label(int choice, FinishLabel label);
    void set_client_gone() { client_gone_ = true; }
    // The request's `user` field, logged with the request (OpenAI's abuse-tracking id).
    // Only its first kMaxLoggedUserBytes are kept, so a client cannot make log lines arbitrarily long.
    void set_user(std::string user);

    const RequestContext& context() const { return context_; }
    // The engine ids of the submitted choices (Engine::abort takes them from another thread).
    std::vector<RequestId> request_ids() const;

private:
    struct Choice {
        RequestId id = 0;
        std::shared_ptr<TokenStream> stream;
        bool finished = false;
        int num_prompt_tokens = 0, num_cached_tokens = 0, num_output_tokens = 0;
        std::chrono::steady_clock::time_point last_token;
        bool has_token = false;
        std::optional<FinishLabel> label;
    };
    void observe(Choice& choice, const TokenEvent& event);
    void log_summary() const;

    ServerState& state_;
    std::shared_ptr<const ServingModel> model_;
    RequestContext context_;
    std::string endpoint_;
    std::vector<Choice> choices_;
    int num_finished_ = 0;
    size_t next_poll_ = 0;  // round-robin start, so one busy choice cannot starve the others
    double ttft_seconds_ = -1.0;
    bool client_gone_ = false;
    std::string user_;
};

// FinishReason -> OpenAI's finish_reason text ("stop", "length", "abort", "error").
std::string finish_reason_text(FinishReason reason);
FinishLabel finish_label_from_text(const std::string& text);

}  // namespace gptoss
