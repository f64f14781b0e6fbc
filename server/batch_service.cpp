#include "server/batch_service.h"

#include <algorithm>
#include <ctime>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/engine.h"
#include "server/batch_call.h"
#include "server/batch_line.h"
#include "server/batch_output_file.h"
#include "server/errors.h"
#include "server/routes.h"
#include "server/server_state.h"

namespace gptoss {

namespace fs = std::filesystem;

namespace {

int64_t now() {
    return static_cast<int64_t>(std::time(nullptr));
}

// OpenAI offers one window; the work here starts at once and is not cut off at its end.
constexpr const char* kCompletionWindow = "24h";
constexpr int64_t kCompletionWindowSeconds = 24 * 3600;

ApiError not_found(const std::string& what, const std::string& id) {
    return ApiError(404, "invalid_request_error", fmt::format("No {} with id '{}' exists.", what, id),
                    std::nullopt, "not_found");
}

bool is_terminal(const std::string& status) {
    return status == "completed" || status == "failed" || status == "cancelled" || status == "expired";
}

int64_t count_nonblank_lines(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    int64_t n = 0;
    for (std::string line; std::getline(in, line);) n += line.find_first_not_of(" \t\r") != std::string::npos;
    return n;
}

}  // namespace

BatchService::BatchService(ServerState& state, fs::path dir) : state_(state), store_(std::move(dir)) {}

BatchService::~BatchService() {
    stop();
}

void BatchService::start() {
    std::vector<nlohmann::json> batches = store_.batches();
    std::reverse(batches.begin(), batches.end());  // oldest first
    std::lock_guard lock(mutex_);
    for (auto& batch : batches) {
        const std::string status = batch.value("status", "");
        if (status == "cancelling") {
            finish(batch, "cancelled");
        } else if (!is_terminal(status)) {
            spdlog::info("batch {} resumes status={}", batch["id"].get<std::string>(), status);
            queue_.push_back(batch["id"]);
        }
    }
    if (!worker_.joinable()) worker_ = std::thread([this] { work(); });
}

void BatchService::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        stop_running_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable()) worker_.join();
}

void BatchService::work() {
    while (true) {
        std::string id;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            id = queue_.front();
            queue_.pop_front();
            running_id_ = id;
            running_counts_ = {};
            stop_running_ = false;
            cancel_requested_ = false;
        }
        try {
            if (auto batch = store_.batch(id)) run_batch(std::move(*batch));
        } catch (const std::exception& e) {
            if (stopping_) return;  // the server is shutting down under it: a restart resumes it
            spdlog::error("batch {} failed error={}", id, e.what());
            if (auto batch = store_.batch(id)) {
                (*batch)["errors"] = {
                    {"object", "list"},
                    {"data", {{{"code", "internal_error"}, {"message", e.what()}, {"line", nullptr}}}}};
                std::lock_guard lock(mutex_);
                finish(*batch, "failed");
            }
        }
        std::lock_guard lock(mutex_);
        running_id_.clear();
    }
}

