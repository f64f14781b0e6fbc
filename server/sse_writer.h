// SseWriter: Server-Sent Events framing for streamed responses.
//
//   data: {json}\n\n      one event per chunk, written (and flushed) at once
//   event: NAME\n data: {json}\n\n   a named event (the Responses API names each event by its type)
//   : keep-alive\n\n      a comment; clients ignore it. Written while a stream waits, because the HTTP
//   library
//                         notices a closed peer only when a write fails.
//   data: [DONE]\n\n      the end of the stream
//
// After a write fails (the client went away) every later call returns false without writing.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gptoss {

// The bytes of one "data:" event. JSON is serialized with invalid UTF-8 replaced (never throws).
std::string format_sse_data(const nlohmann::json& payload);
// "event: NAME\n" followed by format_sse_data(payload).
std::string format_sse_event(std::string_view name, const nlohmann::json& payload);

class SseWriter {
public:
    // write: sends bytes to the client; returns false when the connection is gone.
    explicit SseWriter(std::function<bool(std::string_view)> write) : write_(std::move(write)) {}

    bool send(const nlohmann::json& payload) { return emit(format_sse_data(payload)); }
    bool send_event(std::string_view name, const nlohmann::json& payload) {
        return emit(format_sse_event(name, payload));
    }
    bool send_done() { return emit("data: [DONE]\n\n"); }
    bool send_keep_alive() { return emit(": keep-alive\n\n"); }
    bool ok() const { return ok_; }
    size_t num_events() const { return num_events_; }

private:
    bool emit(std::string_view bytes);

    std::function<bool(std::string_view)> write_;
    bool ok_ = true;
    size_t num_events_ = 0;
};

}  // namespace gptoss
