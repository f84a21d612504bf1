// Graceful shutdown through the actors harness: new calls refused, calls in progress finish or
// are ended at the deadline, and the process is told it may go as soon as no call is left.
#include "tests/unit/b2bua/call_flow.hpp"

#include <chrono>

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

class drain_flow : public call_flow {
protected:
    void start_drain(std::chrono::seconds grace) {
        b2b.drain(grace, [this] { ++done; });
    }
    /// A new call's first INVITE while draining: its final answer, as the PBX sees it.
    sip::message refused_invite() {
        pbx_call c = pbx.new_call();
        pbx.invite(c);
        auto answers = pbx.take_matching("SIP/2.0 ");
        EXPECT_EQ(answers.size(), 1u);
        if (answers.empty()) return {};
        pbx.ack_failure(c, answers.front());
        return std::move(answers.front());
    }

    int done = 0;
};

TEST_F(drain_flow, the_draining_result_is_exported_at_zero_from_start) {
    for (const char* trunk_label : {"", "carrier"}) {
        bool found = false;
        for (const auto& family : registry.Collect()) {
            if (family.name != "b2bua_calls_total") continue;
            for (const auto& m : family.metric) {
                bool on_trunk = false, result = false;
                for (const auto& l : m.label) {
                    on_trunk = on_trunk || (l.name == "trunk" && l.value == trunk_label);
                    result = result || (l.name == "result" && l.value == "draining");
                }
                if (on_trunk && result) {
                    found = true;
                    EXPECT_EQ(m.counter.value, 0);
                }
            }
        }
        EXPECT_TRUE(found) << "no b2bua_calls_total{trunk=\"" << trunk_label << "\",result=\"draining\"}";
    }
}

TEST_F(drain_flow, without_calls_the_drain_is_over_at_once) {
    EXPECT_EQ(b2b.drain_state(), drain_phase::running);
    start_drain(30s);
    EXPECT_EQ(done, 1);
    EXPECT_EQ(b2b.drain_state(), drain_phase::stopped);
    start_drain(30s);  // a second signal after the end changes nothing
    EXPECT_EQ(done, 1);
}

TEST_F(drain_flow, a_new_invite_gets_503_with_retry_after_and_no_challenge) {
    pbx_call c;
    confirmed_call(c);
    const double challenges = counter("b2bua_auth_challenges_total", {{"direction", "downstream"}});
    start_drain(30s);
    EXPECT_EQ(b2b.drain_state(), drain_phase::draining);
    EXPECT_EQ(done, 0);

    auto refused = refused_invite();
    EXPECT_EQ(refused.status(), 503);
    // Until the process is gone at the latest: the deadline plus the 4 s linger bound.
    EXPECT_EQ(header(refused, sip::header_id::retry_after), "34");
    EXPECT_FALSE(refused.to().tag.empty());
    clock.advance(10s);
    EXPECT_EQ(header(refused_invite(), sip::header_id::retry_after), "24");

    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "downstream"}}), challenges);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "draining"}}), 2);
    EXPECT_TRUE(trunk.take().empty());
    EXPECT_EQ(b2b.active_calls(), 1u);
}

TEST_F(drain_flow, options_out_of_dialog_gets_503_like_an_invite) {
    pbx_call c;
    confirmed_call(c);
    pbx.options();
    EXPECT_EQ(pbx.expect("SIP/2.0 200").status(), 200);
    start_drain(30s);
    pbx.options();
    auto answer = pbx.expect("SIP/2.0 503");
    EXPECT_EQ(header(answer, sip::header_id::retry_after), "34");
}

TEST_F(drain_flow, a_call_that_ends_before_the_deadline_lets_the_process_go_at_once) {
    pbx_call c;
    confirmed_call(c);
    start_drain(30s);
    clock.advance(10s);
    EXPECT_TRUE(pbx.take().empty());
    EXPECT_TRUE(trunk.take().empty());
    pbx.bye(c);
    pbx.expect("SIP/2.0 200");
    auto bye = trunk.expect("BYE");
    EXPECT_EQ(done, 0);
    trunk.respond(bye, 200, "OK");
    EXPECT_EQ(done, 1);  // not at the deadline 20 s later
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(b2b.drain_state(), drain_phase::stopped);
    clock.advance(30s);
    EXPECT_EQ(done, 1);
}

TEST_F(drain_flow, in_dialog_requests_still_cross_while_draining) {
    pbx_call c;
    auto invite = confirmed_call(c);
    start_drain(30s);
    trunk.bye(invite);
    trunk.expect("SIP/2.0 200");
    auto bye = pbx.expect("BYE");
    pbx.respond(bye, 200, "OK");
    EXPECT_EQ(done, 1);
}

