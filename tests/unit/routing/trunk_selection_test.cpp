// Trunk selection, health and failover decisions: pure, with time passed in.
#include "routing/failover.hpp"
#include "routing/route_table.hpp"
#include "routing/trunk_health.hpp"
#include "routing/trunk_selection.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace b2b::routing {
namespace {

using namespace std::chrono_literals;
using tp = trunk_selection::time_point;

const tp t0 = tp{} + 1000h;

trunk_selection_policy limits(std::size_t calls, std::uint32_t cps) {
    trunk_selection_policy p;
    p.max_calls = calls;
    p.max_cps = cps;
    return p;
}

TEST(route_rewrite, strips_then_prepends) {
    route r{"0", {"carrier"}, 1, "+49"};
    EXPECT_TRUE(r.rewrites());
    EXPECT_EQ(r.rewrite("03012345"), "+493012345");
    r.strip = 0;
    EXPECT_EQ(r.rewrite("3012345"), "+493012345");
    r.prepend.clear();
    EXPECT_FALSE(r.rewrites());
    EXPECT_EQ(r.rewrite("3012345"), "3012345");
}

TEST(route_rewrite, strip_longer_than_the_number_leaves_only_the_prepend) {
    route r{"", {"carrier"}, 10, "00"};
    EXPECT_EQ(r.rewrite("123"), "00");
    r.prepend.clear();
    EXPECT_EQ(r.rewrite("123"), "");
}

TEST(failover_decision, only_408_and_5xx_fail_over) {
    for (int s : {408, 500, 502, 503, 504, 580}) EXPECT_TRUE(fails_over(s)) << s;
    for (int s : {200, 302, 400, 403, 404, 480, 486, 487, 488, 600, 603, 604}) EXPECT_FALSE(fails_over(s)) << s;
}

TEST(failover_decision, retry_after_takes_the_delta_seconds) {
    EXPECT_EQ(retry_after_seconds("120"), 120s);
    EXPECT_EQ(retry_after_seconds(" 18000;duration=3600"), 18000s);
    EXPECT_EQ(retry_after_seconds("5 (maintenance)"), 5s);
    EXPECT_EQ(retry_after_seconds("99999999999999999999999"), 86400s);  // capped at a day
    EXPECT_EQ(retry_after_seconds("9999999"), 86400s);
    EXPECT_FALSE(retry_after_seconds("soon").has_value());
    EXPECT_FALSE(retry_after_seconds("").has_value());
}

TEST(trunk_selection, picks_the_first_usable_trunk_in_route_order) {
    trunk_selection s({limits(0, 0), limits(0, 0), limits(0, 0)});
    const std::vector<std::size_t> order{2, 0, 1};
    auto c = s.pick(order, 0, t0);
    ASSERT_TRUE(c.position);
    EXPECT_EQ(*c.position, 0u);
    EXPECT_TRUE(c.skipped.empty());
    c = s.pick(order, 1, t0);  // after the first: the next in order
    EXPECT_EQ(*c.position, 1u);
    EXPECT_FALSE(s.pick(order, 3, t0).position);
}

TEST(trunk_selection, max_calls_counts_attempts_until_they_end) {
    trunk_selection s({limits(2, 0), limits(0, 0)});
    const std::vector<std::size_t> order{0, 1};
    EXPECT_EQ(s.take(0, t0), skip_reason::none);
    EXPECT_EQ(s.check(0, t0), skip_reason::none);
    EXPECT_EQ(s.take(0, t0), skip_reason::none);
    EXPECT_EQ(s.check(0, t0), skip_reason::limit);
    auto c = s.pick(order, 0, t0);
    EXPECT_EQ(*c.position, 1u);
    ASSERT_EQ(c.skipped.size(), 1u);
    EXPECT_EQ(c.skipped[0], (std::pair<std::size_t, skip_reason>{0, skip_reason::limit}));
    s.on_attempt_end(0);
    EXPECT_EQ(s.check(0, t0), skip_reason::none);
    s.on_attempt_end(0);
    s.on_attempt_end(0);  // never below zero
    EXPECT_EQ(s.active(0), 0u);
}

TEST(trunk_selection, max_cps_is_a_sliding_second) {
    trunk_selection s({limits(0, 2)});
    EXPECT_EQ(s.take(0, t0), skip_reason::none);
    EXPECT_EQ(s.take(0, t0 + 400ms), skip_reason::none);
    s.on_attempt_end(0);
    s.on_attempt_end(0);  // ended calls still count for cps
    EXPECT_EQ(s.check(0, t0 + 900ms), skip_reason::limit);
    EXPECT_EQ(s.check(0, t0 + 1000ms), skip_reason::none);  // the first start left the window
    EXPECT_EQ(s.take(0, t0 + 1000ms), skip_reason::none);
    EXPECT_EQ(s.check(0, t0 + 1300ms), skip_reason::limit);
    EXPECT_EQ(s.check(0, t0 + 1400ms), skip_reason::none);
}

TEST(trunk_selection, out_of_service_until_the_deadline) {
    trunk_selection s({limits(0, 0)});
    s.take_out_of_service(0, t0 + 30s);
    EXPECT_EQ(s.check(0, t0), skip_reason::out_of_service);
    EXPECT_EQ(s.check(0, t0 + 29999ms), skip_reason::out_of_service);
    EXPECT_EQ(s.check(0, t0 + 30s), skip_reason::none);
    s.take_out_of_service(0, t0 + 60s);
    s.take_out_of_service(0, t0 + 10s);  // a shorter one does not shorten it
    EXPECT_EQ(s.check(0, t0 + 59s), skip_reason::out_of_service);
}

TEST(trunk_selection, down_comes_before_other_reasons) {
    trunk_selection s({limits(1, 0)});
    EXPECT_EQ(s.take(0, t0), skip_reason::none);
    s.take_out_of_service(0, t0 + 5s);
    s.set_up(0, false);
    EXPECT_EQ(s.check(0, t0), skip_reason::down);
    s.set_up(0, true);
    EXPECT_EQ(s.check(0, t0), skip_reason::out_of_service);
    EXPECT_EQ(s.check(0, t0 + 5s), skip_reason::limit);
    EXPECT_EQ(to_string(skip_reason::down), "down");
    EXPECT_EQ(to_string(skip_reason::out_of_service), "out_of_service");
    EXPECT_EQ(to_string(skip_reason::limit), "limit");
}

TEST(trunk_selection, an_emergency_call_passes_limits_but_not_down_or_out_of_service) {
    trunk_selection s({limits(1, 1), limits(0, 0)});
    const std::vector<std::size_t> order{0, 1};
    EXPECT_EQ(s.take(0, t0), skip_reason::none);
    EXPECT_EQ(s.check(0, t0), skip_reason::limit);
    EXPECT_EQ(s.check(0, t0, true), skip_reason::none);
    auto c = s.pick(order, 0, t0, true);
    EXPECT_EQ(*c.position, 0u);
    EXPECT_TRUE(c.skipped.empty());
    s.take_out_of_service(0, t0 + 5s);
    EXPECT_EQ(s.check(0, t0, true), skip_reason::out_of_service);
    s.set_up(0, false);
    EXPECT_EQ(s.check(0, t0 + 5s, true), skip_reason::down);
}

TEST(trunk_selection, take_refuses_what_check_refuses_and_then_takes_nothing) {
    trunk_selection s({limits(1, 0), limits(0, 1)});
    EXPECT_EQ(s.take(0, t0), skip_reason::none);
    EXPECT_EQ(s.take(0, t0), skip_reason::limit);
    EXPECT_EQ(s.active(0), 1u);
    EXPECT_EQ(s.take(1, t0), skip_reason::none);
    EXPECT_EQ(s.take(1, t0 + 500ms), skip_reason::limit);  // max_cps 1
    EXPECT_EQ(s.active(1), 1u);                             // the refused take left no call behind
    EXPECT_EQ(s.take(1, t0 + 500ms, true), skip_reason::none);  // an emergency call passes, and counts
    EXPECT_EQ(s.active(1), 2u);
    s.set_up(1, false);
    EXPECT_EQ(s.take(1, t0 + 5s, true), skip_reason::down);
    EXPECT_EQ(s.active(1), 2u);
}

TEST(trunk_selection, the_event_loops_of_one_process_share_every_trunk) {
    // Two workers' selections over one table: one's calls, 503s and health verdicts hold for the other.
    auto table = std::make_shared<trunk_usage_table>();
    trunk_selection a({limits(2, 0), limits(0, 0)}, table);
    trunk_selection b({limits(2, 0), limits(0, 0)}, table);
    EXPECT_EQ(a.take(0, t0), skip_reason::none);
    EXPECT_EQ(b.take(0, t0), skip_reason::none);
    EXPECT_EQ(a.check(0, t0), skip_reason::limit);
    EXPECT_EQ(b.take(0, t0), skip_reason::limit);
    a.on_attempt_end(0);
    EXPECT_EQ(b.take(0, t0), skip_reason::none);
    a.take_out_of_service(1, t0 + 30s);
    EXPECT_EQ(b.check(1, t0 + 29s), skip_reason::out_of_service);
    b.set_up(1, false);
    EXPECT_FALSE(a.up(1));
    // A trunk added at run time on both is one trunk.
    const auto i = a.add(limits(1, 0));
    EXPECT_EQ(b.add(limits(1, 0)), i);
    EXPECT_EQ(a.take(i, t0), skip_reason::none);
    EXPECT_EQ(b.take(i, t0), skip_reason::limit);
}

TEST(trunk_selection, loops_racing_for_the_last_slots_never_take_more_than_the_limits) {
    auto table = std::make_shared<trunk_usage_table>();
    constexpr int loops = 4;
    std::vector<std::unique_ptr<trunk_selection>> selections;
    for (int i = 0; i < loops; ++i) {
        selections.push_back(std::make_unique<trunk_selection>(
            std::vector<trunk_selection_policy>{limits(100, 0), limits(0, 250)}, table));
    }
    std::atomic<int> calls_taken{0}, starts_taken{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < loops; ++i) {
        threads.emplace_back([&, i] {
            for (int n = 0; n < 1000; ++n) {
                if (selections[i]->take(0, t0) == skip_reason::none) ++calls_taken;
                if (selections[i]->take(1, t0 + 5ms) == skip_reason::none) ++starts_taken;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(calls_taken.load(), 100);
    EXPECT_EQ(starts_taken.load(), 250);
    EXPECT_EQ(selections[0]->active(0), 100u);
}

TEST(call_usage, a_start_leaves_the_window_one_second_later_at_ten_ms_slots) {
    call_usage u;
    EXPECT_EQ(u.try_start(t0, 0, 3), call_usage::verdict::pass);
    EXPECT_EQ(u.try_start(t0 + 10ms, 0, 3), call_usage::verdict::pass);
    EXPECT_EQ(u.try_start(t0 + 990ms, 0, 3), call_usage::verdict::pass);
    EXPECT_EQ(u.check(t0 + 999ms, 0, 3), call_usage::verdict::max_cps);
    EXPECT_EQ(u.starts(t0 + 1000ms), 2u);  // t0's slot left
    EXPECT_EQ(u.try_start(t0 + 1000ms, 0, 3), call_usage::verdict::pass);
    EXPECT_EQ(u.try_start(t0 + 1005ms, 0, 3), call_usage::verdict::max_cps);
    EXPECT_EQ(u.starts(t0 + 1989ms), 2u);  // 990 ms and 1000 ms
    EXPECT_EQ(u.starts(t0 + 1990ms), 1u);  // 1000 ms
    EXPECT_EQ(u.starts(t0 + 5s), 0u);      // slots of past seconds count nothing
    EXPECT_EQ(u.active(), 4u);             // every start taken holds a call, the refused one none
    EXPECT_EQ(u.try_start(t0 + 5s, 5, 3), call_usage::verdict::pass);
    EXPECT_EQ(u.try_start(t0 + 5s, 5, 3), call_usage::verdict::max_calls);
    EXPECT_EQ(u.starts(t0 + 5s), 1u);      // a start refused for max_calls is not counted
    for (int i = 0; i < 7; ++i) u.end();
    EXPECT_EQ(u.active(), 0u);             // never below zero
}

TEST(trunk_health, down_after_n_failures_in_a_row_up_after_m_answers) {
    trunk_health h(3, 2);
    EXPECT_TRUE(h.up());
    EXPECT_FALSE(h.on_ping(false));
    EXPECT_FALSE(h.on_ping(false));
    EXPECT_FALSE(h.on_ping(true));  // the streak is broken
    EXPECT_FALSE(h.on_ping(false));
    EXPECT_FALSE(h.on_ping(false));
    EXPECT_TRUE(h.on_ping(false));
    EXPECT_EQ(h.current(), trunk_health::state::down);
    EXPECT_FALSE(h.on_ping(false));
    EXPECT_FALSE(h.on_ping(true));
    EXPECT_FALSE(h.on_ping(false));  // broken again
    EXPECT_FALSE(h.on_ping(true));
    EXPECT_TRUE(h.on_ping(true));
    EXPECT_TRUE(h.up());
}

TEST(trunk_health, answered_means_any_final_response_but_503_and_408) {
    for (int s : {200, 401, 403, 404, 405, 407, 480, 486, 500, 501, 603}) EXPECT_TRUE(ping_answered(s)) << s;
    for (int s : {0, 100, 180, 408, 503}) EXPECT_FALSE(ping_answered(s)) << s;
}

}  // namespace
}  // namespace b2b::routing
