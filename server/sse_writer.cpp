#include "server/sse_writer.h"

namespace gptoss {

std::string format_sse_data(const nlohmann::json& payload) {
    std::string out = "data: ";
    out += payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += "\n\n";
    return out;
}

std::string format_sse_event(std::string_view name, const nlohmann::json& payload) {
    std::string out = "event: ";
    out += name;
    out += '\n';
    out += format_sse_data(payload);
    return out;
}

bool SseWriter::emit(std::string_view bytes) {
    if (!ok_) return false;
    ok_ = write_(bytes);
    if (ok_) ++num_events_;
    return ok_;
}

}  // namespace gptoss
