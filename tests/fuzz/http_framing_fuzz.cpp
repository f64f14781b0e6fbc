// http_framing_fuzz: arbitrary bytes as what a client sends on a connection, through the connection front's
// framing (server/request_framing.h): head detection, head parsing, the chunked-body decoder, in the order
// the front runs them. A refusal must be a FramingError with a 4xx/5xx status; any other exception, crash,
// sanitizer report or timeout is a bug.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "server/request_framing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    gptoss::FramingLimits limits;
    limits.max_uri_bytes = 256;
    limits.max_header_bytes = 1024;
    limits.max_header_count = 16;
    limits.max_body_bytes = 512;
    try {
        std::optional<size_t> end = gptoss::find_head_end(input, limits);
        if (!end) return 0;
        gptoss::RequestHead head = gptoss::parse_request_head(input.substr(0, *end), limits);
        std::string_view rest = input.substr(*end);
        if (head.chunked) {
            gptoss::ChunkedDecoder decoder(limits);
            // Fed in two pieces, as a socket may split it.
            size_t used = decoder.feed(rest.substr(0, rest.size() / 2));
            used += decoder.feed(rest.substr(used));
            if (used > rest.size() || decoder.body().size() > limits.max_body_bytes) std::abort();
            (void)gptoss::normalized_request(head, decoder.body());
        } else {
            (void)gptoss::normalized_request(
                head, rest.substr(0, std::min(rest.size(), head.content_length.value_or(0))));
        }
    } catch (const gptoss::FramingError& e) {
        if (e.status() < 400 || e.status() > 505) std::abort();
    }
    return 0;
}
