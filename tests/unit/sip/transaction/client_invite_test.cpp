// Tests for the sans-I/O INVITE client transaction (RFC 3261 §17.1.1, RFC 6026).
#include "sip/transaction/detail/client_invite.hpp"

#include "machine_driver.hpp"

#include <gtest/gtest.h>

namespace b2b::sip {
namespace {

using namespace std::chrono_literals;
using detail::action_kind;
using detail::client_invite;
using detail::event;
using detail::timer_name;
using std::chrono::milliseconds;
using driver = test_support::machine_driver<client_invite>;
using times = std::vector<milliseconds>;

using test_support::tcp;
using test_support::udp;

TEST(client_invite, udp_retransmits_with_timer_a_until_timer_b) {
    driver d(udp);
    d.post(event::started());
    d.clock.advance(31999ms);
    EXPECT_TRUE(d.failures.empty());
    EXPECT_EQ(d.machine.current(), client_invite::state::calling);

    d.clock.advance(1ms);  // Timer B = 64*T1 = 32 s
    EXPECT_EQ(d.send_times(action_kind::send_request),
              (times{0ms, 500ms, 1500ms, 3500ms, 7500ms, 15500ms, 31500ms}));
    ASSERT_EQ(d.failures.size(), 1U);
    EXPECT_EQ(d.failures[0], transaction_failure::timeout);
    EXPECT_EQ(d.terminations, 1);
    EXPECT_EQ(d.machine.current(), client_invite::state::terminated);
    EXPECT_EQ(d.clock.pending(), 0U);

    d.clock.advance(100s);
    EXPECT_EQ(d.failures.size(), 1U);  // reported exactly once
}

TEST(client_invite, giving_up_stops_retransmissions_but_keeps_timer_b_and_responses) {
    driver d(udp);
    d.post(event::started());
    d.clock.advance(2000ms);  // sent at 0, 500, 1500
    d.post(event::gave_up());
    d.clock.advance(29000ms);
    EXPECT_EQ(d.send_times(action_kind::send_request), (times{0ms, 500ms, 1500ms}));
    EXPECT_EQ(d.machine.current(), client_invite::state::calling);
    // A late 2xx still reaches the TU (which ACKs and ends it).
    d.post(event::response_received(200));
    EXPECT_EQ(d.machine.current(), client_invite::state::accepted);
    EXPECT_TRUE(d.failures.empty());
}

TEST(client_invite, giving_up_without_any_answer_still_ends_with_timer_b) {
    driver d(udp);
    d.post(event::started());
    d.post(event::gave_up());
    d.clock.advance(32000ms);
    EXPECT_EQ(d.send_times(action_kind::send_request), (times{0ms}));
    ASSERT_EQ(d.failures.size(), 1U);
    EXPECT_EQ(d.failures[0], transaction_failure::timeout);
}

TEST(client_invite, giving_up_after_a_provisional_changes_nothing) {
    driver d(udp);
    d.post(event::started());
    d.post(event::response_received(180));
    d.post(event::gave_up());
    EXPECT_EQ(d.machine.current(), client_invite::state::proceeding);
    d.post(event::response_received(486));
    EXPECT_EQ(d.machine.current(), client_invite::state::completed);
}

TEST(client_invite, first_send_is_not_a_retransmission_and_the_rest_are) {
    driver d(udp);
    d.post(event::started());
    d.clock.advance(2s);
    ASSERT_EQ(d.sends.size(), 3U);
    EXPECT_FALSE(d.sends[0].retransmission);
    EXPECT_TRUE(d.sends[1].retransmission);
    EXPECT_TRUE(d.sends[2].retransmission);
}

TEST(client_invite, timers_follow_t1) {
    driver d({100ms, 4000ms, 5000ms, false});
    d.post(event::started());
    d.clock.advance(6399ms);
    EXPECT_TRUE(d.failures.empty());
    d.clock.advance(1ms);  // 64 * 100 ms
    EXPECT_EQ(d.send_times(action_kind::send_request),
              (times{0ms, 100ms, 300ms, 700ms, 1500ms, 3100ms, 6300ms}));
    EXPECT_EQ(d.failures.size(), 1U);
}

TEST(client_invite, reliable_transport_sends_once_then_times_out) {
    driver d(tcp);
    d.post(event::started());
    d.clock.advance(32s);
    EXPECT_EQ(d.send_times(action_kind::send_request), (times{0ms}));
    ASSERT_EQ(d.failures.size(), 1U);
    EXPECT_EQ(d.failures[0], transaction_failure::timeout);
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(client_invite, provisional_stops_retransmissions_and_timer_b) {
    driver d(udp);
    d.post(event::started());
    d.clock.advance(600ms);
    d.post(event::response_received(180));
    EXPECT_EQ(d.machine.current(), client_invite::state::proceeding);
    EXPECT_EQ(d.passed, 1);
    d.post(event::response_received(183));
    EXPECT_EQ(d.passed, 2);

    d.clock.advance(120s);
    EXPECT_EQ(d.send_times(action_kind::send_request), (times{0ms, 500ms}));
    EXPECT_TRUE(d.failures.empty());  // §17.1.1.2: Timer B only guards Calling
    EXPECT_EQ(d.clock.pending(), 0U);
    EXPECT_EQ(d.machine.current(), client_invite::state::proceeding);
}

TEST(client_invite, cancel_in_proceeding_arms_64_t1_wait_for_the_final) {
    driver d(udp);
    d.post(event::started());
    d.post(event::response_received(180));
    d.clock.advance(10s);
    d.post(event::cancelled());
    d.post(event::cancelled());  // a second notice does not restart the wait
    d.clock.advance(31999ms);
    EXPECT_TRUE(d.failures.empty());
    d.clock.advance(1ms);
    ASSERT_EQ(d.failures.size(), 1U);
    EXPECT_EQ(d.failures[0], transaction_failure::timeout);
    EXPECT_EQ(d.terminations, 1);
}

TEST(client_invite, final_after_cancel_stops_the_wait) {
    driver d(udp);
    d.post(event::started());
    d.post(event::response_received(180));
    d.post(event::cancelled());
    d.post(event::response_received(487));
    EXPECT_EQ(d.machine.current(), client_invite::state::completed);
    d.clock.advance(40s);
    EXPECT_TRUE(d.failures.empty());
    EXPECT_EQ(d.terminations, 1);  // by Timer D
}

TEST(client_invite, non_2xx_is_acked_and_retransmissions_re_ack_until_timer_d) {
    driver d(udp);
    d.post(event::started());
    d.clock.advance(700ms);
    d.post(event::response_received(486));
    EXPECT_EQ(d.machine.current(), client_invite::state::completed);
    EXPECT_EQ(d.passed, 1);
    EXPECT_EQ(d.send_times(action_kind::send_ack), (times{700ms}));

    d.clock.advance(1s);
    d.post(event::response_received(486));  // the peer did not see our ACK
    EXPECT_EQ(d.passed, 1);                 // not passed up again
    EXPECT_EQ(d.absorbed, 1);
    EXPECT_EQ(d.send_times(action_kind::send_ack), (times{700ms, 1700ms}));
    EXPECT_TRUE(d.sends.back().retransmission);
    d.post(event::response_received(180));  // late provisional: absorbed, no ACK
    EXPECT_EQ(d.absorbed, 2);
    EXPECT_EQ(d.send_times(action_kind::send_ack).size(), 2U);

    d.clock.advance(30999ms);  // Timer D: 32 s after the final, at 32.7 s
    EXPECT_EQ(d.machine.current(), client_invite::state::completed);
    d.clock.advance(1ms);
    EXPECT_EQ(d.machine.current(), client_invite::state::terminated);
    EXPECT_TRUE(d.failures.empty());
    EXPECT_EQ(d.send_times(action_kind::send_request), (times{0ms, 500ms}));  // A stopped
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(client_invite, timer_d_is_at_least_32_seconds_and_64_t1_beyond) {
    EXPECT_EQ(udp.timer_d(), 32000ms);
    EXPECT_EQ((detail::timer_values{1000ms, 4000ms, 5000ms, false}.timer_d()), 64000ms);
    EXPECT_EQ(tcp.timer_d(), 0ms);
}

TEST(client_invite, reliable_non_2xx_terminates_at_once) {
    driver d(tcp);
    d.post(event::started());
    d.post(event::response_received(603));
    EXPECT_EQ(d.passed, 1);
    EXPECT_EQ(d.send_times(action_kind::send_ack), (times{0ms}));
    EXPECT_EQ(d.terminations, 1);  // Timer D = 0
    EXPECT_EQ(d.clock.pending(), 0U);
    EXPECT_TRUE(d.failures.empty());
}

TEST(client_invite, every_2xx_goes_to_the_tu_in_accepted_until_timer_m) {
    driver d(udp);
    d.post(event::started());
    d.clock.advance(100ms);
    d.post(event::response_received(200));
    EXPECT_EQ(d.machine.current(), client_invite::state::accepted);
    EXPECT_EQ(d.passed, 1);
    EXPECT_TRUE(d.send_times(action_kind::send_ack).empty());  // the TU ACKs a 2xx

    d.clock.advance(1s);
    d.post(event::response_received(200));  // retransmission or another fork
    EXPECT_EQ(d.passed, 2);
    d.post(event::response_received(486));  // not a 2xx: discarded
    d.post(event::response_received(180));
    EXPECT_EQ(d.passed, 2);
    EXPECT_EQ(d.absorbed, 2);

    d.clock.advance(30999ms);  // Timer M = 64*T1 after the first 2xx
    EXPECT_EQ(d.machine.current(), client_invite::state::accepted);
    d.clock.advance(1ms);
    EXPECT_EQ(d.machine.current(), client_invite::state::terminated);
    EXPECT_TRUE(d.failures.empty());
    EXPECT_EQ(d.send_times(action_kind::send_request), (times{0ms}));
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(client_invite, 2xx_in_proceeding_enters_accepted) {
    driver d(tcp);
    d.post(event::started());
    d.post(event::response_received(100));
    d.post(event::response_received(200));
    EXPECT_EQ(d.machine.current(), client_invite::state::accepted);
    EXPECT_EQ(d.passed, 2);
    d.clock.advance(32s);
    EXPECT_EQ(d.terminations, 1);
    EXPECT_TRUE(d.failures.empty());
}

TEST(client_invite, transport_error_while_calling_fails_once) {
    driver d(udp);
    d.fail_sends = 1;
    d.post(event::started());
    ASSERT_EQ(d.failures.size(), 1U);
    EXPECT_EQ(d.failures[0], transaction_failure::transport_error);
    EXPECT_EQ(d.terminations, 1);
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(client_invite, transport_error_on_a_retransmission_fails) {
    driver d(udp);
    d.post(event::started());
    d.clock.advance(500ms);
    d.fail_sends = 1;
    d.clock.advance(1000ms);
    ASSERT_EQ(d.failures.size(), 1U);
    EXPECT_EQ(d.failures[0], transaction_failure::transport_error);
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(client_invite, failed_ack_ends_the_transaction_silently) {
    // The TU already has the final response; a second outcome would confuse it.
    driver d(udp);
    d.post(event::started());
    d.fail_sends = 1;
    d.post(event::response_received(404));
    EXPECT_EQ(d.passed, 1);
    EXPECT_TRUE(d.failures.empty());
    EXPECT_EQ(d.terminations, 1);
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(client_invite, late_timers_and_events_do_nothing) {
    client_invite m(udp);
    m.on_event(event::started());
    m.on_event(event::response_received(486));
    ASSERT_EQ(m.current(), client_invite::state::completed);
    EXPECT_TRUE(m.on_event(event::fired(timer_name::a)).empty());
    EXPECT_TRUE(m.on_event(event::fired(timer_name::b)).empty());
    EXPECT_TRUE(m.on_event(event::fired(timer_name::m)).empty());
    EXPECT_TRUE(m.on_event(event::fired(timer_name::g)).empty());
    EXPECT_TRUE(m.on_event(event::started()).empty());
    EXPECT_TRUE(m.on_event(event::cancelled()).empty());
    EXPECT_EQ(m.current(), client_invite::state::completed);

    m.on_event(event::fired(timer_name::d));
    ASSERT_EQ(m.current(), client_invite::state::terminated);
    EXPECT_TRUE(m.on_event(event::response_received(486)).empty());
    EXPECT_TRUE(m.on_event(event::fired(timer_name::d)).empty());
    EXPECT_TRUE(m.on_event(event::transport_failed()).empty());
}

TEST(client_invite, timer_b_in_calling_stops_timer_a) {
    client_invite m(udp);
    m.on_event(event::started());
    const auto actions = m.on_event(event::fired(timer_name::b));
    bool stops_a = false;
    for (const auto& a : actions) {
        stops_a |= a == detail::stop(timer_name::a);
    }
    EXPECT_TRUE(stops_a);
}

}  // namespace
}  // namespace b2b::sip
