#include "server/server_state.h"

#include <ctime>
#include <functional>

#include <fmt/format.h>

#include "engine/engine.h"
#include "server/errors.h"

namespace gptoss {

ServerState::ServerState(HttpServerOptions options)
    : options_(std::move(options)),
      responses_(options_.responses_store_size),
      start_time_(static_cast<int64_t>(std::time(nullptr))) {
    if (options_.model_names.empty()) options_.model_names.push_back("gpt-oss");
}

void ServerState::set_model(ServingModel model) {
    if (!model.vocabulary && model.tokenizer)
        model.vocabulary = structured::TokenVocabulary::from_tokenizer(*model.tokenizer);
    auto shared = std::make_shared<const ServingModel>(std::move(model));
    std::lock_guard lock(mutex_);
    model_ = std::move(shared);
}

std::shared_ptr<const ServingModel> ServerState::model() const {
    std::lock_guard lock(mutex_);
    return model_;
}

std::shared_ptr<const ServingModel> ServerState::ready_model() const {
    if (draining()) throw api_errors::shutting_down();
    auto m = model();
    if (!m) throw api_errors::model_loading();
    return m;
}

std::shared_ptr<const ServingModel> ServerState::generation_model() const {
    auto m = ready_model();
    const EngineConfig& engine = m->engine->config();
    // The engine refuses these too, but only after the prompt is rendered and tokenized: under overload
    // that work is the cost of every refusal. num_unfinished counts running and queued requests.
    if (m->engine->num_unfinished() >= engine.max_num_seqs + engine.max_queued_requests) {
        throw ApiError(503, "server_error",
                       fmt::format("The server is overloaded: {} requests are running or queued "
                                   "(--max-num-seqs + --max-queued-requests). Retry later.",
                                   m->engine->num_unfinished()),
                       std::nullopt, "server_overloaded");
    }
    return m;
}

void ServerState::check_model_name(const std::string& model) const {
    if (model.empty()) return;
    for (const auto& name : options_.model_names) {
        if (name == model) return;
    }
    throw api_errors::model_not_found(model);
}

std::string ServerState::system_fingerprint() const {
    auto m = model();
    std::string basis =
        fmt::format("{}|{}|{}", GPTOSS_SERVER_VERSION, options_.model_root, m ? m->backend : "");
    return fmt::format("fp_{:010x}", std::hash<std::string>{}(basis)&0xffffffffffull);
}

ChatMappingOptions ServerState::chat_mapping_options() const {
    ChatMappingOptions o;
    o.default_reasoning_effort = options_.default_reasoning_effort;
    const std::string& date = options_.harmony_current_date;
    if (date == "none") {
        o.current_date = std::nullopt;
    } else if (!date.empty()) {
        o.current_date = date;
    } else {
        std::time_t now = std::time(nullptr);
        std::tm utc{};
        gmtime_r(&now, &utc);
        o.current_date = fmt::format("{:04}-{:02}-{:02}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday);
    }
    return o;
}

void ServerState::begin_drain() {
    draining_ = true;
}

void ServerState::track(RequestId id) {
    std::lock_guard lock(mutex_);
    tracked_.insert(id);
}

void ServerState::untrack(RequestId id) {
    std::lock_guard lock(mutex_);
    tracked_.erase(id);
}

std::set<RequestId> ServerState::tracked() const {
    std::lock_guard lock(mutex_);
    return tracked_;
}

ServerState::ActiveGuard::ActiveGuard(ServerState& state) : state_(state) {
    std::lock_guard lock(state_.mutex_);
    ++state_.num_active_;
}

ServerState::ActiveGuard::~ActiveGuard() {
    std::lock_guard lock(state_.mutex_);
    if (--state_.num_active_ == 0) state_.idle_.notify_all();
}

bool ServerState::wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [&] { return num_active_ == 0; });
}

}  // namespace gptoss
