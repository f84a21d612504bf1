#include "sip/transport/detail/log_throttle.hpp"

#include <gtest/gtest.h>

namespace b2b::sip::detail {
namespace {

using namespace std::chrono_literals;

TEST(log_throttle, first_logged_then_counted_until_the_interval_passes) {
    log_throttle t(10s);
    const log_throttle::clock::time_point t0{1h};
    EXPECT_EQ(t.admit(t0), 0u);
    EXPECT_FALSE(t.admit(t0 + 1s));
    EXPECT_FALSE(t.admit(t0 + 9s));
    EXPECT_EQ(t.admit(t0 + 10s), 2u) << "the line after the interval says how many went unlogged";
    EXPECT_FALSE(t.admit(t0 + 11s));
    EXPECT_EQ(t.admit(t0 + 30s), 1u);
    EXPECT_EQ(t.admit(t0 + 60s), 0u);
}

TEST(log_throttle, a_flood_costs_one_line_per_interval) {
    log_throttle t(10s);
    const log_throttle::clock::time_point t0{1h};
    int lines = 0;
    std::size_t reported = 0;
    for (int i = 0; i < 3000; ++i) {
        if (auto n = t.admit(t0 + std::chrono::milliseconds(i * 10))) {  // 30 s of 100 a second
            ++lines;
            reported += *n + 1;
        }
    }
    EXPECT_EQ(lines, 3);
    EXPECT_EQ(reported + 999, 3000u) << "the last interval's occurrences are reported by the next line";
}

}  // namespace
}  // namespace b2b::sip::detail
