#include "server/generation_pump.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/engine.h"
#include "server/errors.h"

namespace gptoss {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// How long to wait for aborted choices to be confirmed by the engine (it applies aborts at its next step).
constexpr std::chrono::milliseconds kAbortConfirmTimeout{5000};

}  // namespace

std::string finish_reason_text(FinishReason reason) {
    switch (reason) {
        case FinishReason::kStop:
            return "stop";
        case FinishReason::kLength:
            return "length";
        case FinishReason::kAbort:
            return "abort";
        case FinishReason::kError:
            return "error";
        case FinishReason::kNone:
            break;
    }
    return "stop";
}

FinishLabel finish_label_from_text(const std::string& text) {
    if (text == "stop") return FinishLabel::kStop;
    if (text == "length") return FinishLabel::kLength;
    if (text == "tool_calls") return FinishLabel::kToolCalls;
    if (text == "abort") return FinishLabel::kAbort;
    return FinishLabel::kError;
}

GenerationPump::GenerationPump(ServerState& state, std::shared_ptr<const ServingModel> model,
                               RequestContext context, std::string endpoint)
    : state_(state), model_(std::move(model)), context_(std::move(context)), endpoint_(std::move(endpoint)) {}

GenerationPump::~GenerationPump() {
    if (!finished()) {
        client_gone_ = true;
        abort();
        auto deadline = Clock::now() + kAbortConfirmTimeout;
        while (!finished() && Clock::now() < deadline) poll(std::chrono::milliseconds(20));
    }
    for (const auto& c : choices_) state_.untrack(c.id);
    for (size_t i = 0; i < choices_.size(); ++i) {
        if (!choices_[i].label) state_.metrics().count_finished(FinishLabel::kAbort);
    }
    log_summary();
}

void GenerationPump::submit(std::vector<Request> requests) {
    // More choices than the engine can ever hold at once (running plus queued) would be refused as
    // overloaded however long the client waited: that is the request's fault, not the load's.
    const EngineConfig& engine = model_->engine->config();
    int max_choices = engine.max_num_seqs + engine.max_queued_requests;
    if (static_cast<int>(requests.size()) > max_choices) {
        throw api_errors::invalid_request(
            fmt::format(
                "This request asks for {} choices (prompts x n); the server holds at most {} sequences "
                "(--max-num-seqs + --max-queued-requests).",
                requests.size(), max_choices),
            "n");
    }
    choices_.reserve(requests.size());
    for (auto& request : requests) {
        request.id = state_.next_request_id();
        request.priority = context_.priority;
        Choice choice;
        choice.id = request.id;
        state_.track(request.id);
        try {
            choice.stream = model_->engine->submit(std::move(request));
        } catch (const EngineError& e) {
            state_.untrack(choice.id);
            abort();
            throw api_errors::from_engine_error(e);
        }
        choices_.push_back(std::move(choice));
    }
}

std::vector<RequestId> GenerationPump::request_ids() const {
    std::vector<RequestId> ids;
    for (const auto& c : choices_) ids.push_back(c.id);
    return ids;
}

void GenerationPump::observe(Choice& choice, const TokenEvent& event) {
    auto now = Clock::now();
    if (!event.token_ids.empty()) {
        if (!choice.has_token) {
            double ttft = seconds_between(context_.arrival, now);
            state_.metrics().time_to_first_token.observe(ttft);
            if (ttft_seconds_ < 0) ttft_seconds_ = ttft;
        } else {
            state_.metrics().inter_token_latency.observe(seconds_between(choice.last_token, now));
        }
        choice.has_token = true;
        choice.last_token = now;
    }
    choice.num_prompt_tokens = std::max(choice.num_prompt_tokens, event.num_prompt_tokens);
    choice.num_cached_tokens = std::max(choice.num_cached_tokens, event.num_cached_tokens);
    choice.num_output_tokens = std::max(choice.num_output_tokens, event.num_output_tokens);
    if (event.finished && !choice.finished) {
        choice.finished = true;
        ++num_finished_;
        state_.metrics().e2e_request_latency.observe(seconds_between(context_.arrival, now));
    }
}

std::vector<ChoiceEvent> GenerationPump::poll(std::chrono::milliseconds timeout) {
    std::vector<ChoiceEvent> out;
    // A non-streaming response learns of a gone client only here (a stream also when its write fails); the
    // engine applies the abort at its next step, so the sequences' KV blocks are freed for others.
    if (!client_gone_ && context_.client_gone && context_.client_gone->load()) {
        client_gone_ = true;
        abort();
    }
    auto collect = [&](size_t i, std::chrono::milliseconds wait) {
        Choice& c = choices_[i];
        if (c.finished) return;
        for (auto& event : c.stream->wait(wait)) {
            observe(c, event);
            out.push_back({static_cast<int>(i), std::move(event)});
        }
    };
    size_t n = choices_.size();
    if (n == 0) return out;
    if (n == 1) {
        collect(0, timeout);
        return out;
    }
    // Several choices: take whatever is ready, else wait on each in turn for a slice of the timeout.
    for (size_t k = 0; k < n; ++k) collect((next_poll_ + k) % n, std::chrono::milliseconds(0));
    if (out.empty()) {
        auto slice = std::clamp(timeout / static_cast<int>(n), std::chrono::milliseconds(1),
                                std::chrono::milliseconds(10));
        auto deadline = Clock::now() + timeout;
        while (out.empty() && !finished() && Clock::now() < deadline) {
            for (size_t k = 0; k < n && out.empty(); ++k) collect((next_poll_ + k) % n, slice);
        }
    }
    next_poll_ = (next_poll_ + 1) % n;
    return out;
}

void GenerationPump::set_user(std::string user) {
    constexpr size_t kMaxLoggedUserBytes = 256;
    if (user.size() > kMaxLoggedUserBytes) {
        user.resize(kMaxLoggedUserBytes);
        user += "...";
    }
    user_ = std::move(user);
}

void GenerationPump::abort() {
    for (const auto& c : choices_) {
        if (!c.finished) model_->engine->abort(c.id);
    }
}

void GenerationPump::set_finish_label(int choice, FinishLabel label) {
    Choice& c = choices_.at(choice);
    if (c.label) return;
    c.label = label;
    state_.metrics().count_finished(label);
}

void GenerationPump::log_summary() const {
    if (choices_.empty()) return;
    int prompt_tokens = choices_.front().num_prompt_tokens, cached = choices_.front().num_cached_tokens;
    int output_tokens = 0;
    std::string reasons;
    for (const auto& c : choices_) {
        output_tokens += c.num_output_tokens;
        if (!reasons.empty()) reasons += ',';
        reasons += c.label ? finish_label_name(*c.label) : "abort";
    }
    double duration = seconds_between(context_.arrival, Clock::now());
    // A batch job's requests would drown the log; its progress lines say how it goes.
    spdlog::log(context_.priority == 0 ? spdlog::level::info : spdlog::level::debug,
                "request done id={} endpoint={} n={} prompt_tokens={} cached_tokens={} completion_tokens={} "
                "ttft_ms={:.1f} duration_ms={:.1f} finish_reason={}{}{}",
                context_.request_id, endpoint_, choices_.size(), prompt_tokens, cached, output_tokens,
                ttft_seconds_ < 0 ? -1.0 : ttft_seconds_ * 1000.0, duration * 1000.0, reasons,
                client_gone_ ? " client_gone=true" : "",
                user_.empty() ? "" : fmt::format(" user={:?}", user_));
}

}  // namespace gptoss
