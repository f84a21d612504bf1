// Per-source token buckets: the rate, the burst, refill, sources apart, the bounded table.
#include "security/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace b2b::security {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::make_address;
const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

TEST(rate_limiter, a_burst_of_the_rate_passes_then_the_rest_is_refused) {
    rate_limiter r(10, 100);
    const auto a = make_address("192.0.2.1");
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(r.allow(a, t0)) << i;
    EXPECT_FALSE(r.allow(a, t0));
    EXPECT_FALSE(r.allow(a, t0 + 50ms));  // half a token
    EXPECT_TRUE(r.allow(a, t0 + 100ms));   // one token back
    EXPECT_FALSE(r.allow(a, t0 + 100ms));
}

TEST(rate_limiter, a_steady_rate_at_the_limit_passes_and_twice_it_loses_half) {
    rate_limiter r(100, 100);
    const auto a = make_address("192.0.2.1");
    int passed = 0;
    for (int i = 0; i < 1000; ++i) passed += r.allow(a, t0 + i * 10ms);  // 100/s for 10 s
    EXPECT_EQ(passed, 1000);
    passed = 0;
    const auto t1 = t0 + 20s;
    for (int i = 0; i < 2000; ++i) passed += r.allow(a, t1 + i * 5ms);  // 200/s for 10 s
    // The full bucket (100) plus 100 a second for 10 s.
    EXPECT_NEAR(passed, 1100, 2);
}

TEST(rate_limiter, sources_are_apart_and_a_mapped_ipv4_address_is_the_same_source) {
    rate_limiter r(2, 100);
    const auto a = make_address("192.0.2.1");
    EXPECT_TRUE(r.allow(a, t0));
    EXPECT_TRUE(r.allow(make_address("::ffff:192.0.2.1"), t0));
    EXPECT_FALSE(r.allow(a, t0));
    EXPECT_TRUE(r.allow(make_address("192.0.2.2"), t0));
    EXPECT_EQ(r.tracked(), 2u);
}

TEST(rate_limiter, the_table_is_bounded_and_forgets_the_least_recent_source) {
    rate_limiter r(1, 16);
    const auto first = make_address("10.0.0.1");
    EXPECT_TRUE(r.allow(first, t0));
    EXPECT_FALSE(r.allow(first, t0));
    for (int i = 2; i <= 17; ++i) {
        EXPECT_TRUE(r.allow(boost::asio::ip::make_address_v4(0x0a000000u + static_cast<unsigned>(i)), t0));
    }
    EXPECT_EQ(r.tracked(), 16u);
    EXPECT_EQ(r.evictions(), 1u);
    EXPECT_TRUE(r.allow(first, t0));  // forgotten: a full bucket again
}

TEST(rate_limiter, zero_is_no_limit) {
    rate_limiter r(0, 16);
    for (int i = 0; i < 10000; ++i) ASSERT_TRUE(r.allow(make_address("192.0.2.1"), t0));
    EXPECT_EQ(r.tracked(), 0u);
}

}  // namespace
}  // namespace b2b::security
