// The loop's account of a stall: the kernel's per-thread times, and their split of a late interval.
#include "b2bua/thread_times.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace b2b::b2bua {
namespace {

using namespace std::chrono_literals;

TEST(stall_account, splits_the_wall_time_into_running_waiting_and_off) {
    const thread_times before{100ms, 40ms};
    const thread_times after{112ms, 45ms};
    const auto a = account_between(before, after, 1363ms);
    EXPECT_EQ(a.on_cpu, 12ms);
    EXPECT_EQ(a.waiting, 5ms);
    EXPECT_EQ(a.off(), 1346ms);
    EXPECT_EQ(describe(a),
              "ran 12 ms, waited 5 ms for a CPU, off 1346 ms (blocked in a system call or a page fault, or the "
              "machine paused)");
}

TEST(stall_account, a_reading_ahead_of_the_wall_clock_is_clamped_to_it) {
    // The kernel updates the counters at ticks and switches: they may run a little ahead.
    const auto a = account_between(thread_times{0ms, 0ms}, thread_times{30ms, 10ms}, 25ms);
    EXPECT_EQ(a.on_cpu, 25ms);
    EXPECT_EQ(a.waiting, 0ms);
    EXPECT_EQ(a.off(), 0ms);
    const auto backwards = account_between(thread_times{30ms, 10ms}, thread_times{20ms, 5ms}, 25ms);
    EXPECT_EQ(backwards.on_cpu, 0ms);
    EXPECT_EQ(backwards.waiting, 0ms);
    EXPECT_EQ(backwards.off(), 25ms);
}

TEST(thread_clock, counts_the_calling_threads_cpu_time_and_not_its_sleep) {
    const thread_clock clock;
    const auto start = clock.read();
    ASSERT_TRUE(start.has_value()) << "/proc/thread-self/schedstat is not readable";
    // Work until the kernel has counted 5 ms more on a CPU (bounded: 10 s of wall time).
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    volatile std::uint64_t sink = 0;
    auto now = clock.read();
    while (now && now->on_cpu - start->on_cpu < 5ms && std::chrono::steady_clock::now() < give_up) {
        for (int i = 0; i < 100000; ++i) sink = sink + i;
        now = clock.read();
    }
    ASSERT_TRUE(now.has_value());
    EXPECT_GE(now->on_cpu - start->on_cpu, 5ms);
    // A sleep is neither running nor waiting for a CPU.
    const auto before_sleep = clock.read();
    std::this_thread::sleep_for(200ms);
    const auto after_sleep = clock.read();
    ASSERT_TRUE(before_sleep && after_sleep);
    EXPECT_LT(after_sleep->on_cpu - before_sleep->on_cpu, 100ms);
    // Another thread's clock reads that thread, not this one.
    std::optional<thread_times> other;
    std::thread([&] { other = thread_clock().read(); }).join();
    ASSERT_TRUE(other.has_value());
    EXPECT_LT(other->on_cpu, now->on_cpu);
}

}  // namespace
}  // namespace b2b::b2bua
