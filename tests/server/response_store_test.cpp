// ResponseStore (server/response_store.cpp): LRU eviction, touch on read, delete, the in-flight registry.
#include <gtest/gtest.h>

#include "server/response_store.h"

namespace gptoss {
namespace {

StoredResponse named(const std::string& id) {
    return {{{"id", id}}, {}};
}

TEST(ResponseStore, EvictsTheLeastRecentlyUsedBeyondCapacity) {
    ResponseStore store(2);
    store.put("a", named("a"));
    store.put("b", named("b"));
    ASSERT_NE(store.get("a"), nullptr);  // a is now more recent than b
    store.put("c", named("c"));
    EXPECT_EQ(store.size(), 2u);
    EXPECT_EQ(store.get("b"), nullptr);
    EXPECT_NE(store.get("a"), nullptr);
    EXPECT_EQ(store.get("c")->response["id"], "c");
}

TEST(ResponseStore, PutReplacesAndEraseRemoves) {
    ResponseStore store(2);
    store.put("a", {{{"status", "in_progress"}}, {}});
    store.put("a", {{{"status", "completed"}}, {}});
    EXPECT_EQ(store.size(), 1u);
    EXPECT_EQ(store.get("a")->response["status"], "completed");
    EXPECT_TRUE(store.erase("a"));
    EXPECT_FALSE(store.erase("a"));
    EXPECT_EQ(store.get("a"), nullptr);
}

TEST(ResponseStore, CapacityZeroKeepsNothing) {
    ResponseStore store(0);
    store.put("a", named("a"));
    EXPECT_EQ(store.get("a"), nullptr);
}

TEST(ResponseStore, CancelCallsTheInFlightAbortUntilGenerationEnds) {
    ResponseStore store(1);
    int cancelled = 0;
    EXPECT_FALSE(store.cancel("a"));
    store.begin_generation("a", [&] { ++cancelled; });
    EXPECT_TRUE(store.cancel("a"));
    EXPECT_EQ(cancelled, 1);
    store.end_generation("a");
    EXPECT_FALSE(store.cancel("a"));
    EXPECT_EQ(cancelled, 1);
}

}  // namespace
}  // namespace gptoss
