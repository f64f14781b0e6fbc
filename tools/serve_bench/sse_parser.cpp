#include "tools/serve_bench/sse_parser.h"

namespace gptoss::serve_bench {

void SseParser::feed(std::string_view bytes) {
    size_t start = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] != '\n') continue;
        if (partial_line_.empty()) {
            take_line(bytes.substr(start, i - start));
        } else {
            partial_line_.append(bytes.substr(start, i - start));
            take_line(partial_line_);
            partial_line_.clear();
        }
        start = i + 1;
    }
    partial_line_.append(bytes.substr(start));
}

void SseParser::take_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {  // end of the event
        if (has_data_) on_data_(data_);
        data_.clear();
        has_data_ = false;
        return;
    }
    if (!line.starts_with("data:")) return;
    line.remove_prefix(5);
    if (line.starts_with(' ')) line.remove_prefix(1);
    if (has_data_) data_ += '\n';
    data_.append(line);
    has_data_ = true;
}

}  // namespace gptoss::serve_bench