void BatchService::run_batch(nlohmann::json batch) {
    const std::string id = batch["id"];
    const fs::path input = store_.content_path(batch["input_file_id"]);
    if (!store_.file(batch["input_file_id"]) || !fs::exists(input)) {
        batch["errors"] = {{"object", "list"},
                           {"data",
                            {{{"code", "invalid_file"},
                              {"message", "The input file was deleted before the batch ran."},
                              {"line", nullptr}}}}};
        std::lock_guard lock(mutex_);
        finish(batch, "failed");
        return;
    }
    BatchOutputFile output = BatchOutputFile::open(store_.content_path(batch_output_file_id(id)));
    BatchOutputFile errors = BatchOutputFile::open(store_.content_path(batch_error_file_id(id)));
    std::unordered_set<std::string> done = output.done_keys();
    done.insert(errors.done_keys().begin(), errors.done_keys().end());
    {
        std::lock_guard lock(mutex_);
        batch["request_counts"]["total"] = count_nonblank_lines(input);
        running_base_completed_ = output.num_lines();
        running_base_failed_ = errors.num_lines();
        if (batch["status"] == "validating") {
            batch["status"] = "in_progress";
            batch["in_progress_at"] = now();
        }
        store_.save_batch(batch);
    }

    // Every engine slot plus a few queued, but half the queue always left to interactive requests.
    const EngineConfig& engine = state_.ready_model()->engine->config();
    BatchRunnerOptions options;
    options.max_in_flight = std::max(1, std::min(engine.max_num_seqs + engine.max_num_seqs / 4,
                                                 engine.max_num_seqs + engine.max_queued_requests / 2));
    options.endpoint = batch["endpoint"];
    BatchRunner runner(
        [this](const BatchLine& line, const std::string& request_id,
               std::shared_ptr<const std::atomic<bool>> cancel) {
            return call_batch_line(state_, line, request_id, std::move(cancel));
        },
        options);
    std::ifstream in(input, std::ios::binary);
    BatchCounts counts = runner.run(
        in, done, [&](const nlohmann::json& line, bool ok) { (ok ? output : errors).append(line); },
        stop_running_,
        [this](const BatchCounts& c) {
            std::lock_guard lock(mutex_);
            running_counts_ = c;
        });

    std::lock_guard lock(mutex_);
    running_counts_ = counts;
    if (stopping_) return;      // a restart resumes it
    batch = *store_.batch(id);  // a cancel may have changed it meanwhile
    batch["request_counts"] = {{"total", batch["request_counts"]["total"]},
                               {"completed", output.num_lines()},
                               {"failed", errors.num_lines()}};
    if (cancel_requested_) {
        finish(batch, "cancelled");
        return;
    }
    batch["status"] = "finalizing";
    batch["finalizing_at"] = now();
    store_.save_batch(batch);
    finish(batch, "completed");
    spdlog::info("batch {} completed requests={} completed={} failed={}", id,
                 batch["request_counts"]["total"].get<int64_t>(), output.num_lines(), errors.num_lines());
}

void BatchService::finish(nlohmann::json& batch, const std::string& status) {
    const std::string id = batch["id"];
    for (const auto& [key, file_id] : {std::pair{"output_file_id", batch_output_file_id(id)},
                                       std::pair{"error_file_id", batch_error_file_id(id)}}) {
        std::error_code error;
        if (fs::file_size(store_.content_path(file_id), error) > 0 && !error) {
            store_.register_file(
                file_id,
                fmt::format("{}_{}.jsonl", id, key == std::string("output_file_id") ? "output" : "error"),
                "batch_output");
            batch[key] = file_id;
        }
    }
    batch["status"] = status;
    batch[status + "_at"] = now();
    store_.save_batch(batch);
}

nlohmann::json BatchService::upload_file(const std::string& filename, const std::string& purpose,
                                         std::string_view content) {
    if (purpose != "batch") {
        throw api_errors::invalid_request(
            fmt::format("'purpose' must be \"batch\" (the only use of files here), got '{}'.", purpose),
            "purpose");
    }
    return store_.create_file(filename, purpose, content);
}

nlohmann::json BatchService::get_file(const std::string& id) const {
    auto file = store_.file(id);
    if (!file) throw not_found("file", id);
    return *file;
}

fs::path BatchService::file_content(const std::string& id) const {
    get_file(id);
    return store_.content_path(id);
}

nlohmann::json BatchService::delete_file(const std::string& id) {
    if (!store_.delete_file(id)) throw not_found("file", id);
    return {{"id", id}, {"object", "file"}, {"deleted", true}};
}

