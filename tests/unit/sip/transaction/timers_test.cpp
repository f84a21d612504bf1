// Tests for the pure timer-duration functions of RFC 3261 §17 (detail/timers.hpp).
#include "sip/transaction/detail/timers.hpp"

#include <gtest/gtest.h>

namespace b2b::sip::detail {
namespace {

using namespace std::chrono_literals;

TEST(timers, backoff_doubles_from_t1_and_caps) {
    EXPECT_EQ(backoff(500ms, 0, 4000ms), 500ms);
    EXPECT_EQ(backoff(500ms, 1, 4000ms), 1000ms);
    EXPECT_EQ(backoff(500ms, 2, 4000ms), 2000ms);
    EXPECT_EQ(backoff(500ms, 3, 4000ms), 4000ms);
    EXPECT_EQ(backoff(500ms, 4, 4000ms), 4000ms);
    EXPECT_EQ(backoff(500ms, 1000, 4000ms), 4000ms);
    EXPECT_EQ(backoff(300ms, 2, 1000ms), 1000ms);  // 1200 capped
    EXPECT_EQ(backoff(5000ms, 0, 4000ms), 4000ms);  // T1 above T2: T2
}

TEST(timers, timer_a_is_uncapped_and_saturates) {
    EXPECT_EQ(timer_a(500ms, 0), 500ms);
    EXPECT_EQ(timer_a(500ms, 5), 16000ms);
    EXPECT_EQ(timer_a(500ms, 6), 32000ms);
    EXPECT_GT(timer_a(500ms, 200), 1000h);  // no overflow into a small or negative value
}

TEST(timers, derived_values_for_udp_and_reliable_transports) {
    constexpr timer_values udp{500ms, 4000ms, 5000ms, false};
    constexpr timer_values tcp{500ms, 4000ms, 5000ms, true};
    EXPECT_EQ(udp.timeout(), 32000ms);
    EXPECT_EQ(tcp.timeout(), 32000ms);
    EXPECT_EQ(udp.timer_d(), 32000ms);
    EXPECT_EQ(tcp.timer_d(), 0ms);
    EXPECT_EQ(udp.timer_i(), 5000ms);
    EXPECT_EQ(tcp.timer_i(), 0ms);
    EXPECT_EQ(udp.timer_k(), 5000ms);
    EXPECT_EQ(tcp.timer_k(), 0ms);
    EXPECT_EQ(udp.timer_j(), 32000ms);
    EXPECT_EQ(tcp.timer_j(), 0ms);
    constexpr timer_values slow{2000ms, 8000ms, 5000ms, false};
    EXPECT_EQ(slow.timeout(), 128000ms);
    EXPECT_EQ(slow.timer_d(), 128000ms);  // max(32 s, 64*T1)
}

TEST(timers, names) {
    EXPECT_EQ(to_string(timer_name::a), "A");
    EXPECT_EQ(to_string(timer_name::m), "M");
    EXPECT_EQ(to_string(timer_name::retransmit_2xx), "2xx");
}

}  // namespace
}  // namespace b2b::sip::detail
