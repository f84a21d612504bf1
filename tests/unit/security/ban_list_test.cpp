// Brute-force bans: failures per source and per username, growing bans, expiry, the bounds.
#include "security/ban_list.hpp"

#include <gtest/gtest.h>

namespace b2b::security {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::make_address;
const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

ban_policy defaults() { return {}; }  // 5 in 60 s; 300 s doubling to 86400 s

TEST(ban_list, the_fifth_failure_within_the_window_bans_the_source_for_the_first_length) {
    ban_list l(defaults());
    const auto a = make_address("192.0.2.66");
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(l.record_failure(a, "pbxuser", t0 + i * 1s)) << i;
    EXPECT_FALSE(l.banned(a, t0 + 4s));
    auto b = l.record_failure(a, "pbxuser", t0 + 4s);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->source, a);
    EXPECT_EQ(b->until, t0 + 4s + 300s);
    EXPECT_EQ(b->count, 1u);
    EXPECT_EQ(b->origin, ban_origin::failures);
    EXPECT_TRUE(l.banned(a, t0 + 5s));
    EXPECT_TRUE(l.banned(make_address("::ffff:192.0.2.66"), t0 + 5s));
    EXPECT_FALSE(l.banned(make_address("192.0.2.67"), t0 + 5s));
    EXPECT_EQ(l.active(), 1u);
    EXPECT_TRUE(l.banned(a, t0 + 303s));
    EXPECT_FALSE(l.banned(a, t0 + 304s));
    EXPECT_EQ(l.active(), 0u);
}

TEST(ban_list, failures_spread_wider_than_the_window_ban_nothing) {
    ban_list l(defaults());
    const auto a = make_address("192.0.2.66");
    for (int i = 0; i < 20; ++i) EXPECT_FALSE(l.record_failure(a, "", t0 + i * 15s)) << i;  // 4 a minute
    EXPECT_EQ(l.active(), 0u);
}

TEST(ban_list, bans_double_each_time_up_to_the_maximum_and_start_afresh_after_a_quiet_spell) {
    ban_policy p = defaults();
    p.first = 300s;
    p.max = 1000s;
    ban_list l(p);
    const auto a = make_address("192.0.2.66");
    auto t = t0;
    auto ban_once = [&] {
        std::optional<ban> b;
        for (int i = 0; i < 5; ++i) b = l.record_failure(a, "", t);
        EXPECT_TRUE(b);
        return b ? b->until - t : 0s;
    };
    EXPECT_EQ(ban_once(), 300s);
    t += 300s;
    EXPECT_EQ(ban_once(), 600s);
    t += 600s;
    EXPECT_EQ(ban_once(), 1000s);  // 1200 capped
    t += 1000s;
    EXPECT_EQ(ban_once(), 1000s);
    t += 1000s + 1001s;  // more than max after the last ban ended
    EXPECT_EQ(ban_once(), 300s);
}

TEST(ban_list, one_username_failing_from_many_sources_bans_the_source_that_crosses_the_limit_not_the_name) {
    ban_list l(defaults());
    for (int i = 1; i <= 4; ++i) {
        EXPECT_FALSE(l.record_failure(boost::asio::ip::make_address_v4(0xc0000200u + static_cast<unsigned>(i)),
                                      "pbxuser", t0));
    }
    const auto fifth = make_address("192.0.2.5");
    auto b = l.record_failure(fifth, "pbxuser", t0 + 1s);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->source, fifth);
    EXPECT_EQ(b->username, "pbxuser");
    EXPECT_FALSE(l.banned(make_address("192.0.2.1"), t0 + 2s));  // its one failure is below the limit
    // While the name's window lasts, another source failing on it is banned at once.
    EXPECT_TRUE(l.record_failure(make_address("192.0.2.9"), "pbxuser", t0 + 2s));
    // Another name is not affected, and the name itself is never refused anything here.
    EXPECT_FALSE(l.record_failure(make_address("192.0.2.10"), "other", t0 + 2s));
    // After the window, the name's count starts again.
    EXPECT_FALSE(l.record_failure(make_address("192.0.2.11"), "pbxuser", t0 + 61s));
}

TEST(ban_list, a_username_is_keyed_by_its_first_octets_only) {
    ban_list l(defaults());
    const std::string huge(60000, 'u');
    for (int i = 1; i <= 4; ++i) {
        EXPECT_FALSE(l.record_failure(boost::asio::ip::make_address_v4(0xc0000200u + static_cast<unsigned>(i)),
                                      huge + std::to_string(i), t0));
    }
    auto b = l.record_failure(make_address("192.0.2.5"), huge, t0);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->username.size(), ban_list::max_username);
}

TEST(ban_list, an_operator_adds_lists_and_removes_bans) {
    ban_list l(defaults());
    const auto a = make_address("198.51.100.7");
    const auto b = make_address("2001:db8::7");
    l.add(a, 60s, t0);
    auto added = l.add(b, 30s, t0);
    EXPECT_EQ(added.origin, ban_origin::manual);
    EXPECT_TRUE(l.banned(a, t0 + 1s));
    auto list = l.bans(t0 + 1s);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].source, b);  // soonest to end first
    EXPECT_EQ(list[1].source, a);
    EXPECT_TRUE(l.remove(a, t0 + 2s));
    EXPECT_FALSE(l.banned(a, t0 + 2s));
    EXPECT_FALSE(l.remove(a, t0 + 2s));
    EXPECT_EQ(l.bans(t0 + 31s).size(), 0u);
    EXPECT_FALSE(l.remove(b, t0 + 31s));  // it ran out
}

TEST(ban_list, a_ban_replaced_by_an_operator_keeps_one_entry) {
    ban_list l(defaults());
    const auto a = make_address("192.0.2.66");
    for (int i = 0; i < 5; ++i) l.record_failure(a, "", t0);
    l.add(a, 10s, t0);
    EXPECT_EQ(l.active(), 1u);
    EXPECT_FALSE(l.banned(a, t0 + 11s));
    EXPECT_EQ(l.active(), 0u);
}

TEST(ban_list, the_table_is_bounded_and_an_evicted_ban_leaves_the_active_count) {
    ban_policy p = defaults();
    p.max_entries = 16;
    p.failures = 1;
    ban_list l(p);
    for (unsigned i = 0; i < 40; ++i) l.record_failure(boost::asio::ip::make_address_v4(0x0a000000u + i), "", t0);
    EXPECT_EQ(l.active(), 16u);
    EXPECT_EQ(l.bans(t0).size(), 16u);
    EXPECT_GE(l.evictions(), 24u);
    // The most recent stay.
    EXPECT_TRUE(l.banned(boost::asio::ip::make_address_v4(0x0a000000u + 39), t0));
    EXPECT_FALSE(l.banned(boost::asio::ip::make_address_v4(0x0a000000u), t0));
}

TEST(ban_list, expire_lifts_what_ran_out) {
    ban_list l(defaults());
    l.add(make_address("192.0.2.1"), 10s, t0);
    l.add(make_address("192.0.2.2"), 20s, t0);
    EXPECT_EQ(l.expire(t0 + 10s), 1u);
    EXPECT_EQ(l.active(), 1u);
    EXPECT_EQ(l.expire(t0 + 30s), 1u);
    EXPECT_EQ(l.active(), 0u);
}

}  // namespace
}  // namespace b2b::security
