#include "server/worker_pool.h"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

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
    // One thread serves 20 jobs in turn: each is accepted once the previous one has returned (a submit may
    // be refused in the moment between a job's end and its thread counting as idle again, never after).
    WorkerPool pool(/*max_threads=*/1, /*max_waiting=*/0);
    std::atomic<int> num_done{0};
    for (int i = 0; i < 20; ++i) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!pool.try_submit([&] { ++num_done; })) {
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the idle thread was never reused";
            std::this_thread::yield();
        }
        while (num_done.load() <= i) std::this_thread::yield();
    }
    pool.join();
    EXPECT_EQ(num_done.load(), 20);
}

}  // namespace
}  // namespace gptoss
