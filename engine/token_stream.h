// BlockingTokenStream: the per-request outbox behind engine.h's TokenStream. The engine thread pushes
// events; one consumer (an HTTP thread) waits on them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "engine/engine.h"

namespace gptoss {

class BlockingTokenStream final : public TokenStream {
public:
    // Engine thread. Events after the finished one are dropped.
    void push(TokenEvent event);

    std::vector<TokenEvent> wait(std::chrono::milliseconds timeout) override;
    bool finished() const override;

private:
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<TokenEvent> events_;
    bool finished_pushed_ = false;    // the final event has been queued
    bool finished_returned_ = false;  // ... and handed to the consumer
};

}  // namespace gptoss
