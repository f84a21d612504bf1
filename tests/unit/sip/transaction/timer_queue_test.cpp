// Tests for timer_queue and the manual_timer_service fake built on it.
#include "sip/transaction/timer_queue.hpp"

#include "tests/fakes/manual_timer_service.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace b2b::sip {
namespace {

using namespace std::chrono_literals;
using time_point = timer_queue::time_point;

const time_point t0 = time_point{} + 1h;

TEST(timer_queue, fires_in_deadline_order) {
    timer_queue q;
    std::string order;
    q.add(t0 + 30ms, [&] { order += 'c'; });
    q.add(t0 + 10ms, [&] { order += 'a'; });
    q.add(t0 + 20ms, [&] { order += 'b'; });
    EXPECT_EQ(q.size(), 3U);
    EXPECT_EQ(q.next_due(), t0 + 10ms);

    EXPECT_EQ(q.run_due(t0 + 5ms), 0U);
    EXPECT_EQ(order, "");
    EXPECT_EQ(q.run_due(t0 + 20ms), 2U);
    EXPECT_EQ(order, "ab");
    EXPECT_EQ(q.size(), 1U);
    EXPECT_EQ(q.run_due(t0 + 1s), 1U);
    EXPECT_EQ(order, "abc");
    EXPECT_EQ(q.size(), 0U);
    EXPECT_FALSE(q.next_due());
}

TEST(timer_queue, ties_fire_in_scheduling_order) {
    timer_queue q;
    std::string order;
    for (char c = 'a'; c <= 'h'; ++c) {
        q.add(t0 + 10ms, [&order, c] { order += c; });
    }
    q.add(t0 + 5ms, [&] { order += '0'; });
    EXPECT_EQ(q.run_due(t0 + 10ms), 9U);
    EXPECT_EQ(order, "0abcdefgh");
}

TEST(timer_queue, cancel_skips_the_timer) {
    timer_queue q;
    std::string order;
    const auto a = q.add(t0 + 10ms, [&] { order += 'a'; });
    const auto b = q.add(t0 + 10ms, [&] { order += 'b'; });
    q.add(t0 + 20ms, [&] { order += 'c'; });
    EXPECT_NE(a, 0U);
    EXPECT_NE(a, b);
    q.cancel(a);
    EXPECT_EQ(q.size(), 2U);
    q.cancel(a);  // twice: nothing
    q.cancel(0);  // never scheduled: nothing
    EXPECT_EQ(q.size(), 2U);
    EXPECT_EQ(q.run_due(t0 + 1s), 2U);
    EXPECT_EQ(order, "bc");
    q.cancel(b);  // already fired: nothing
    EXPECT_EQ(q.size(), 0U);
}

TEST(timer_queue, next_due_skips_cancelled_entries) {
    timer_queue q;
    const auto a = q.add(t0 + 10ms, [] {});
    q.add(t0 + 50ms, [] {});
    q.cancel(a);
    EXPECT_EQ(q.next_due(), t0 + 50ms);
}

TEST(timer_queue, callbacks_may_schedule_timers_that_fire_in_the_same_run) {
    timer_queue q;
    std::vector<std::string> log;
    q.add(t0 + 10ms, [&] {
        log.emplace_back("first");
        q.add(t0 + 10ms, [&] { log.emplace_back("same instant"); });
        q.add(t0 + 15ms, [&] { log.emplace_back("later, still due"); });
        q.add(t0 + 100ms, [&] { log.emplace_back("not due"); });
    });
    q.add(t0 + 12ms, [&] { log.emplace_back("second"); });
    EXPECT_EQ(q.run_due(t0 + 20ms), 4U);
    // Deadline order, whoever scheduled them: the new 10 ms timer precedes the 12 ms one.
    EXPECT_EQ(log, (std::vector<std::string>{"first", "same instant", "second", "later, still due"}));
    EXPECT_EQ(q.size(), 1U);
}

TEST(timer_queue, a_callback_may_cancel_a_later_timer_and_itself) {
    timer_queue q;
    std::string order;
    timer_queue::timer_id victim = 0;
    timer_queue::timer_id self = 0;
    self = q.add(t0 + 10ms, [&] {
        order += 'a';
        q.cancel(victim);
        q.cancel(self);  // already running: harmless
    });
    victim = q.add(t0 + 10ms, [&] { order += 'v'; });
    q.add(t0 + 11ms, [&] { order += 'b'; });
    EXPECT_EQ(q.run_due(t0 + 1s), 2U);
    EXPECT_EQ(order, "ab");
}

TEST(timer_queue, many_cancellations_keep_the_live_timers) {
    // Exercises the heap compaction that cancel() performs when dead entries pile up.
    timer_queue q;
    int fired = 0;
    std::vector<timer_queue::timer_id> ids;
    for (int i = 0; i < 5000; ++i) {
        ids.push_back(q.add(t0 + std::chrono::milliseconds(i % 97), [&] { ++fired; }));
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i % 10 != 0) {
            q.cancel(ids[i]);
        }
    }
    EXPECT_EQ(q.size(), 500U);
    EXPECT_EQ(q.run_due(t0 + 1s), 500U);
    EXPECT_EQ(fired, 500);
}

TEST(manual_timer_service, advance_moves_now_to_each_deadline) {
    test::manual_timer_service clock;
    const auto start = clock.now();
    std::vector<std::chrono::milliseconds> seen;
    auto at = [&] { seen.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - start)); };
    clock.schedule(300ms, at);
    clock.schedule(100ms, [&] {
        at();
        clock.schedule(50ms, at);   // 150 ms
        clock.schedule(0ms, at);    // 100 ms, same advance
    });
    EXPECT_EQ(clock.pending(), 2U);
    EXPECT_EQ(clock.advance(200ms), 3U);
    EXPECT_EQ(seen, (std::vector<std::chrono::milliseconds>{100ms, 100ms, 150ms}));
    EXPECT_EQ(clock.elapsed(), 200ms);
    EXPECT_EQ(clock.pending(), 1U);
    EXPECT_EQ(clock.advance(99ms), 0U);
    EXPECT_EQ(clock.advance(1ms), 1U);
    EXPECT_EQ(seen.back(), 300ms);
    EXPECT_EQ(clock.pending(), 0U);
}

TEST(timer_queue, a_stale_id_never_cancels_the_timer_that_reuses_its_slot) {
    timer_queue q;
    int fired = 0;
    const auto first = q.add(t0 + 10ms, [&] { ++fired; });
    q.cancel(first);
    const auto second = q.add(t0 + 20ms, [&] { fired += 10; });  // takes the freed slot
    EXPECT_NE(second, first);
    EXPECT_NE(second, 0U);
    q.cancel(first);  // stale: nothing happens
    EXPECT_EQ(q.size(), 1U);
    EXPECT_EQ(q.run_due(t0 + 1s), 1U);
    EXPECT_EQ(fired, 10);
    q.cancel(second);  // already fired: nothing happens
    EXPECT_EQ(q.size(), 0U);
}

TEST(manual_timer_service, cancel_and_run_all) {
    test::manual_timer_service clock;
    int fired = 0;
    const auto id = clock.schedule(10ms, [&] { ++fired; });
    clock.schedule(5s, [&] { ++fired; });
    clock.cancel(id);
    EXPECT_EQ(clock.run_all(), 1U);
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(clock.elapsed(), 5s);
}

}  // namespace
}  // namespace b2b::sip
