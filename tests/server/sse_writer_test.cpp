#include "server/sse_writer.h"

#include <gtest/gtest.h>

namespace gptoss {
namespace {

TEST(SseWriter, FramesEventsCommentsAndDone) {
    std::string out;
    SseWriter sse([&](std::string_view bytes) {
        out += bytes;
        return true;
    });
    EXPECT_TRUE(sse.send({{"a", 1}}));
    EXPECT_TRUE(sse.send_keep_alive());
    EXPECT_TRUE(sse.send_done());
    EXPECT_EQ(out, "data: {\"a\":1}\n\n: keep-alive\n\ndata: [DONE]\n\n");
    EXPECT_EQ(sse.num_events(), 3u);
}

TEST(SseWriter, NamedEventsCarryTheirNameLine) {
    std::vector<std::string> writes;
    SseWriter sse([&](std::string_view bytes) {
        writes.emplace_back(bytes);
        return true;
    });
    EXPECT_TRUE(sse.send_event("response.created", {{"type", "response.created"}}));
    ASSERT_EQ(writes.size(), 1u) << "one write per event, name line included";
    EXPECT_EQ(writes[0], "event: response.created\ndata: {\"type\":\"response.created\"}\n\n");
}

TEST(SseWriter, EachEventIsOneWrite) {
    std::vector<std::string> writes;
    SseWriter sse([&](std::string_view bytes) {
        writes.emplace_back(bytes);
        return true;
    });
    sse.send({{"text", "line1\nline2"}});  // JSON escapes the newline: one data line per event
    sse.send_done();
    ASSERT_EQ(writes.size(), 2u);
    EXPECT_EQ(writes[0], "data: {\"text\":\"line1\\nline2\"}\n\n");
}

TEST(SseWriter, StopsAfterAFailedWrite) {
    int calls = 0;
    SseWriter sse([&](std::string_view) { return ++calls < 2; });
    EXPECT_TRUE(sse.send({{"a", 1}}));
    EXPECT_FALSE(sse.send({{"a", 2}}));
    EXPECT_FALSE(sse.ok());
    EXPECT_FALSE(sse.send_done());
    EXPECT_EQ(calls, 2);
}

TEST(FormatSseData, InvalidUtf8IsReplacedNotThrown) {
    std::string bad = "ok\xff\xfe";
    std::string event;
    ASSERT_NO_THROW(event = format_sse_data({{"text", bad}}));
    EXPECT_EQ(event, "data: {\"text\":\"ok\xEF\xBF\xBD\xEF\xBF\xBD\"}\n\n");
}

}  // namespace
}  // namespace gptoss
