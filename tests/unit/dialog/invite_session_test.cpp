// Tests for invite_session: every legal path, and illegal events refused without a state change.
#include "dialog/invite_session.hpp"

#include <gtest/gtest.h>

namespace b2b::dialog {
namespace {

using ev = session_event;
using st = session_state;

TEST(invite_session, uac_call_with_offer_in_the_invite) {
    invite_session s(session_role::uac);
    EXPECT_EQ(s.state(), st::calling);
    ASSERT_TRUE(s.on(ev::invite_sent, true));
    EXPECT_EQ(s.offer(), offer_state::local_offer);
    EXPECT_TRUE(s.pending());
    ASSERT_TRUE(s.on(ev::provisional_received));
    EXPECT_EQ(s.state(), st::early);
    ASSERT_TRUE(s.on(ev::success_received, true));
    EXPECT_EQ(s.state(), st::accepted);
    EXPECT_EQ(s.offer(), offer_state::stable);
    EXPECT_TRUE(s.has_final());
    EXPECT_FALSE(s.pending());
    ASSERT_TRUE(s.on(ev::ack_sent));
    EXPECT_EQ(s.state(), st::confirmed);
    ASSERT_TRUE(s.on(ev::bye_sent));
    EXPECT_EQ(s.state(), st::terminating);
    ASSERT_TRUE(s.on(ev::bye_done));
    EXPECT_EQ(s.state(), st::terminated);
    EXPECT_TRUE(s.answered());
    EXPECT_FALSE(s.live());
}

TEST(invite_session, uas_delayed_offer_answer_in_the_ack) {
    invite_session s(session_role::uas);
    EXPECT_EQ(s.state(), st::incoming);
    ASSERT_TRUE(s.on(ev::invite_received, false));
    EXPECT_EQ(s.offer(), offer_state::none);
    ASSERT_TRUE(s.on(ev::success_sent, true));  // the offer is in our 2xx
    EXPECT_EQ(s.offer(), offer_state::local_offer);
    ASSERT_TRUE(s.on(ev::ack_received, true));  // the answer is in the ACK
    EXPECT_EQ(s.offer(), offer_state::stable);
    EXPECT_EQ(s.state(), st::confirmed);
}

TEST(invite_session, a_final_failure_ends_a_pending_session_only) {
    invite_session uac(session_role::uac);
    uac.on(ev::invite_sent, true);
    ASSERT_TRUE(uac.on(ev::failure_received));
    EXPECT_EQ(uac.state(), st::terminated);
    EXPECT_FALSE(uac.answered());
    EXPECT_TRUE(uac.has_final());
    EXPECT_FALSE(uac.on(ev::failure_received));  // once

    invite_session uas(session_role::uas);
    uas.on(ev::invite_received, true);
    uas.on(ev::success_sent, true);
    EXPECT_FALSE(uas.on(ev::failure_sent));  // no final after a final
    EXPECT_EQ(uas.state(), st::accepted);
}

TEST(invite_session, events_of_the_other_role_are_refused) {
    invite_session uac(session_role::uac);
    EXPECT_FALSE(uac.on(ev::invite_received));
    EXPECT_FALSE(uac.on(ev::provisional_sent));
    EXPECT_FALSE(uac.on(ev::success_sent));
    EXPECT_FALSE(uac.on(ev::ack_received));
    EXPECT_EQ(uac.state(), st::calling);
    invite_session uas(session_role::uas);
    EXPECT_FALSE(uas.on(ev::invite_sent));
    EXPECT_FALSE(uas.on(ev::success_received));
    EXPECT_FALSE(uas.on(ev::ack_sent));
    EXPECT_EQ(uas.state(), st::incoming);
}

TEST(invite_session, an_ack_before_the_2xx_or_twice_is_refused) {
    invite_session s(session_role::uas);
    s.on(ev::invite_received, true);
    EXPECT_FALSE(s.on(ev::ack_received));
    s.on(ev::success_sent, true);
    EXPECT_TRUE(s.on(ev::ack_received));
    EXPECT_FALSE(s.on(ev::ack_received));  // a retransmitted ACK is not an event
}

TEST(invite_session, bye_ends_early_and_confirmed_sessions) {
    invite_session early(session_role::uas);
    early.on(ev::invite_received, true);
    early.on(ev::provisional_sent);
    EXPECT_TRUE(early.on(ev::bye_received));  // §15: BYE on an early dialog
    EXPECT_EQ(early.state(), st::terminated);
    EXPECT_FALSE(early.on(ev::bye_received));

    invite_session s(session_role::uac);
    s.on(ev::invite_sent, true);
    EXPECT_FALSE(s.on(ev::bye_sent));  // nothing to end with a BYE before a 2xx: CANCEL it
    s.on(ev::success_received, true);
    s.on(ev::ack_sent);
    EXPECT_TRUE(s.on(ev::bye_received));
    EXPECT_FALSE(s.on(ev::bye_sent));
    EXPECT_FALSE(s.on(ev::bye_done));
}

TEST(invite_session, an_accepted_uas_session_may_send_bye_when_no_ack_comes) {
    invite_session s(session_role::uas);
    s.on(ev::invite_received, true);
    s.on(ev::success_sent, true);
    EXPECT_TRUE(s.on(ev::bye_sent));  // §13.3.1.4: no ACK, the session is ended
    EXPECT_EQ(s.state(), st::terminating);
}

TEST(invite_session, given_up_ends_any_live_session) {
    for (auto role : {session_role::uac, session_role::uas}) {
        invite_session s(role);
        EXPECT_TRUE(s.on(ev::given_up));
        EXPECT_FALSE(s.live());
        EXPECT_FALSE(s.on(ev::given_up));
    }
}

TEST(invite_session, names) {
    EXPECT_EQ(to_string(st::terminating), "terminating");
    EXPECT_EQ(to_string(offer_state::remote_offer), "remote_offer");
    EXPECT_EQ(to_string(ev::bye_done), "bye_done");
}

}  // namespace
}  // namespace b2b::dialog
