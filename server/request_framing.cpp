#include "server/request_framing.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace gptoss {

namespace {

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

FramingError bad_request(const std::string& why) {
    return FramingError(400, fmt::format("The HTTP request is malformed: {}.", why));
}

FramingError too_large(size_t limit) {
    return FramingError(413, fmt::format("The request body is larger than the server accepts ({} bytes; see "
                                         "--max-request-bytes).",
                                         limit));
}

void parse_request_line(std::string_view line, RequestHead& head) {
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        throw bad_request("the request line is not 'METHOD TARGET HTTP/1.x'");
    }
    head.method = line.substr(0, sp1);
    head.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    head.version = line.substr(sp2 + 1);
    if (head.method.empty() || !std::all_of(head.method.begin(), head.method.end(), is_token_char)) {
        throw bad_request("the method is not a token");
    }
    if (head.target.empty() || (head.target.front() != '/' && head.target != "*")) {
        throw bad_request("the request target must start with '/'");
    }
    for (char c : head.target) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            throw bad_request("control byte in the target");
    }
    if (head.version != "HTTP/1.1" && head.version != "HTTP/1.0") {
        throw FramingError(505, "Only HTTP/1.0 and HTTP/1.1 are served.");
    }
}

size_t parse_content_length(std::string_view value) {
    if (value.empty() || value.size() > 18 ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw bad_request("Content-Length is not a decimal number");
    }
    size_t n = 0;
    for (char c : value) n = n * 10 + static_cast<size_t>(c - '0');
    return n;
}

}  // namespace

std::optional<size_t> find_head_end(std::string_view buffer, const FramingLimits& limits) {
    size_t line_end = buffer.find("\r\n");
    size_t request_line = line_end == std::string_view::npos ? buffer.size() : line_end;
    if (request_line > limits.max_uri_bytes) {
        throw FramingError(414,
                           fmt::format("The request line is longer than {} bytes.", limits.max_uri_bytes));
    }
    size_t end = buffer.find("\r\n\r\n");
    size_t head_bytes = end == std::string_view::npos ? buffer.size() : end + 4;
    if (head_bytes > limits.max_header_bytes + limits.max_uri_bytes) {
        throw FramingError(
            431, fmt::format("The request headers are larger than {} bytes.", limits.max_header_bytes));
    }
    if (end == std::string_view::npos) return std::nullopt;
    return end + 4;
}

RequestHead parse_request_head(std::string_view head, const FramingLimits& limits) {
    RequestHead out;
    head.remove_suffix(2);  // the blank line's CRLF; every line below ends with CRLF
    size_t pos = head.find("\r\n");
    parse_request_line(head.substr(0, pos), out);
    size_t header_bytes = 0;
    int num_headers = 0;
    bool has_transfer_encoding = false;
    for (pos += 2; pos < head.size();) {
        size_t eol = head.find("\r\n", pos);
        std::string_view line = head.substr(pos, eol - pos);
        pos = eol + 2;
        header_bytes += line.size() + 2;
        if (++num_headers > limits.max_header_count) {
            throw FramingError(
                431, fmt::format("The request has more than {} header fields.", limits.max_header_count));
        }
        if (header_bytes > limits.max_header_bytes) {
            throw FramingError(
                431, fmt::format("The request headers are larger than {} bytes.", limits.max_header_bytes));
        }
        if (line.empty() || line.front() == ' ' || line.front() == '\t') {
            throw bad_request("obsolete line folding in a header");
        }
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) throw bad_request("a header line has no name");
        std::string_view name = line.substr(0, colon);
        if (!std::all_of(name.begin(), name.end(), is_token_char)) {
            throw bad_request("a header name is not a token (no space before ':')");
        }
        std::string_view value = trim(line.substr(colon + 1));
        for (char c : value) {
            if (c == '\0' || c == '\r' || c == '\n') throw bad_request("NUL, CR or LF in a header value");
        }
        if (iequals(name, "Content-Length")) {
            if (out.content_length) throw bad_request("more than one Content-Length header");
            out.content_length = parse_content_length(value);
        } else if (iequals(name, "Transfer-Encoding")) {
            if (has_transfer_encoding) throw bad_request("more than one Transfer-Encoding header");
            has_transfer_encoding = true;
            if (!iequals(value, "chunked")) {
                throw bad_request("the only Transfer-Encoding accepted is 'chunked'");
            }
            out.chunked = true;
        } else if (iequals(name, "Expect")) {
            if (!iequals(value, "100-continue"))
                throw FramingError(417, "Only 'Expect: 100-continue' is met.");
            out.expect_continue = true;
        } else {
            out.head_lines.emplace_back(line);
        }
    }
    if (out.chunked && out.content_length) throw bad_request("both Content-Length and Transfer-Encoding");
    if (out.chunked && out.version == "HTTP/1.0")
        throw bad_request("Transfer-Encoding in an HTTP/1.0 request");
    if (out.content_length && *out.content_length > limits.max_body_bytes)
        throw too_large(limits.max_body_bytes);
    return out;
}

std::string normalized_request(const RequestHead& head, std::string_view body) {
    std::string out = fmt::format("{} {} {}\r\n", head.method, head.target, head.version);
    for (const auto& line : head.head_lines) {
        out += line;
        out += "\r\n";
    }
    if (head.content_length || head.chunked) out += fmt::format("Content-Length: {}\r\n", body.size());
    out += "\r\n";
    out += body;
    return out;
}

size_t ChunkedDecoder::feed(std::string_view input) {
    constexpr size_t kMaxSizeLine = 1024;  // hex size plus any chunk extensions
    size_t used = 0;
    while (used < input.size() && state_ != State::kDone) {
        if (state_ == State::kData) {
            size_t n = std::min(chunk_left_, input.size() - used);
            body_.append(input.substr(used, n));
            used += n;
            chunk_left_ -= n;
            if (chunk_left_ == 0) state_ = State::kDataEnd;
            continue;
        }
        // The other states read one CRLF-terminated line.
        size_t eol = input.find('\n', used);
        size_t take = (eol == std::string_view::npos ? input.size() : eol + 1) - used;
        line_.append(input.substr(used, take));
        used += take;
        size_t limit = state_ == State::kTrailer ? limits_.max_header_bytes : kMaxSizeLine;
        if (line_.size() > limit) throw bad_request("a chunk-size or trailer line is too long");
        if (eol == std::string_view::npos) break;
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r') throw bad_request("a chunk line lacks CRLF");
        std::string_view line(line_.data(), line_.size() - 2);
        if (state_ == State::kDataEnd) {
            if (!line.empty()) throw bad_request("chunk data is longer than its size");
            state_ = State::kSize;
        } else if (state_ == State::kSize) {
            std::string_view digits = line.substr(0, line.find(';'));
            digits = trim(digits);
            if (digits.empty() || digits.size() > 15 ||
                !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isxdigit(c); })) {
                throw bad_request("a chunk size is not hexadecimal");
            }
            chunk_left_ = std::stoull(std::string(digits), nullptr, 16);
            if (chunk_left_ > limits_.max_body_bytes - body_.size()) throw too_large(limits_.max_body_bytes);
            state_ = chunk_left_ == 0 ? State::kTrailer : State::kData;
        } else {  // kTrailer: fields up to the blank line
            trailer_bytes_ += line_.size();
            if (trailer_bytes_ > limits_.max_header_bytes)
                throw bad_request("the chunked trailer is too long");
            if (line.empty()) state_ = State::kDone;
        }
        line_.clear();
    }
    return used;
}

}  // namespace gptoss
