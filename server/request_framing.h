// HTTP/1.1 request framing (RFC 9112) for the connection front: where a request's head ends, whether it is
// well formed and within the limits, how its body is delimited, and the chunked-body decoder. Pure functions
// over bytes, so they can be tested and fuzzed without sockets.
//
// What is refused, and with which status:
//   request line longer than max_uri_bytes                     414
//   head (request line + headers) over max_header_bytes,
//   or more than max_header_count header lines                 431
//   malformed request line or header line, obs-fold, NUL/CR
//   in a value, two Content-Length headers, Content-Length
//   with Transfer-Encoding, a Transfer-Encoding other than
//   "chunked", a malformed chunk                               400
//   a body (either framing) over max_body_bytes                413
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gptoss {

struct FramingLimits {
    size_t max_uri_bytes = 8192;         // the request line
    size_t max_header_bytes = 64 << 10;  // request line + header lines + the blank line
    int max_header_count = 100;
    size_t max_body_bytes = 16 << 20;
};

class FramingError : public std::runtime_error {
public:
    FramingError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

// A parsed request head. `head_lines` are the header lines as received, less the framing headers
// (Content-Length, Transfer-Encoding, Expect), which the front replaces by one Content-Length.
struct RequestHead {
    std::string method, target, version;  // "POST", "/v1/chat/completions?x=1", "HTTP/1.1"
    std::vector<std::string> head_lines;
    std::optional<size_t> content_length;
    bool chunked = false;
    bool expect_continue = false;
};

// Where the head ends in `buffer` (the index just past "\r\n\r\n"), or nullopt when it has not all arrived.
// Throws FramingError (414/431) once the bytes so far already break a limit, whether or not the head is
// complete: a client cannot make the front buffer more than the limits allow.
std::optional<size_t> find_head_end(std::string_view buffer, const FramingLimits& limits);

// Parses a complete head (`head` ends with "\r\n\r\n"). Throws FramingError.
RequestHead parse_request_head(std::string_view head, const FramingLimits& limits);

// The request as cpp-httplib will read it: request line, the kept header lines, "Content-Length: N" when
// there is a body, and the body.
std::string normalized_request(const RequestHead& head, std::string_view body);

// Incremental decoder of a chunked body. feed() consumes what it can of `input` and returns how many bytes
// it used; bytes after the final chunk and its trailers (a pipelined request) are left unconsumed. Throws
// FramingError: 400 for bad framing, 413 as soon as the decoded body would pass max_body_bytes. Chunk
// extensions and trailer fields are read and dropped (bounded by max_header_bytes).
class ChunkedDecoder {
public:
    explicit ChunkedDecoder(const FramingLimits& limits) : limits_(limits) {}

    size_t feed(std::string_view input);
    bool done() const { return state_ == State::kDone; }
    std::string& body() { return body_; }

private:
    enum class State { kSize, kData, kDataEnd, kTrailer, kDone };

    FramingLimits limits_;
    State state_ = State::kSize;
    std::string line_;       // a size or trailer line being assembled
    size_t chunk_left_ = 0;  // data bytes left in the current chunk
    size_t trailer_bytes_ = 0;
    std::string body_;
};

}  // namespace gptoss
