// A CANCEL that crosses the far end's 200 (RFC 3261 §9.1: the CANCEL then has no effect on the
// INVITE): the PBX has its 487, and the trunk's answered leg is confirmed with an ACK, then ended
// with a BYE, in leg B's dialog only.
#include "tests/unit/b2bua/call_flow.hpp"

#include <chrono>
#include <utility>

namespace b2b::b2bua::test {
namespace {

class cancel_race : public call_flow {
protected:
    /// The PBX cancels; it gets the 200 to its CANCEL and the 487 to its INVITE at once.
    void pbx_cancels(const pbx_call& c) {
        pbx.cancel(c);
        auto answers = pbx.take();
        ASSERT_EQ(answers.size(), 2u);
        EXPECT_EQ(answers[0].status(), 200);
        EXPECT_EQ(answers[0].cseq().method, sip::method::cancel);
        EXPECT_EQ(answers[1].status(), 487);
        EXPECT_EQ(answers[1].cseq().method, sip::method::invite);
        EXPECT_EQ(answers[1].to().tag, answers[0].to().tag);  // §9.2: one To tag
        pbx.ack_failure(c, answers[1]);
    }

    /// After the trunk's 200: an ACK for it, then a BYE, both in leg B's dialog; returns the BYE.
    sip::message expect_ack_then_bye(const sip::message& invite) {
        auto to_trunk = trunk.take();
        EXPECT_EQ(to_trunk.size(), 2u);
        if (to_trunk.size() != 2) return {};
        const sip::message& ack = to_trunk[0];
        const sip::message& bye = to_trunk[1];  // moved out last
        EXPECT_TRUE(starts(ack, "ACK"));
        EXPECT_TRUE(starts(bye, "BYE"));
        for (const sip::message* m : {&ack, &bye}) {
            EXPECT_EQ(m->call_id(), invite.call_id());
            EXPECT_EQ(m->from().tag, invite.from().tag);
            EXPECT_EQ(m->to().tag, trunk.tag());
            // The trunk's Contact is the target and its Record-Route, reversed, the route
            // set (§12.1.2, §12.2.1.1).
            EXPECT_EQ(m->request_uri().text, "sip:gw-carrier@" + trunk.host_port());
            EXPECT_EQ(m->routes().size(), 2u);
            if (m->routes().size() == 2) {
                EXPECT_EQ(m->routes()[0].uri.text, "sip:" + trunk.host_port() + ";lr");
                EXPECT_EQ(m->routes()[1].uri.text, "sip:edge." + trunk.realm() + ";lr");
            }
            EXPECT_EQ(m->vias().size(), 1u);
        }
        // §13.2.2.4, §17.1.1.3: the ACK of a 2xx is a new transaction with the INVITE's CSeq.
        EXPECT_EQ(ack.cseq().seq, invite.cseq().seq);
        EXPECT_NE(ack.vias()[0].branch, invite.vias()[0].branch);
        EXPECT_GT(bye.cseq().seq, invite.cseq().seq);
        return std::move(to_trunk[1]);
    }

    void expect_counted_cancelled() {
        EXPECT_EQ(counter("b2bua_calls_total", {{"result", "cancelled"}}), 1);
        EXPECT_EQ(counter("b2bua_calls_total", {{"result", "answered"}}), 0);
    }
};

TEST_F(cancel_race, a_200_after_the_trunk_answered_our_cancel_is_acked_then_hung_up) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.ringing(invite);
    pbx.expect("SIP/2.0 180");
    pbx_cancels(c);
    auto cancel = trunk.expect("CANCEL");
    // The trunk answers the CANCEL, but its callee had picked up: 200 to the INVITE anyway.
    trunk.respond(cancel, 200, "OK");
    trunk.ok(invite);
    auto bye = expect_ack_then_bye(invite);
    EXPECT_TRUE(pbx.take().empty());  // the PBX never sees that 200, nor a BYE
    EXPECT_EQ(b2b.active_calls(), 1u);  // until the BYE is answered
    trunk.respond(bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
    expect_counted_cancelled();
}

TEST_F(cancel_race, a_2xx_retransmitted_after_the_bye_gets_the_same_ack_and_no_second_bye) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.ringing(invite);
    pbx.expect("SIP/2.0 180");
    pbx_cancels(c);
    auto cancel = trunk.expect("CANCEL");
    trunk.ok(invite);
    auto bye = expect_ack_then_bye(invite);
    trunk.ok(invite);  // our ACK was lost
    auto again = trunk.expect("ACK");
    EXPECT_EQ(again.cseq().seq, invite.cseq().seq);
    trunk.respond(cancel, 200, "OK");
    trunk.respond(bye, 200, "OK");
    EXPECT_TRUE(pbx.take().empty());
    EXPECT_EQ(b2b.active_calls(), 0u);
    expect_counted_cancelled();
}

TEST_F(cancel_race, a_2xx_before_any_provisional_ends_the_cancelled_leg_without_a_cancel) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    pbx_cancels(c);
    EXPECT_TRUE(trunk.take().empty());  // §9.1: no CANCEL before a provisional
    trunk.ok(invite);
    auto bye = expect_ack_then_bye(invite);  // and none after the final answer either
    trunk.respond(bye, 200, "OK");
    clock.advance(std::chrono::seconds(40));  // past every guard timer: nothing more is sent
    EXPECT_TRUE(trunk.take_matching("CANCEL").empty());
    EXPECT_EQ(b2b.active_calls(), 0u);
    expect_counted_cancelled();
}

}  // namespace
}  // namespace b2b::b2bua::test
