// ResponseStore: the responses kept for GET /v1/responses/{id} and previous_response_id (store: true), in
// memory, least recently used first out once `capacity` are held (--responses-store-size; 0 keeps none).
// Also the registry of responses still generating, so POST /v1/responses/{id}/cancel can abort them.
// Thread-safe; entries are immutable snapshots shared with readers.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace gptoss {

struct StoredResponse {
    nlohmann::json response;  // the response object, as GET returns it
    // The normalized conversation a continuation starts from: the input items of this response (its own
    // previous_response_id's conversation included) followed by its output items.
    std::vector<nlohmann::ordered_json> conversation;
};

class ResponseStore {
public:
    explicit ResponseStore(size_t capacity) : capacity_(capacity) {}

    // Inserts or replaces `id` as the most recently used; evicts the least recently used beyond capacity.
    void put(const std::string& id, StoredResponse response);
    // The entry (now the most recently used), or nullptr when unknown or evicted.
    std::shared_ptr<const StoredResponse> get(const std::string& id);
    bool erase(const std::string& id);
    size_t size() const;
    size_t capacity() const { return capacity_; }

    // In-flight responses: `cancel` aborts the generation behind `id`.
    void begin_generation(const std::string& id, std::function<void()> cancel);
    void end_generation(const std::string& id);
    // Calls the cancel function of an in-flight response; false when `id` is not generating.
    bool cancel(const std::string& id);

private:
    using Order = std::list<std::string>;  // most recently used first
    struct Entry {
        std::shared_ptr<const StoredResponse> response;
        Order::iterator position;
    };

    size_t capacity_;
    mutable std::mutex mutex_;
    Order order_;
    std::unordered_map<std::string, Entry> entries_;
    std::map<std::string, std::function<void()>> in_flight_;
};

}  // namespace gptoss
