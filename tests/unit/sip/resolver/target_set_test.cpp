#include "sip/resolver/target_set.hpp"

#include <gtest/gtest.h>

namespace b2b::sip::resolver {
namespace {

using namespace std::chrono_literals;
using time_point = target_set::time_point;

target udp(const char* ip, std::uint16_t port) { return {transport_kind::udp, {boost::asio::ip::make_address(ip), port}}; }

TEST(target_set, fixed_targets_are_never_refreshed) {
    const auto s = target_set::fixed({udp("192.0.2.1", 5060)});
    EXPECT_TRUE(s.is_fixed());
    EXPECT_EQ(s.refresh_at(), time_point::max());
    EXPECT_EQ(s.targets().size(), 1u);
}

TEST(target_set, refresh_when_the_smallest_ttl_runs_out_within_bounds) {
    target_set s;
    const time_point t0{};
    EXPECT_TRUE(s.update({{udp("192.0.2.1", 5060)}, 30s}, t0));
    EXPECT_EQ(s.refresh_at(), t0 + 30s);
    EXPECT_FALSE(s.update({{udp("192.0.2.1", 5060)}, 0s}, t0 + 30s));  // same targets: no change
    EXPECT_EQ(s.refresh_at(), t0 + 31s);                                // TTL 0: not in a loop
    s.update({{udp("192.0.2.1", 5060)}, std::chrono::seconds(7 * 86400)}, t0);
    EXPECT_EQ(s.refresh_at(), t0 + 3600s);
}

TEST(target_set, changed_targets_are_reported) {
    target_set s;
    s.update({{udp("192.0.2.1", 5060)}, 30s}, {});
    EXPECT_TRUE(s.update({{udp("192.0.2.2", 5060)}, 30s}, {}));
    EXPECT_EQ(s.targets(), (std::vector<target>{udp("192.0.2.2", 5060)}));
}

TEST(target_set, failures_keep_the_targets_and_back_off_bounded) {
    target_set s;
    const time_point t0{};
    s.update({{udp("192.0.2.1", 5060)}, 30s}, t0);
    s.on_failure(t0);
    EXPECT_EQ(s.refresh_at(), t0 + 1s);
    s.on_failure(t0);
    EXPECT_EQ(s.refresh_at(), t0 + 2s);
    s.on_failure(t0);
    EXPECT_EQ(s.refresh_at(), t0 + 4s);
    for (int i = 0; i < 20; ++i) s.on_failure(t0);
    EXPECT_EQ(s.refresh_at(), t0 + 60s);
    EXPECT_EQ(s.targets().size(), 1u);  // stale beats none
    // An empty resolution is a failure too; a good one resets the back-off.
    s.update({{}, 30s}, t0);
    EXPECT_EQ(s.refresh_at(), t0 + 60s);
    s.update({{udp("192.0.2.1", 5060)}, 30s}, t0);
    EXPECT_EQ(s.failures_in_a_row(), 0u);
    s.on_failure(t0);
    EXPECT_EQ(s.refresh_at(), t0 + 1s);
}

TEST(target_set, failed_targets_go_last_for_awhile) {
    target_set s;
    const time_point t0{};
    const auto a = udp("192.0.2.1", 5060);
    const auto b = udp("192.0.2.2", 5060);
    const auto c = udp("192.0.2.3", 5060);
    s.update({{a, b, c}, 300s}, t0);
    s.mark_failed(b, t0);
    s.mark_failed(a, t0 + 1s);
    EXPECT_EQ(s.ordered(t0 + 2s), (std::vector<target>{c, b, a}));  // b recovers first
    EXPECT_EQ(s.ordered(t0 + 30s), (std::vector<target>{b, c, a}));  // b's 30 s are over
    EXPECT_EQ(s.ordered(t0 + 31s), (std::vector<target>{a, b, c}));
}

TEST(target_set, marks_of_targets_gone_are_forgotten) {
    target_set s;
    const auto a = udp("192.0.2.1", 5060);
    const auto b = udp("192.0.2.2", 5060);
    s.update({{a, b}, 300s}, {});
    s.mark_failed(a, {});
    s.update({{b}, 300s}, {});
    s.update({{a, b}, 300s}, {});
    EXPECT_EQ(s.ordered({}), (std::vector<target>{a, b}));
}

}  // namespace
}  // namespace b2b::sip::resolver
