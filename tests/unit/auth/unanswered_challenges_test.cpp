// Per-source count of unanswered challenges: threshold, window, clearing and the bound.
#include "auth/unanswered_challenges.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace b2b::auth {
namespace {

using namespace std::chrono_literals;
const std::chrono::system_clock::time_point t0{std::chrono::seconds{1'700'000'000}};
const auto pbx = boost::asio::ip::make_address("10.0.0.1");

TEST(unanswered_challenges, third_within_the_window_reports_once) {
    unanswered_challenges u;
    EXPECT_FALSE(u.on_challenge(pbx, t0));
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 100s));
    EXPECT_TRUE(u.on_challenge(pbx, t0 + 299s));
    EXPECT_EQ(u.count(pbx), 3u);
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 299s));
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 299s));
    // The window restarts at 300 s: three more make one more report.
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 300s));
    EXPECT_EQ(u.count(pbx), 1u);
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 340s));
    EXPECT_TRUE(u.on_challenge(pbx, t0 + 380s));
}

TEST(unanswered_challenges, a_source_reports_once_per_window) {
    unanswered_challenges u;
    EXPECT_FALSE(u.on_challenge(pbx, t0));
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 40s));
    EXPECT_TRUE(u.on_challenge(pbx, t0 + 80s));
    // Well spaced, still unanswered, still within the window: already reported.
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 120s));
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 200s));
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 280s));
}

TEST(unanswered_challenges, challenges_in_flight_together_count_as_one) {
    // A busy PBX: many calls challenged within a second, each answered a moment later.
    unanswered_challenges u;
    for (int i = 0; i < 50; ++i) EXPECT_FALSE(u.on_challenge(pbx, t0 + i * 10ms)) << i;
    EXPECT_EQ(u.count(pbx), 1u);
    u.on_answer(pbx);
    // Only challenges at least answer_time (32 s) apart add up.
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 1s));
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 33s));
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 64s));  // 31 s after the last one counted
    EXPECT_EQ(u.count(pbx), 2u);
    EXPECT_TRUE(u.on_challenge(pbx, t0 + 65s));
}

TEST(unanswered_challenges, slow_challenges_never_report) {
    unanswered_challenges u;
    for (int i = 0; i < 10; ++i) EXPECT_FALSE(u.on_challenge(pbx, t0 + i * 200s)) << i;
}

TEST(unanswered_challenges, an_answer_starts_the_count_over) {
    unanswered_challenges u;
    u.on_challenge(pbx, t0);
    u.on_challenge(pbx, t0 + 40s);
    u.on_answer(pbx);
    EXPECT_EQ(u.count(pbx), 0u);
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 41s));
    EXPECT_FALSE(u.on_challenge(pbx, t0 + 80s));
    EXPECT_TRUE(u.on_challenge(pbx, t0 + 120s));
    u.on_answer(boost::asio::ip::make_address("10.0.0.2"));  // someone else: no effect
    EXPECT_EQ(u.count(pbx), 3u);
}

TEST(unanswered_challenges, sources_are_counted_apart_by_address) {
    unanswered_options o;
    o.answer_time = 0s;
    unanswered_challenges u(o);
    const auto other = boost::asio::ip::make_address("10.0.0.2");
    u.on_challenge(pbx, t0);
    u.on_challenge(other, t0);
    u.on_challenge(pbx, t0);
    EXPECT_FALSE(u.on_challenge(other, t0));
    EXPECT_TRUE(u.on_challenge(pbx, t0));
    // The IPv4-mapped form is the same source.
    EXPECT_TRUE(u.on_challenge(boost::asio::ip::make_address("::ffff:10.0.0.2"), t0));
}

TEST(unanswered_challenges, clock_stepping_back_restarts_the_window) {
    unanswered_challenges u;
    u.on_challenge(pbx, t0);
    u.on_challenge(pbx, t0 + 40s);
    EXPECT_EQ(u.count(pbx), 2u);
    EXPECT_FALSE(u.on_challenge(pbx, t0 - 10s));
    EXPECT_EQ(u.count(pbx), 1u);
}

TEST(unanswered_challenges, one_off_sources_are_bounded_and_never_report) {
    unanswered_challenges u({.capacity = 64, .threshold = 3, .window = 300s, .answer_time = 32s});
    EXPECT_EQ(u.capacity(), 64u);
    for (std::uint32_t i = 0; i < 10000; ++i) {
        const boost::asio::ip::address_v4 spoofed(0xc0000200u + i);
        EXPECT_FALSE(u.on_challenge(spoofed, t0 + std::chrono::milliseconds{i}));
        ASSERT_LE(u.size(), u.capacity());
    }
    EXPECT_EQ(u.size(), u.capacity());
}

TEST(unanswered_challenges, capacity_rounds_up_to_whole_sets_and_bad_options_throw) {
    const auto with = [](std::size_t capacity, unsigned threshold, std::chrono::seconds window,
                         std::chrono::seconds answer_time) {
        return unanswered_options{
            .capacity = capacity, .threshold = threshold, .window = window, .answer_time = answer_time};
    };
    EXPECT_EQ(unanswered_challenges(with(1, 3, 300s, 32s)).capacity(), 8u);
    EXPECT_THROW(unanswered_challenges(with(0, 3, 300s, 32s)), std::invalid_argument);
    EXPECT_THROW(unanswered_challenges(with(8, 0, 300s, 32s)), std::invalid_argument);
    EXPECT_THROW(unanswered_challenges(with(8, 3, 0s, 32s)), std::invalid_argument);
    EXPECT_THROW(unanswered_challenges(with(8, 3, 300s, -1s)), std::invalid_argument);
}

}  // namespace
}  // namespace b2b::auth
