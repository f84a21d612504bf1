// Trunk selection, health and failover decisions: pure, with time passed in.
#include "routing/failover.hpp"
#include "routing/route_table.hpp"
#include "routing/trunk_health.hpp"
#include "routing/trunk_selection.hpp"

#include <gtest/gtest.h>

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
    s.on_attempt(0, t0);
    EXPECT_EQ(s.check(0, t0), skip_reason::none);
    s.on_attempt(0, t0);
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
    s.on_attempt(0, t0);
    s.on_attempt(0, t0 + 400ms);
    s.on_attempt_end(0);
    s.on_attempt_end(0);  // ended calls still count for cps
    EXPECT_EQ(s.check(0, t0 + 900ms), skip_reason::limit);
    EXPECT_EQ(s.check(0, t0 + 1000ms), skip_reason::none);  // the first start left the window
    s.on_attempt(0, t0 + 1000ms);
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
    s.on_attempt(0, t0);
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
    s.on_attempt(0, t0);
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
