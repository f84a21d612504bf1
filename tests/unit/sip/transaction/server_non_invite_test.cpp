// Tests for the sans-I/O non-INVITE server transaction (RFC 3261 §17.2.2).
#include "sip/transaction/detail/server_non_invite.hpp"

#include "machine_driver.hpp"

#include <gtest/gtest.h>

namespace b2b::sip {
namespace {

using namespace std::chrono_literals;
using detail::action_kind;
using detail::event;
using detail::server_non_invite;
using detail::timer_name;
using std::chrono::milliseconds;
using driver = test_support::machine_driver<server_non_invite>;

using test_support::tcp;
using test_support::udp;

TEST(server_non_invite, trying_proceeding_completed_with_timer_j) {
    driver d(udp);
    d.post(event::started());
    EXPECT_EQ(d.passed, 1);
    d.post(event::request_received());  // Trying: discarded
    EXPECT_TRUE(d.sends.empty());

    d.post(event::tu_sends(100));
    EXPECT_EQ(d.machine.current(), server_non_invite::state::proceeding);
    d.post(event::request_received());  // Proceeding: the provisional again
    EXPECT_EQ(d.sends.size(), 2U);

    d.post(event::tu_sends(200));
    EXPECT_EQ(d.machine.current(), server_non_invite::state::completed);
    EXPECT_TRUE(d.machine.has_final());
    d.post(event::request_received());  // Completed: the final again
    ASSERT_EQ(d.sends.size(), 4U);
    EXPECT_TRUE(d.sends[3].retransmission);
    EXPECT_EQ(d.absorbed, 3);
    EXPECT_TRUE(d.machine.on_event(event::tu_sends(500)).empty());

    d.clock.advance(31999ms);  // Timer J = 64*T1
    EXPECT_EQ(d.machine.current(), server_non_invite::state::completed);
    d.clock.advance(1ms);
    EXPECT_EQ(d.machine.current(), server_non_invite::state::terminated);
    EXPECT_TRUE(d.failures.empty());
    EXPECT_EQ(d.clock.pending(), 0U);
    EXPECT_EQ(d.passed, 1);
}

TEST(server_non_invite, reliable_final_terminates_at_once) {
    driver d(tcp);
    d.post(event::started());
    d.post(event::tu_sends(200));
    EXPECT_EQ(d.terminations, 1);  // Timer J = 0
    EXPECT_EQ(d.sends.size(), 1U);
    EXPECT_EQ(d.clock.pending(), 0U);
}

TEST(server_non_invite, failed_final_response_is_reported_even_when_j_is_zero) {
    driver d(tcp);
    d.post(event::started());
    d.fail_sends = 1;
    d.post(event::tu_sends(200));
    EXPECT_EQ(d.failures, (std::vector{transaction_failure::transport_error}));
    EXPECT_EQ(d.terminations, 1);
}

TEST(server_non_invite, failed_provisional_is_reported) {
    driver d(udp);
    d.post(event::started());
    d.fail_sends = 1;
    d.post(event::tu_sends(180));
    EXPECT_EQ(d.failures, (std::vector{transaction_failure::transport_error}));
    EXPECT_EQ(d.machine.current(), server_non_invite::state::terminated);
}

TEST(server_non_invite, late_timer_does_nothing) {
    server_non_invite m(udp);
    m.on_event(event::started());
    EXPECT_TRUE(m.on_event(event::fired(timer_name::j)).empty());
    EXPECT_TRUE(m.on_event(event::ack_received()).empty());
    EXPECT_EQ(m.current(), server_non_invite::state::trying);
}

}  // namespace
}  // namespace b2b::sip
