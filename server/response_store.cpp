#include "server/response_store.h"

namespace gptoss {

void ResponseStore::put(const std::string& id, StoredResponse response) {
    auto shared = std::make_shared<const StoredResponse>(std::move(response));
    std::lock_guard lock(mutex_);
    if (capacity_ == 0) return;
    if (auto it = entries_.find(id); it != entries_.end()) {
        order_.erase(it->second.position);
        entries_.erase(it);
    }
    order_.push_front(id);
    entries_[id] = {std::move(shared), order_.begin()};
    while (entries_.size() > capacity_) {
        entries_.erase(order_.back());
        order_.pop_back();
    }
}

std::shared_ptr<const StoredResponse> ResponseStore::get(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.position);
    return it->second.response;
}

bool ResponseStore::erase(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return false;
    order_.erase(it->second.position);
    entries_.erase(it);
    return true;
}

size_t ResponseStore::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

void ResponseStore::begin_generation(const std::string& id, std::function<void()> cancel) {
    std::lock_guard lock(mutex_);
    in_flight_[id] = std::move(cancel);
}

void ResponseStore::end_generation(const std::string& id) {
    std::lock_guard lock(mutex_);
    in_flight_.erase(id);
}

bool ResponseStore::cancel(const std::string& id) {
    std::function<void()> cancel;
    {
        std::lock_guard lock(mutex_);
        auto it = in_flight_.find(id);
        if (it == in_flight_.end()) return false;
        cancel = it->second;
    }
    cancel();  // outside the lock: it calls into the engine
    return true;
}

}  // namespace gptoss
