#include "engine/token_stream.h"

#include <utility>

namespace gptoss {

void BlockingTokenStream::push(TokenEvent event) {
    {
        std::lock_guard lock(mutex_);
        if (finished_pushed_) return;
        finished_pushed_ = event.finished;
        events_.push_back(std::move(event));
    }
    ready_.notify_all();
}

std::vector<TokenEvent> BlockingTokenStream::wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (finished_returned_) return {};
    ready_.wait_for(lock, timeout, [&] { return !events_.empty(); });
    std::vector<TokenEvent> out(std::make_move_iterator(events_.begin()),
                                std::make_move_iterator(events_.end()));
    events_.clear();
    if (!out.empty() && out.back().finished) finished_returned_ = true;
    return out;
}

bool BlockingTokenStream::finished() const {
    std::lock_guard lock(mutex_);
    return finished_pushed_;
}

}  // namespace gptoss
