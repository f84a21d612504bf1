// Tests for the sans-I/O INVITE server transaction (RFC 3261 §17.2.1, §13.3.1.4, RFC 6026).
#include "sip/transaction/detail/server_invite.hpp"

#include "machine_driver.hpp"

#include <gtest/gtest.h>

namespace b2b::sip {
namespace {

using namespace std::chrono_literals;
using detail::action_kind;
using detail::event;
using detail::server_invite;
using detail::timer_name;
using std::chrono::milliseconds;
using driver = test_support::machine_driver<server_invite>;
using times = std::vector<milliseconds>;

using test_support::tcp;
using test_support::udp;

TEST(server_invite, request_goes_up_and_retransmissions_repeat_the_latest_response) {
    driver d(udp);
    d.post(event::started());
    EXPECT_EQ(d.passed, 1);
    d.post(event::request_received());  // before any response: nothing to repeat
    EXPECT_TRUE(d.sends.empty());
    EXPECT_EQ(d.absorbed, 1);
    EXPECT_EQ(d.passed, 1);

    d.post(event::tu_sends(100));
    EXPECT_EQ(d.machine.current(), server_invite::state::proceeding);
    d.post(event::request_received());
    ASSERT_EQ(d.sends.size(), 2U);
    EXPECT_FALSE(d.sends[0].retransmission);
    EXPECT_TRUE(d.sends[1].retransmission);
    EXPECT_EQ(d.absorbed, 2);
    EXPECT_EQ(d.passed, 1);
    EXPECT_EQ(d.clock.pending(), 0U);  // Proceeding runs no timer
}

TEST(server_invite, non_2xx_retransmits_with_timer_g_until_the_ack) {
    driver d(udp);
    d.post(event::started());
    d.post(event::tu_sends(486));
    EXPECT_EQ(d.machine.current(), server_invite::state::completed);
    EXPECT_TRUE(d.machine.has_final());
    d.clock.advance(9s);
    EXPECT_EQ(d.send_times(action_kind::send_response),
              (times{0ms, 500ms, 1500ms, 3500ms, 7500ms}));
    d.post(event::request_received());  // a retransmitted INVITE gets the 486 again
    EXPECT_EQ(d.sends.size(), 6U);

    d.post(event::ack_received());
    EXPECT_EQ(d.machine.current(), server_invite::state::confirmed);
    d.post(event::ack_received());  // ACK retransmissions are absorbed in Confirmed
    EXPECT_EQ(d.machine.current(), server_invite::state::confirmed);
    d.clock.advance(4999ms);  // Timer I = T4
    EXPECT_EQ(d.machine.current(), server_invite::state::confirmed);
    d.clock.advance(1ms);
    EXPECT_EQ(d.machine.current(), server_invite::state::terminated);
    EXPECT_EQ(d.sends.size(), 6U);  // G stopped by the ACK
    EXPECT_TRUE(d.failures.empty());
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(server_invite, timer_h_without_ack_reports_failure) {
    driver d(udp);
    d.post(event::started());
    d.post(event::tu_sends(404));
    d.clock.advance(31999ms);
    EXPECT_TRUE(d.failures.empty());
    d.clock.advance(1ms);
    EXPECT_EQ(d.send_times(action_kind::send_response),
              (times{0ms, 500ms, 1500ms, 3500ms, 7500ms, 11500ms, 15500ms, 19500ms, 23500ms,
                     27500ms, 31500ms}));
    EXPECT_EQ(d.failures, (std::vector{transaction_failure::no_ack}));
    EXPECT_EQ(d.machine.current(), server_invite::state::terminated);
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(server_invite, reliable_non_2xx_has_no_timer_g_and_timer_i_is_zero) {
    driver d(tcp);
    d.post(event::started());
    d.post(event::tu_sends(480));
    d.clock.advance(10s);
    EXPECT_EQ(d.sends.size(), 1U);
    d.post(event::ack_received());
    EXPECT_EQ(d.terminations, 1);
    EXPECT_TRUE(d.failures.empty());
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(server_invite, reliable_timer_h_still_applies) {
    driver d(tcp);
    d.post(event::started());
    d.post(event::tu_sends(480));
    d.clock.advance(32s);
    EXPECT_EQ(d.failures, (std::vector{transaction_failure::no_ack}));
}

TEST(server_invite, 2xx_retransmits_t1_doubling_to_t2_until_the_tu_sees_the_ack) {
    driver d(udp);
    d.post(event::started());
    d.post(event::tu_sends(180));
    d.clock.advance(1s);
    d.post(event::tu_sends(200));
    EXPECT_EQ(d.machine.current(), server_invite::state::accepted);
    d.clock.advance(16s);
    EXPECT_EQ(d.send_times(action_kind::send_response),
              (times{0ms, 1000ms, 1500ms, 2500ms, 4500ms, 8500ms, 12500ms, 16500ms}));

    d.post(event::request_received());  // RFC 6026: absorbed in Accepted
    EXPECT_EQ(d.sends.size(), 8U);
    EXPECT_EQ(d.absorbed, 1);
    d.post(event::ack_received());  // an ACK that matched: up to the TU
    EXPECT_EQ(d.passed, 2);

    d.post(event::tu_acked());
    d.clock.advance(15999ms);  // Timer L = 64*T1 after the 2xx, at 33 s
    EXPECT_EQ(d.sends.size(), 8U);  // no more retransmissions
    EXPECT_EQ(d.machine.current(), server_invite::state::accepted);
    d.clock.advance(1ms);
    EXPECT_EQ(d.machine.current(), server_invite::state::terminated);
    EXPECT_TRUE(d.failures.empty());
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(server_invite, 2xx_never_acked_reports_no_ack_at_timer_l) {
    driver d(udp);
    d.post(event::started());
    d.post(event::tu_sends(200));
    d.clock.advance(31999ms);
    EXPECT_TRUE(d.failures.empty());
    d.clock.advance(1ms);
    EXPECT_EQ(d.failures, (std::vector{transaction_failure::no_ack}));
    EXPECT_EQ(d.send_times(action_kind::send_response),
              (times{0ms, 500ms, 1500ms, 3500ms, 7500ms, 11500ms, 15500ms, 19500ms, 23500ms,
                     27500ms, 31500ms}));
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(server_invite, 2xx_is_retransmitted_over_reliable_transports_too) {
    // §13.3.1.4: "independent of whatever transport protocols are used".
    driver d(tcp);
    d.post(event::started());
    d.post(event::tu_sends(200));
    d.clock.advance(2s);
    EXPECT_EQ(d.send_times(action_kind::send_response), (times{0ms, 500ms, 1500ms}));
    d.post(event::tu_acked());
    d.clock.advance(40s);
    EXPECT_EQ(d.sends.size(), 3U);
    EXPECT_TRUE(d.failures.empty());
}

TEST(server_invite, transport_error_on_the_final_response_fails) {
    driver d(tcp);
    d.post(event::started());
    d.fail_sends = 1;
    d.post(event::tu_sends(486));
    EXPECT_EQ(d.failures, (std::vector{transaction_failure::transport_error}));
    EXPECT_EQ(d.terminations, 1);
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(server_invite, transport_error_on_a_2xx_retransmission_fails) {
    driver d(udp);
    d.post(event::started());
    d.post(event::tu_sends(200));
    d.fail_sends = 1;
    d.clock.advance(500ms);
    EXPECT_EQ(d.failures, (std::vector{transaction_failure::transport_error}));
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(server_invite, second_final_response_and_late_timers_do_nothing) {
    server_invite m(udp);
    m.on_event(event::started());
    m.on_event(event::tu_sends(486));
    EXPECT_TRUE(m.on_event(event::tu_sends(200)).empty());
    EXPECT_TRUE(m.on_event(event::fired(timer_name::l)).empty());
    EXPECT_TRUE(m.on_event(event::fired(timer_name::retransmit_2xx)).empty());
    EXPECT_TRUE(m.on_event(event::fired(timer_name::i)).empty());
    EXPECT_TRUE(m.on_event(event::tu_acked()).empty());
    EXPECT_EQ(m.current(), server_invite::state::completed);
    m.on_event(event::ack_received());
    EXPECT_TRUE(m.on_event(event::fired(timer_name::g)).empty());
    EXPECT_TRUE(m.on_event(event::fired(timer_name::h)).empty());
    EXPECT_EQ(m.current(), server_invite::state::confirmed);
}

}  // namespace
}  // namespace b2b::sip