nlohmann::json BatchService::create_batch(const nlohmann::json& body) {
    auto string_field = [&](const char* name) {
        auto it = body.find(name);
        if (it == body.end()) {
            throw api_errors::invalid_request(fmt::format("Missing required parameter: '{}'.", name), name);
        }
        if (!it->is_string()) throw api_errors::invalid_type(name, "a string", *it);
        return it->get<std::string>();
    };
    const std::string input_file_id = string_field("input_file_id");
    const std::string endpoint = string_field("endpoint");
    const std::string window = string_field("completion_window");
    if (!is_batch_endpoint(endpoint)) {
        throw api_errors::invalid_request(
            "'endpoint' must be one of /v1/chat/completions, /v1/completions, /v1/responses.", "endpoint");
    }
    if (window != kCompletionWindow) {
        throw api_errors::invalid_request("'completion_window' must be \"24h\".", "completion_window");
    }
    auto file = store_.file(input_file_id);
    if (!file) throw not_found("file", input_file_id);
    if (file->value("purpose", "") != "batch") {
        throw api_errors::invalid_request("The input file's purpose must be \"batch\".", "input_file_id");
    }
    nlohmann::json metadata = nullptr;
    if (auto it = body.find("metadata"); it != body.end() && !it->is_null()) {
        if (!it->is_object()) throw api_errors::invalid_type("metadata", "an object", *it);
        metadata = *it;
    }
    const int64_t created = now();
    nlohmann::json batch = {{"id", random_id("batch_")},
                            {"object", "batch"},
                            {"endpoint", endpoint},
                            {"errors", nullptr},
                            {"input_file_id", input_file_id},
                            {"completion_window", window},
                            {"status", "validating"},
                            {"output_file_id", nullptr},
                            {"error_file_id", nullptr},
                            {"created_at", created},
                            {"in_progress_at", nullptr},
                            {"expires_at", created + kCompletionWindowSeconds},
                            {"finalizing_at", nullptr},
                            {"completed_at", nullptr},
                            {"failed_at", nullptr},
                            {"expired_at", nullptr},
                            {"cancelling_at", nullptr},
                            {"cancelled_at", nullptr},
                            {"request_counts", {{"total", 0}, {"completed", 0}, {"failed", 0}}},
                            {"metadata", metadata}};
    {
        std::lock_guard lock(mutex_);
        store_.save_batch(batch);
        queue_.push_back(batch["id"]);
    }
    wake_.notify_all();
    return batch;
}

nlohmann::json BatchService::load_batch(const std::string& id) const {
    auto batch = store_.batch(id);
    if (!batch) throw not_found("batch", id);
    std::lock_guard lock(mutex_);
    if (id == running_id_ && !is_terminal((*batch)["status"])) {
        (*batch)["request_counts"]["completed"] = running_base_completed_ + running_counts_.num_completed;
        (*batch)["request_counts"]["failed"] = running_base_failed_ + running_counts_.num_failed;
    }
    return *batch;
}

nlohmann::json BatchService::get_batch(const std::string& id) const {
    return load_batch(id);
}

nlohmann::json BatchService::list_batches(const std::optional<std::string>& after, int limit) const {
    if (limit < 1 || limit > 100)
        throw api_errors::invalid_request("'limit' must be between 1 and 100.", "limit");
    std::vector<nlohmann::json> all = store_.batches();
    size_t begin = 0;
    if (after) {
        auto it =
            std::find_if(all.begin(), all.end(), [&](const nlohmann::json& b) { return b["id"] == *after; });
        if (it == all.end()) throw not_found("batch", *after);
        begin = static_cast<size_t>(it - all.begin()) + 1;
    }
    nlohmann::json data = nlohmann::json::array();
    for (size_t i = begin; i < all.size() && data.size() < static_cast<size_t>(limit); ++i) {
        data.push_back(load_batch(all[i]["id"]));
    }
    const bool has_more = begin + data.size() < all.size();
    return {{"object", "list"},
            {"data", data},
            {"first_id", data.empty() ? nlohmann::json(nullptr) : data.front()["id"]},
            {"last_id", data.empty() ? nlohmann::json(nullptr) : data.back()["id"]},
            {"has_more", has_more}};
}

nlohmann::json BatchService::cancel_batch(const std::string& id) {
    auto batch = store_.batch(id);
    if (!batch) throw not_found("batch", id);
    std::lock_guard lock(mutex_);
    batch = store_.batch(id);
    const std::string status = (*batch)["status"];
    if (is_terminal(status)) {
        throw ApiError(409, "invalid_request_error",
                       fmt::format("Cannot cancel a batch with status '{}'.", status), std::nullopt,
                       "batch_not_cancellable");
    }
    if (status == "cancelling") return *batch;
    if (id == running_id_) {
        (*batch)["status"] = "cancelling";
        (*batch)["cancelling_at"] = now();
        store_.save_batch(*batch);
        cancel_requested_ = true;
        stop_running_ = true;
        return *batch;
    }
    // Not started yet: nothing to wait for.
    queue_.erase(std::remove(queue_.begin(), queue_.end(), id), queue_.end());
    (*batch)["cancelling_at"] = now();
    finish(*batch, "cancelled");
    return *batch;
}

}  // namespace gptoss
