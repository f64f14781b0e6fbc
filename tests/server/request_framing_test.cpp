#include "server/request_framing.h"

#include <gtest/gtest.h>

namespace gptoss {
namespace {

FramingLimits small_limits() {
    FramingLimits limits;
    limits.max_uri_bytes = 64;
    limits.max_header_bytes = 256;
    limits.max_header_count = 4;
    limits.max_body_bytes = 16;
    return limits;
}

int status_of(const std::string& head) {
    try {
        parse_request_head(head, small_limits());
    } catch (const FramingError& e) {
        return e.status();
    }
    return 0;
}

TEST(RequestFraming, FindsTheEndOfTheHead) {
    FramingLimits limits = small_limits();
    EXPECT_FALSE(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n", limits));
    EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\n\r\nGET", limits), 18u);
}

TEST(RequestFraming, LimitsApplyBeforeTheHeadIsComplete) {
    FramingLimits limits = small_limits();
    try {
        find_head_end("GET /" + std::string(100, 'a'), limits);
        FAIL();
    } catch (const FramingError& e) {
        EXPECT_EQ(e.status(), 414);
    }
    try {
        find_head_end("GET / HTTP/1.1\r\n" + std::string(400, 'a'), limits);
        FAIL();
    } catch (const FramingError& e) {
        EXPECT_EQ(e.status(), 431);
    }
}

TEST(RequestFraming, ParsesAndDropsTheFramingHeaders) {
    RequestHead head = parse_request_head(
        "POST /v1/x?a=1 HTTP/1.1\r\nHost: x\r\ncontent-length: 3\r\nExpect: 100-continue\r\n\r\n",
        small_limits());
    EXPECT_EQ(head.method, "POST");
    EXPECT_EQ(head.target, "/v1/x?a=1");
    EXPECT_EQ(head.content_length, 3u);
    EXPECT_TRUE(head.expect_continue);
    EXPECT_EQ(head.head_lines, std::vector<std::string>{"Host: x"});
    EXPECT_EQ(normalized_request(head, "abc"),
              "POST /v1/x?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
}

TEST(RequestFraming, RefusesAmbiguousFraming) {
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 400);
    EXPECT_EQ(
        status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
        400);
    EXPECT_EQ(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n"), 413);
}

TEST(RequestFraming, RefusesMalformedHeads) {
    EXPECT_EQ(status_of("GET  / HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET x HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/2.0\r\n\r\n"), 505);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\n  folded\r\n\r\n"), 400);
    EXPECT_EQ(status_of(std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 28)), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n"), 431);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nExpect: magic\r\n\r\n"), 417);
}

TEST(ChunkedDecoder, DecodesAcrossArbitrarySplits) {
    std::string body = "4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    for (size_t split = 0; split <= body.size(); ++split) {
        ChunkedDecoder decoder(small_limits());
        size_t used = decoder.feed(std::string_view(body).substr(0, split));
        used += decoder.feed(std::string_view(body).substr(used));
        ASSERT_TRUE(decoder.done()) << split;
        EXPECT_EQ(decoder.body(), "Wikipedia");
        EXPECT_EQ(body.substr(used), "NEXT");
    }
}

TEST(ChunkedDecoder, RefusesOversizedAndMalformedChunks) {
    auto status_of_body = [](const std::string& body) {
        try {
            ChunkedDecoder(small_limits()).feed(body);
        } catch (const FramingError& e) {
            return e.status();
        }
        return 0;
    };
    EXPECT_EQ(status_of_body("11\r\n"), 413);  // 17 bytes announced, 16 allowed: refused before any data
    EXPECT_EQ(status_of_body("8\r\n12345678\r\n9\r\n"), 413);
    EXPECT_EQ(status_of_body("zz\r\n"), 400);
    EXPECT_EQ(status_of_body("2\r\nabc\r\n"), 400);
    EXPECT_EQ(status_of_body("2\nab\r\n"), 400);
    EXPECT_EQ(status_of_body(std::string(2000, '1')), 400);
}

}  // namespace
}  // namespace gptoss
