// Tests for retry_backoff: the waits between registration attempts that failed.
#include "registration/backoff.hpp"

#include <gtest/gtest.h>

namespace b2b::registration {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr double no_jitter = 0.5;  // factor 1.0

TEST(retry_backoff, transient_failures_start_at_5_s_and_double_up_to_5_min) {
    retry_backoff b;
    const milliseconds expected[] = {5s, 10s, 20s, 40s, 80s, 160s, 300s, 300s, 300s};
    for (const auto e : expected) EXPECT_EQ(b.next(failure_kind::transient, std::nullopt, no_jitter), e);
    EXPECT_EQ(b.failures(failure_kind::transient), 9U);
}

TEST(retry_backoff, credential_failures_start_at_10_min_and_double_up_to_1_h) {
    retry_backoff b;
    const milliseconds expected[] = {600s, 1200s, 2400s, 3600s, 3600s};
    for (const auto e : expected) EXPECT_EQ(b.next(failure_kind::credentials, std::nullopt, no_jitter), e);
}

TEST(retry_backoff, each_kind_counts_its_own_failures) {
    retry_backoff b;
    EXPECT_EQ(b.next(failure_kind::transient, std::nullopt, no_jitter), 5s);
    EXPECT_EQ(b.next(failure_kind::transient, std::nullopt, no_jitter), 10s);
    EXPECT_EQ(b.next(failure_kind::credentials, std::nullopt, no_jitter), 600s);
    EXPECT_EQ(b.next(failure_kind::transient, std::nullopt, no_jitter), 20s);
    EXPECT_EQ(b.failures(failure_kind::credentials), 1U);
    EXPECT_EQ(b.failures(failure_kind::transient), 3U);
}

TEST(retry_backoff, jitter_stays_within_ten_percent) {
    retry_backoff low;
    retry_backoff high;
    retry_backoff mid;
    for (int i = 0; i < 12; ++i) {
        const auto lo = low.next(failure_kind::transient, std::nullopt, 0.0);
        const auto hi = high.next(failure_kind::transient, std::nullopt, 0.999999);
        const auto base = mid.next(failure_kind::transient, std::nullopt, no_jitter);
        EXPECT_EQ(lo, base * 9 / 10);
        EXPECT_LT(hi, base * 11 / 10);
        EXPECT_GT(hi, base * 109 / 100);
    }
}

TEST(retry_backoff, the_cap_holds_before_the_jitter) {
    retry_backoff b;
    milliseconds last{};
    for (int i = 0; i < 40; ++i) last = b.next(failure_kind::transient, std::nullopt, 0.999999);
    EXPECT_LT(last, 330s);  // 300 s, at most +10 %, however many failures (no overflow)
    EXPECT_GT(last, 320s);
}

TEST(retry_backoff, a_success_starts_both_kinds_again) {
    retry_backoff b;
    (void)b.next(failure_kind::transient, std::nullopt, no_jitter);
    (void)b.next(failure_kind::transient, std::nullopt, no_jitter);
    (void)b.next(failure_kind::credentials, std::nullopt, no_jitter);
    b.reset();
    EXPECT_EQ(b.failures(failure_kind::transient), 0U);
    EXPECT_EQ(b.failures(failure_kind::credentials), 0U);
    EXPECT_EQ(b.next(failure_kind::transient, std::nullopt, no_jitter), 5s);
    EXPECT_EQ(b.next(failure_kind::credentials, std::nullopt, no_jitter), 600s);
}

TEST(retry_backoff, retry_after_is_a_floor_never_a_ceiling) {
    retry_backoff b;
    EXPECT_EQ(b.next(failure_kind::transient, 120s, no_jitter), 120s);  // 5 s asked, 120 s honoured
    EXPECT_EQ(b.next(failure_kind::transient, 1s, no_jitter), 10s);     // shorter: the back-off holds
    EXPECT_EQ(b.failures(failure_kind::transient), 2U);
    EXPECT_EQ(b.next(failure_kind::credentials, 7200s, 0.0), 7200s);    // above the cap too
}

TEST(retry_backoff, the_policy_is_configurable) {
    retry_backoff b(backoff_policy{1s, 3s, 2s, 4s});
    EXPECT_EQ(b.next(failure_kind::transient, std::nullopt, no_jitter), 1s);
    EXPECT_EQ(b.next(failure_kind::transient, std::nullopt, no_jitter), 2s);
    EXPECT_EQ(b.next(failure_kind::transient, std::nullopt, no_jitter), 3s);
    EXPECT_EQ(b.next(failure_kind::credentials, std::nullopt, no_jitter), 2s);
    EXPECT_EQ(b.next(failure_kind::credentials, std::nullopt, no_jitter), 4s);
}

}  // namespace
}  // namespace b2b::registration
