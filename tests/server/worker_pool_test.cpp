#include "server/worker_pool.h"

#include <atomic>
#include <future>

#include <gtest/gtest.h>

namespace gptoss {
namespace {

TEST(WorkerPool, RefusesOnceEveryThreadIsBusyAndTheWaitingRoomIsFull) {
    WorkerPool pool(/*max_threads=*/2, /*max_waiting=*/1);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> num_done{0};
    auto blocked = [&] {
        released.wait();
        ++num_done;
    };
    EXPECT_TRUE(pool.try_submit(blocked));
    EXPECT_TRUE(pool.try_submit(blocked));
    EXPECT_TRUE(pool.try_submit(blocked));   // waits for a thread
    EXPECT_FALSE(pool.try_submit(blocked));  // two running, one waiting: refused at once
    release.set_value();
    pool.join();
    EXPECT_EQ(num_done.load(), 3);
    EXPECT_FALSE(pool.try_submit([] {}));  // joined: refuses
}

TEST(WorkerPool, ReusesIdleThreads) {
    WorkerPool pool(/*max_threads=*/1, /*max_waiting=*/0);
    for (int i = 0; i < 20; ++i) {
        std::promise<void> done;
        ASSERT_TRUE(pool.try_submit([&] { done.set_value(); }));
        done.get_future().wait();
        // The thread counts as idle again only after the job returned; wait for that before the next one.
        while (!pool.try_submit([] {})) {
        }
    }
}

}  // namespace
}  // namespace gptoss