TEST_F(drain_flow, a_confirmed_call_gets_bye_on_both_legs_at_the_deadline) {
    pbx_call c;
    confirmed_call(c);
    start_drain(30s);
    clock.advance(30s - 1ms);
    EXPECT_TRUE(pbx.take().empty());
    EXPECT_TRUE(trunk.take().empty());
    clock.advance(1ms);
    EXPECT_EQ(b2b.drain_state(), drain_phase::ending);
    auto bye_a = pbx.expect("BYE");
    auto bye_b = trunk.expect("BYE");
    EXPECT_EQ(bye_a.to().tag, c.from_tag);  // in leg A's dialog
    EXPECT_EQ(bye_a.call_id(), c.call_id);
    pbx.respond(bye_a, 200, "OK");
    EXPECT_EQ(done, 0);  // the trunk's BYE is still unanswered
    trunk.respond(bye_b, 200, "OK");
    EXPECT_EQ(done, 1);
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "carrier"}, {"result", "answered"}}), 1);
}

TEST_F(drain_flow, a_ringing_call_at_the_deadline_gets_503_and_the_far_end_a_cancel) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.respond(invite, 180, "Ringing");
    pbx.expect("SIP/2.0 180");
    start_drain(30s);
    clock.advance(30s);
    auto refused = pbx.expect("SIP/2.0 503");
    EXPECT_EQ(refused.cseq().method, sip::method::invite);
    EXPECT_EQ(refused.call_id(), c.call_id);
    pbx.ack_failure(c, refused);
    auto cancel = trunk.expect("CANCEL");
    EXPECT_EQ(cancel.vias()[0].branch, invite.vias()[0].branch);  // §9.1
    EXPECT_EQ(done, 0);
    trunk.respond(cancel, 200, "OK");
    trunk.respond(invite, 487, "Request Terminated");
    trunk.expect("ACK");
    EXPECT_EQ(done, 1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "carrier"}, {"result", "draining"}}), 1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"result", "cancelled"}}), 0);
}

TEST_F(drain_flow, a_second_drain_ends_the_calls_at_once) {
    pbx_call c;
    confirmed_call(c);
    start_drain(30s);
    clock.advance(1s);
    EXPECT_TRUE(pbx.take().empty());
    start_drain(30s);
    auto bye_a = pbx.expect("BYE");
    auto bye_b = trunk.expect("BYE");
    pbx.respond(bye_a, 200, "OK");
    trunk.respond(bye_b, 200, "OK");
    EXPECT_EQ(done, 1);
    clock.advance(60s);  // the deadline timer was cancelled: nothing more happens
    EXPECT_TRUE(pbx.take().empty());
    EXPECT_TRUE(trunk.take().empty());
    EXPECT_EQ(done, 1);
}

TEST_F(drain_flow, drain_s_zero_ends_the_calls_at_once) {
    pbx_call c;
    confirmed_call(c);
    start_drain(0s);
    EXPECT_EQ(pbx.take_matching("BYE").size(), 1u);
    EXPECT_EQ(trunk.take_matching("BYE").size(), 1u);
}

TEST_F(drain_flow, peers_that_never_answer_the_bye_are_waited_for_only_the_linger_bound) {
    pbx_call c;
    confirmed_call(c);
    start_drain(0s);
    clock.advance(4s - 1ms);  // 8*T1: the BYEs and their retransmissions went out
    EXPECT_EQ(done, 0);
    EXPECT_GE(trunk.take_matching("BYE").size(), 3u);
    EXPECT_GE(pbx.take_matching("BYE").size(), 3u);
    clock.advance(1ms);
    EXPECT_EQ(done, 1);
    EXPECT_EQ(b2b.drain_state(), drain_phase::stopped);
    EXPECT_EQ(b2b.active_calls(), 1u);  // left to the process's exit
}

TEST_F(drain_flow, an_answered_call_whose_ack_is_on_its_way_gets_its_bye_after_the_ack) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.ok(invite);
    auto ok = pbx.expect("SIP/2.0 200");
    c.to_tag = std::string(ok.to().tag);
    start_drain(0s);
    // The far end's leg is confirmed and ended at once ...
    auto to_trunk = trunk.take();
    ASSERT_EQ(to_trunk.size(), 2u);
    EXPECT_TRUE(starts(to_trunk[0], "ACK"));
    EXPECT_TRUE(starts(to_trunk[1], "BYE"));
    trunk.respond(to_trunk[1], 200, "OK");
    // ... the caller's BYE waits for its ACK (§15).
    EXPECT_TRUE(pbx.take().empty());
    EXPECT_EQ(done, 0);
    pbx.ack(c);
    auto bye = pbx.expect("BYE");
    EXPECT_TRUE(trunk.take().empty());  // no second ACK for the caller's
    pbx.respond(bye, 200, "OK");
    EXPECT_EQ(done, 1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

}  // namespace
}  // namespace b2b::b2bua::test
