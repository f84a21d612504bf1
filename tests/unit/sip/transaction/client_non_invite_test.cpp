// Tests for the sans-I/O non-INVITE client transaction (RFC 3261 §17.1.2).
#include "sip/transaction/detail/client_non_invite.hpp"

#include "machine_driver.hpp"

#include <gtest/gtest.h>

namespace b2b::sip {
namespace {

using namespace std::chrono_literals;
using detail::action_kind;
using detail::client_non_invite;
using detail::event;
using detail::timer_name;
using std::chrono::milliseconds;
using driver = test_support::machine_driver<client_non_invite>;
using times = std::vector<milliseconds>;

using test_support::tcp;
using test_support::udp;

TEST(client_non_invite, timer_e_doubles_up_to_t2_until_timer_f) {
    driver d(udp);
    d.post(event::started());
    d.clock.advance(31999ms);
    EXPECT_TRUE(d.failures.empty());
    d.clock.advance(1ms);
    EXPECT_EQ(d.send_times(action_kind::send_request),
              (times{0ms, 500ms, 1500ms, 3500ms, 7500ms, 11500ms, 15500ms, 19500ms, 23500ms,
                     27500ms, 31500ms}));
    ASSERT_EQ(d.failures.size(), 1U);
    EXPECT_EQ(d.failures[0], transaction_failure::timeout);
    EXPECT_EQ(d.machine.current(), client_non_invite::state::terminated);
    EXPECT_EQ(d.clock.pending(), 0U);
    d.clock.advance(60s);
    EXPECT_EQ(d.failures.size(), 1U);
}

TEST(client_non_invite, smaller_t2_caps_sooner) {
    driver d({500ms, 1000ms, 5000ms, false});
    d.post(event::started());
    d.clock.advance(4999ms);
    EXPECT_EQ(d.send_times(action_kind::send_request),
              (times{0ms, 500ms, 1500ms, 2500ms, 3500ms, 4500ms}));
}

TEST(client_non_invite, after_a_provisional_timer_e_fires_every_t2) {
    driver d(udp);
    d.post(event::started());
    d.clock.advance(600ms);
    d.post(event::response_received(100));
    EXPECT_EQ(d.machine.current(), client_non_invite::state::proceeding);
    EXPECT_EQ(d.passed, 1);
    d.clock.advance(20s);
    // The E pending at the 1xx still fires at 1.5 s; from then on every T2 = 4 s.
    EXPECT_EQ(d.send_times(action_kind::send_request),
              (times{0ms, 500ms, 1500ms, 5500ms, 9500ms, 13500ms, 17500ms}));
    d.clock.advance(12s);  // Timer F: 32 s from the start
    EXPECT_EQ(d.failures, (std::vector{transaction_failure::timeout}));
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(client_non_invite, final_response_completes_and_timer_k_absorbs_retransmissions) {
    driver d(udp);
    d.post(event::started());
    d.clock.advance(700ms);
    d.post(event::response_received(200));
    EXPECT_EQ(d.machine.current(), client_non_invite::state::completed);
    EXPECT_EQ(d.passed, 1);
    d.post(event::response_received(200));
    d.post(event::response_received(180));
    EXPECT_EQ(d.passed, 1);
    EXPECT_EQ(d.absorbed, 2);
    d.clock.advance(4999ms);  // Timer K = T4
    EXPECT_EQ(d.machine.current(), client_non_invite::state::completed);
    d.clock.advance(1ms);
    EXPECT_EQ(d.machine.current(), client_non_invite::state::terminated);
    EXPECT_EQ(d.send_times(action_kind::send_request), (times{0ms, 500ms}));
    EXPECT_TRUE(d.failures.empty());
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(client_non_invite, reliable_sends_once_and_timer_k_is_zero) {
    driver d(tcp);
    d.post(event::started());
    d.clock.advance(10s);
    EXPECT_EQ(d.send_times(action_kind::send_request), (times{0ms}));
    d.post(event::response_received(481));
    EXPECT_EQ(d.passed, 1);
    EXPECT_EQ(d.terminations, 1);
    EXPECT_EQ(d.clock.pending(), 0U);
    EXPECT_TRUE(d.failures.empty());
}

TEST(client_non_invite, reliable_times_out_with_timer_f) {
    driver d(tcp);
    d.post(event::started());
    d.clock.advance(32s);
    EXPECT_EQ(d.failures, (std::vector{transaction_failure::timeout}));
    EXPECT_EQ(d.sends.size(), 1U);
}

TEST(client_non_invite, transport_error_fails_once) {
    driver d(udp);
    d.post(event::started());
    d.post(event::response_received(183));
    d.post(event::transport_failed());
    d.post(event::transport_failed());
    EXPECT_EQ(d.failures, (std::vector{transaction_failure::transport_error}));
    EXPECT_EQ(d.terminations, 1);
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(client_non_invite, late_timers_do_nothing) {
    client_non_invite m(udp);
    m.on_event(event::started());
    m.on_event(event::response_received(200));
    EXPECT_TRUE(m.on_event(event::fired(timer_name::e)).empty());
    EXPECT_TRUE(m.on_event(event::fired(timer_name::f)).empty());
    EXPECT_TRUE(m.on_event(event::transport_failed()).empty());
    EXPECT_EQ(m.current(), client_non_invite::state::completed);
}

}  // namespace
}  // namespace b2b::sip
