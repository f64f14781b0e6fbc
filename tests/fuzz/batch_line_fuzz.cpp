// batch_line_fuzz: arbitrary bytes as a line of a batch input file (server/batch_line.cpp), and the output
// line made from it read back by the resume logic (batch_output_key). A line is either a BatchLine whose
// fields hold what the runner relies on, or a BatchLineError; any other exception, crash or sanitizer report
// is a bug, and so is an output line whose key differs from the input line's (a resume would rerun or lose
// it).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/batch_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    constexpr int64_t kLine = 7;
    try {
        gptoss::BatchLine line = gptoss::parse_batch_line(text);
        if (line.custom_id.empty() || !gptoss::is_batch_endpoint(line.url) || !line.body.is_object())
            std::abort();
        if (nlohmann::json::parse(line.body_text) != line.body) std::abort();
        nlohmann::json out = gptoss::batch_response_line(line.custom_id, 200, "req-1", line.body);
        const std::string dumped = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        // Invalid UTF-8 in a custom_id is replaced when written, so only valid ids must read back equal.
        if (dumped.find("\xEF\xBF\xBD") == std::string::npos &&
            gptoss::batch_output_key(dumped) != line.custom_id) {
            std::abort();
        }
    } catch (const gptoss::BatchLineError& e) {
        nlohmann::json out = gptoss::batch_error_line(e, kLine);
        const std::string dumped = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (dumped.find("\xEF\xBF\xBD") == std::string::npos &&
            gptoss::batch_output_key(dumped) != gptoss::batch_line_key(e.custom_id(), kLine)) {
            std::abort();
        }
    }
    return 0;
}
