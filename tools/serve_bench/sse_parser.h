// Incremental server-sent-events parsing: bytes arrive in arbitrary pieces; each complete event's `data:`
// payload (lines joined by '\n', as the SSE spec says) is handed on. Comments (": keep-alive") and other
// fields are dropped.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace gptoss::serve_bench {

class SseParser {
public:
    using OnData = std::function<void(std::string_view data)>;
    explicit SseParser(OnData on_data) : on_data_(std::move(on_data)) {}

    void feed(std::string_view bytes);

private:
    void take_line(std::string_view line);

    OnData on_data_;
    std::string partial_line_;
    std::string data_;
    bool has_data_ = false;
};

}  // namespace gptoss::serve_bench
