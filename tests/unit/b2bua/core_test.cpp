// Call flows through the B2BUA core: real transaction layer, loopback transport, manual clock.
#include "tests/unit/b2bua/call_flow.hpp"

#include <algorithm>
#include <set>

#include <chrono>

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

// ------------------------------------------------------------------------ setup and topology

TEST_F(call_flow, first_invite_is_challenged_with_both_algorithms_in_configured_order) {
    pbx_call c;
    pbx.invite(c);
    auto challenge = pbx.expect("SIP/2.0 407");
    std::vector<std::string> values;
    for (const auto& h : challenge.headers()) {
        if (h.id == sip::header_id::proxy_authenticate) values.emplace_back(h.value);
    }
    ASSERT_EQ(values.size(), 2u);
    EXPECT_NE(values[0].find("algorithm=MD5"), std::string::npos);
    EXPECT_NE(values[1].find("algorithm=SHA-256"), std::string::npos);
    EXPECT_NE(values[0].find("realm=\"pbx.local\""), std::string::npos);
    EXPECT_NE(values[0].find("qop=\"auth\""), std::string::npos);
    EXPECT_FALSE(challenge.to().tag.empty());
    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "downstream"}}), 1);
    EXPECT_EQ(counter("b2bua_auth_failures_total", {}), 0);  // a first challenge is not a failure
    EXPECT_TRUE(trunk.take().empty());
}

TEST_F(call_flow, leg_b_carries_nothing_of_leg_a) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    // New dialog identifiers.
    EXPECT_NE(invite.call_id(), c.call_id);
    EXPECT_EQ(invite.call_id().find("10.0.0.1"), std::string_view::npos);
    EXPECT_NE(invite.from().tag, c.from_tag);
    EXPECT_FALSE(invite.from().tag.empty());
    EXPECT_TRUE(invite.to().tag.empty());
    EXPECT_EQ(invite.cseq().seq, 1u);
    // Our single Via, our Contact.
    ASSERT_EQ(invite.vias().size(), 1u);
    EXPECT_EQ(invite.vias()[0].host, "127.0.0.1");
    EXPECT_EQ(invite.vias()[0].port, 5070);
    EXPECT_TRUE(invite.vias()[0].has_rfc3261_branch());
    ASSERT_EQ(invite.contacts().size(), 1u);
    EXPECT_EQ(invite.contacts()[0].uri.host, "127.0.0.1");
    EXPECT_EQ(invite.contacts()[0].uri.port, 5070);
    // Caller ID and number cross, hosts do not.
    EXPECT_EQ(invite.request_uri().text, "sip:1000@" + trunk.host_port());
    EXPECT_EQ(invite.to().uri.text, "sip:1000@" + trunk.host_port());
    EXPECT_EQ(invite.from().uri.user, "200");
    EXPECT_EQ(invite.from().uri.host, "127.0.0.1");
    EXPECT_EQ(invite.from().display_name, "\"Reception\"");
    // Hop by hop things stay behind; Max-Forwards goes down by one; the SDP passes.
    EXPECT_EQ(invite.find(sip::header_id::proxy_authorization), nullptr);
    EXPECT_TRUE(invite.record_routes().empty());
    EXPECT_TRUE(invite.routes().empty());
    EXPECT_EQ(invite.max_forwards(), 69u);
    EXPECT_EQ(invite.body(), sdp_offer);
    EXPECT_EQ(invite.wire().find("10.0.0.1:5060"), std::string_view::npos);
    EXPECT_EQ(invite.wire().find("pbxtag1"), std::string_view::npos);
    EXPECT_EQ(invite.wire().find("pbx-proxy"), std::string_view::npos);
    EXPECT_EQ(invite.wire().find(pbx.address().address.to_string()), std::string_view::npos);
}

TEST_F(call_flow, full_call_with_both_challenges_then_pbx_hangs_up) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.challenge(invite);
    // The challenge is answered on leg B alone: the PBX sees nothing of it.
    auto to_trunk_first = trunk.take();
    ASSERT_EQ(to_trunk_first.size(), 2u);
    EXPECT_TRUE(starts(to_trunk_first[0], "ACK"));  // the INVITE transaction ACKs the 401 ...
    auto resent = std::move(to_trunk_first[1]);     // ... and the request goes again, authenticated
    EXPECT_TRUE(starts(resent, "INVITE"));
    EXPECT_TRUE(trunk.accepts(resent));
    EXPECT_EQ(resent.cseq().seq, 2u);
    EXPECT_EQ(resent.call_id(), invite.call_id());
    EXPECT_EQ(resent.from().tag, invite.from().tag);
    EXPECT_NE(resent.vias()[0].branch, invite.vias()[0].branch);
    EXPECT_TRUE(pbx.take().empty());
    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "upstream"}}), 1);

    trunk.respond(resent, 100, "Trying");
    EXPECT_TRUE(pbx.take().empty());  // 100 is hop by hop
    trunk.ringing(resent);
    auto ringing = pbx.expect("SIP/2.0 180");
    c.to_tag = std::string(ringing.to().tag);
    EXPECT_FALSE(c.to_tag.empty());
    EXPECT_NE(c.to_tag, trunk.tag());
    EXPECT_EQ(ringing.call_id(), c.call_id);
    EXPECT_EQ(ringing.vias()[0].branch, c.branch);
    EXPECT_EQ(ringing.contacts()[0].uri.port, 5070);

    trunk.ok(resent);
    auto ok = pbx.expect("SIP/2.0 200");
    EXPECT_EQ(ok.to().tag, c.to_tag);  // stable To tag on leg A
    EXPECT_EQ(ok.body(), sdp_answer);
    // §12.1.1: the PBX's own Record-Route comes back in the 2xx; the trunk's stays on leg B.
    ASSERT_EQ(ok.record_routes().size(), 1u);
    EXPECT_EQ(ok.record_routes()[0].text, "<sip:pbx-proxy.internal;lr>");
    EXPECT_EQ(ok.wire().find("edge."), std::string_view::npos);
    EXPECT_EQ(ok.contacts()[0].uri.text, "sip:b2bua@127.0.0.1:5070");
    EXPECT_EQ(ok.wire().find(trunk.realm()), std::string_view::npos);
    EXPECT_EQ(ok.wire().find("gw-"), std::string_view::npos);
    EXPECT_EQ(ok.wire().find(trunk.host_port()), std::string_view::npos);
    EXPECT_EQ(counter("b2bua_active_calls", {}), 1);

    // SIPp with zero hold time: ACK and BYE back to back.
    pbx.ack(c);
    pbx.bye(c);
    pbx.expect("SIP/2.0 200");
    auto to_trunk = trunk.take();
    ASSERT_EQ(to_trunk.size(), 2u);
    const auto& ack = to_trunk[0];
    const auto& bye = to_trunk[1];
    EXPECT_TRUE(starts(ack, "ACK sip:gw-carrier@" + trunk.host_port()));  // remote target = the trunk's Contact
    EXPECT_EQ(ack.cseq().seq, 2u);
    EXPECT_EQ(ack.to().tag, trunk.tag());
    ASSERT_EQ(ack.routes().size(), 2u);  // Record-Route reversed into the route set
    EXPECT_EQ(ack.routes()[0].uri.text, "sip:" + trunk.host_port() + ";lr");
    EXPECT_TRUE(starts(bye, "BYE sip:gw-carrier@" + trunk.host_port()));
    EXPECT_EQ(bye.cseq().seq, 3u);
    EXPECT_EQ(bye.call_id(), invite.call_id());
    trunk.respond(bye, 200, "OK");
    EXPECT_EQ(counter("b2bua_active_calls", {}), 0);
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "carrier"}, {"result", "answered"}}), 1);
    EXPECT_EQ(counter("b2bua_auth_successes_total", {{"direction", "downstream"}, {"peer", "pbx.local"}}), 1);
    EXPECT_EQ(counter("b2bua_auth_successes_total", {{"direction", "upstream"}, {"peer", "carrier"}}), 1);
}

TEST_F(call_flow, trunk_hangs_up_and_the_bye_reaches_the_pbx_dialog) {
    pbx_call c;
    auto invite = confirmed_call(c);
    trunk.bye(invite);
    trunk.expect("SIP/2.0 200");
    auto bye = pbx.expect("BYE");
    // Leg A's dialog: the PBX's Contact, its Record-Route, its Call-ID and tags, our Via.
    EXPECT_TRUE(starts(bye, "BYE sip:200@" + pbx.host_port() + " SIP/2.0"));
    EXPECT_EQ(bye.call_id(), c.call_id);
    EXPECT_EQ(bye.from().tag, c.to_tag);
    EXPECT_EQ(bye.to().tag, c.from_tag);
    ASSERT_EQ(bye.routes().size(), 1u);
    EXPECT_EQ(bye.routes()[0].uri.text, "sip:pbx-proxy.internal;lr");
    ASSERT_EQ(bye.vias().size(), 1u);
    EXPECT_EQ(bye.vias()[0].port, 5070);
    EXPECT_EQ(bye.wire().find(trunk.tag()), std::string_view::npos);
    EXPECT_EQ(bye.wire().find("gw-"), std::string_view::npos);
    EXPECT_EQ(bye.wire().find(trunk.host_port()), std::string_view::npos);
    EXPECT_EQ(b2b.active_calls(), 1u);
    pbx.respond(bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, trunk_bye_before_the_pbx_ack_waits_for_it) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.challenge(invite);
    auto resent = std::move(trunk.take_matching("INVITE").at(0));
    trunk.ok(resent);
    auto ok = pbx.expect("SIP/2.0 200");
    c.to_tag = std::string(ok.to().tag);
    trunk.bye(resent);
    // The trunk gets its ACK and the 200 for its BYE; the PBX gets no BYE before its ACK.
    auto to_trunk = trunk.take();
    ASSERT_EQ(to_trunk.size(), 2u);
    EXPECT_TRUE(starts(to_trunk[0], "SIP/2.0 200") || starts(to_trunk[1], "SIP/2.0 200"));
    EXPECT_TRUE(starts(to_trunk[0], "ACK") || starts(to_trunk[1], "ACK"));
    EXPECT_TRUE(pbx.take().empty());
    pbx.ack(c);
    auto bye = pbx.expect("BYE");
    pbx.respond(bye, 200, "OK");
    EXPECT_TRUE(trunk.take().empty());  // the trunk's ACK is not sent twice
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, retransmitted_2xx_gets_the_same_ack_even_as_the_bye_crosses_it) {
    pbx_call c;
    auto invite = confirmed_call(c);
    const std::string first_ack(net.sent().back().bytes);
    // The trunk did not see our ACK and resends its 200; meanwhile the PBX hangs up.
    trunk.ok(invite);
    auto again = trunk.expect("ACK");
    EXPECT_EQ(again.wire(), first_ack);
    pbx.bye(c);
    pbx.expect("SIP/2.0 200");
    auto bye = trunk.expect("BYE");
    trunk.ok(invite);  // one more late 200: same ACK, no new call state
    trunk.expect("ACK");
    trunk.respond(bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
    trunk.ok(invite);  // after the end: ignored quietly
    EXPECT_TRUE(pbx.take().empty());
}

// ------------------------------------------------------------------------------- auth failures

TEST_F(call_flow, wrong_password_is_refused_with_403_and_counted) {
    pbx_call c;
    authenticated_invite(c, "not-the-password");
    pbx.expect("SIP/2.0 403");
    EXPECT_TRUE(trunk.take().empty());
    EXPECT_EQ(counter("b2bua_auth_failures_total",
                      {{"direction", "downstream"}, {"reason", "wrong_password"}, {"peer", "pbx.local"}}),
              1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, unknown_user_gets_the_same_403_as_a_wrong_password) {
    pbx_call c;
    pbx.invite(c);
    auto challenge = pbx.expect("SIP/2.0 407");
    pbx.ack_failure(c, challenge);
    ++c.cseq;
    pbx.invite(c, pbx_actor::answer_challenge(challenge, "mallory", "guess", pbx.request_uri(c)));
    auto refused = pbx.expect("SIP/2.0 403");
    EXPECT_EQ(refused.reason(), "Forbidden");
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"reason", "unknown_user"}}), 1);
}

TEST_F(call_flow, digest_uri_other_than_the_request_uri_gets_400) {
    pbx_call c;
    pbx.invite(c);
    auto challenge = pbx.expect("SIP/2.0 407");
    ++c.cseq;
    // What SIPp sends without -auth_uri: the uri of the server, not the Request-URI.
    pbx.invite(c, pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", "sip:127.0.0.1:5070"));
    pbx.expect("SIP/2.0 400");
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"reason", "uri_mismatch"}}), 1);
}

TEST_F(call_flow, expired_nonce_gets_a_stale_challenge_and_the_retry_passes) {
    pbx_call c;
    pbx.invite(c);
    auto challenge = pbx.expect("SIP/2.0 407");
    pbx.ack_failure(c, challenge);
    clock.advance(61s);  // past nonce_ttl_s
    ++c.cseq;
    pbx.invite(c, pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", pbx.request_uri(c)));
    auto stale = pbx.expect("SIP/2.0 407");
    pbx.ack_failure(c, stale);
    EXPECT_NE(stale.find(sip::header_id::proxy_authenticate)->value.find("stale=true"), std::string_view::npos);
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"reason", "stale_nonce"}}), 1);
    ++c.cseq;
    pbx.invite(c, pbx_actor::answer_challenge(stale, "pbxuser", "pbxpass", pbx.request_uri(c)));
    trunk.expect("INVITE");
}

TEST_F(call_flow, trunk_rejecting_our_credentials_fails_the_call_with_503) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.challenge(invite);
    auto resent = std::move(trunk.take_matching("INVITE").at(0));
    trunk.challenge(resent);  // challenged again, not stale: our credentials are wrong
    auto failed = pbx.expect("SIP/2.0 503");
    EXPECT_EQ(failed.to().tag.empty(), false);
    EXPECT_EQ(trunk.take_matching("INVITE").size(), 0u);  // no third INVITE: no loop
    EXPECT_EQ(counter("b2bua_auth_failures_total",
                      {{"direction", "upstream"}, {"reason", "rejected"}, {"peer", "carrier"}}),
              1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "carrier"}, {"result", "upstream_auth_failed"}}), 1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, trunk_403_after_our_credentials_is_relayed_and_counted_forbidden) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.challenge(invite);
    auto resent = std::move(trunk.take_matching("INVITE").at(0));
    // Providers use 403 for policy too (caller ID, destination, balance): the PBX hears it
    // as it is, with what lets it act on it, and operators see it as `forbidden`.
    trunk.respond(resent, 403, "Caller ID Not Allowed",
                              {{"Warning", "399 gw7.trunk.example \"Caller ID not allowed\""},
                               {"Reason", "Q.850;cause=21;text=\"Call rejected\""},
                               {"Contact", "<sip:gw7.trunk.example>"}});
    auto refused = pbx.expect("SIP/2.0 403");
    EXPECT_EQ(refused.reason(), "Caller ID Not Allowed");
    ASSERT_NE(refused.find(sip::header_id::warning), nullptr);
    ASSERT_NE(refused.find(sip::header_id::reason), nullptr);
    EXPECT_NE(refused.find(sip::header_id::reason)->value.find("cause=21"), std::string_view::npos);
    EXPECT_TRUE(refused.contacts().empty());  // the trunk's Contact stays on leg B
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "upstream"}, {"reason", "forbidden"}}), 1);
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "upstream"}, {"reason", "rejected"}}), 0);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "carrier"}, {"result", "rejected"}}), 1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, stale_challenges_are_answered_but_never_loop) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.challenge(invite);
    int invites = 1;
    for (int i = 0; i < 10; ++i) {
        auto sent = trunk.take_matching("INVITE");
        if (sent.empty()) break;
        ++invites;
        trunk.challenge(sent.front(), /*stale=*/true);
    }
    EXPECT_LE(invites, 4);  // the first, the answer, and at most two stale retries
    pbx.expect("SIP/2.0 503");
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "upstream"}, {"reason", "challenge_loop"}}), 1);
}

// ----------------------------------------------------------------------- cancel and failures

TEST_F(call_flow, cancel_while_ringing_gives_487_and_cancels_leg_b) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.respond(invite, 180, "Ringing");
    pbx.expect("SIP/2.0 180");
    pbx.cancel(c);
    auto answers = pbx.take();
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[0].status(), 200);
    EXPECT_EQ(answers[0].cseq().method, sip::method::cancel);
    EXPECT_EQ(answers[1].status(), 487);
    EXPECT_EQ(answers[1].cseq().method, sip::method::invite);
    auto cancel = trunk.expect("CANCEL");
    EXPECT_EQ(cancel.vias()[0].branch, invite.vias()[0].branch);  // §9.1
    EXPECT_EQ(cancel.cseq().seq, invite.cseq().seq);
    EXPECT_EQ(b2b.active_calls(), 1u);  // until leg B's INVITE ends
    trunk.respond(cancel, 200, "OK");
    trunk.respond(invite, 487, "Request Terminated");
    trunk.expect("ACK");
    EXPECT_TRUE(pbx.take().empty());  // the PBX already has its 487
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(counter("b2bua_calls_total", {{"result", "cancelled"}}), 1);
}

TEST_F(call_flow, cancel_before_any_provisional_waits_for_one_then_cancels) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    pbx.cancel(c);
    EXPECT_EQ(pbx.take().size(), 2u);  // 200 to the CANCEL, 487 to the INVITE
    EXPECT_TRUE(trunk.take().empty());  // §9.1: no CANCEL before a provisional
    trunk.respond(invite, 100, "Trying");
    auto cancel = trunk.expect("CANCEL");
    trunk.respond(cancel, 200, "OK");
    trunk.respond(invite, 487, "Request Terminated");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, answer_that_crosses_the_cancel_is_acked_and_hung_up) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.respond(invite, 180, "Ringing");
    pbx.take();
    pbx.cancel(c);
    pbx.take();
    auto cancel = trunk.expect("CANCEL");
    trunk.ok(invite);  // the trunk answered before it saw the CANCEL
    auto to_trunk = trunk.take();
    ASSERT_EQ(to_trunk.size(), 2u);
    EXPECT_TRUE(starts(to_trunk[0], "ACK"));
    EXPECT_TRUE(starts(to_trunk[1], "BYE"));
    EXPECT_TRUE(pbx.take().empty());  // the PBX never sees that 200
    trunk.respond(to_trunk[1], 200, "OK");
    trunk.respond(cancel, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, trunk_that_never_answers_gives_408_after_invite_timeout) {
    pbx_call c;
    authenticated_invite(c);
    clock.advance(3999ms);
    pbx.expect_nothing();
    clock.advance(1ms);  // invite_timeout_ms (4000 by default), not Timer B's 32 s
    pbx.expect("SIP/2.0 408");
    EXPECT_EQ(counter("b2bua_calls_total", {{"result", "timeout"}}), 1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, ringing_too_long_is_cancelled_with_408) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.respond(invite, 180, "Ringing");
    pbx.take();
    clock.advance(120s + 100ms);  // calls.max_ringing_s, before any retransmission
    pbx.expect("SIP/2.0 408");
    auto cancel = trunk.take_matching("CANCEL");
    ASSERT_EQ(cancel.size(), 1u);
    trunk.respond(invite, 487, "Request Terminated");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, trunk_that_ignores_our_cancel_is_given_up_after_64_t1) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.respond(invite, 180, "Ringing");
    pbx.cancel(c);
    EXPECT_EQ(b2b.active_calls(), 1u);
    clock.advance(33s);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, busy_is_relayed_with_our_tag) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.respond(invite, 486, "Busy Here");
    auto busy = pbx.expect("SIP/2.0 486 Busy Here");
    EXPECT_NE(busy.to().tag, trunk.tag());
    EXPECT_FALSE(busy.to().tag.empty());
    trunk.expect("ACK");
    EXPECT_EQ(counter("b2bua_calls_total", {{"result", "rejected"}}), 1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, redirect_is_not_passed_on_with_its_contact) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.respond(invite, 302, "Moved Temporarily", {{"Contact", "<sip:elsewhere@192.0.2.9>"}});
    auto answer = pbx.expect("SIP/2.0 480");
    EXPECT_TRUE(answer.contacts().empty());
    EXPECT_EQ(answer.wire().find("192.0.2.9"), std::string_view::npos);
}

TEST_F(call_flow, pbx_that_never_acks_is_hung_up_on_both_legs) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.ok(invite);
    auto ok = pbx.expect("SIP/2.0 200");
    clock.advance(4s);
    EXPECT_GE(pbx.take_matching("SIP/2.0 200").size(), 2u);  // the 2xx is retransmitted meanwhile
    clock.advance(28s + 100ms);  // Timer L = 64*T1 from the 2xx, before the BYE's retransmission
    auto to_trunk = trunk.take();
    ASSERT_GE(to_trunk.size(), 2u);
    EXPECT_TRUE(starts(to_trunk[0], "ACK"));
    EXPECT_TRUE(starts(to_trunk[1], "BYE"));
    auto byes = pbx.take_matching("BYE");
    ASSERT_EQ(byes.size(), 1u);
    trunk.respond(to_trunk[1], 200, "OK");
    pbx.respond(byes[0], 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

// --------------------------------------------------------------------------- other requests

TEST_F(call_flow, options_out_of_dialog_is_answered) {
    pbx.options();
    auto ok = pbx.expect("SIP/2.0 200");
    EXPECT_NE(ok.find("Allow"), nullptr);
}

TEST_F(call_flow, bye_for_an_unknown_dialog_gets_481) {
    pbx_call c;
    c.to_tag = "nosuchtag";
    pbx.send(pbx.in_dialog_bytes(c, "BYE", 5));
    pbx.expect("SIP/2.0 481");
}

TEST_F(call_flow, a_2xx_from_a_second_fork_is_acked_and_ended) {
    pbx_call c;
    auto retry = confirmed_call(c);  // fork "carriertag" answered and was ACKed
    // A forking proxy at the provider lets a second phone answer too (§13.2.2.4).
    auto second = sip::response_writer(retry, 200, "OK", "secondfork");
    second.header("Contact", "<sip:phone2@" + trunk.host_port() + ">");
    const std::string second_ok = std::move(second).finish(trunk_actor::sdp_answer, "application/sdp");
    trunk.send(second_ok);
    auto got = trunk.take();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].method(), sip::method::ack);
    EXPECT_EQ(got[0].to().tag, "secondfork");
    EXPECT_EQ(got[0].request_uri().text, "sip:phone2@" + trunk.host_port());
    EXPECT_NE(got[0].find(sip::header_id::authorization), nullptr);  // the INVITE's credentials
    EXPECT_EQ(got[1].method(), sip::method::bye);
    EXPECT_EQ(got[1].to().tag, "secondfork");
    EXPECT_EQ(got[1].call_id(), retry.call_id());
    EXPECT_TRUE(pbx.take().empty());  // the PBX keeps its one call
    EXPECT_EQ(b2b.active_calls(), 1u);
    // Its retransmission gets the same ACK again, not a second BYE.
    trunk.send(second_ok);
    auto again = trunk.take();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].method(), sip::method::ack);
    EXPECT_EQ(again[0].to().tag, "secondfork");
    // The first fork's call goes on and ends normally.
    trunk.respond(got[1], 200, "OK");
    pbx.bye(c);
    pbx.expect("SIP/2.0 200");
    auto bye = trunk.expect("BYE");
    EXPECT_EQ(bye.to().tag, "carriertag");
    trunk.respond(bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

// A call lasts for hours; the INVITE's transaction for 64*T1 after its 2xx (RFC 6026 §7.2).
// The dialog state the INVITE was built from goes with it, and the call keeps all it needs.
TEST_F(call_flow, the_call_outlives_its_invite_transaction) {
    pbx_call c;
    auto retry = confirmed_call(c);
    clock.advance(33s);  // Timer M (64*T1 = 32 s) has ended the INVITE's transaction
    const auto calls = b2b.list_calls(0, 10);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls.front().outbound_call_id, std::string(retry.call_id()));
    // In-dialog requests still cross, in both directions, with the trunk leg's own dialog.
    pbx.send(pbx.in_dialog_bytes(c, "OPTIONS", 3));
    auto options = trunk.expect("OPTIONS");
    EXPECT_EQ(options.call_id(), retry.call_id());
    EXPECT_EQ(options.to().tag, "carriertag");
    EXPECT_EQ(options.from().tag, retry.from().tag);
    trunk.respond(options, 200, "OK");
    pbx.expect("SIP/2.0 200");
    pbx.send(pbx.in_dialog_bytes(c, "BYE", 4));
    pbx.expect("SIP/2.0 200");
    auto bye = trunk.expect("BYE");
    EXPECT_EQ(bye.call_id(), retry.call_id());
    EXPECT_EQ(bye.to().tag, "carriertag");
    trunk.respond(bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, an_out_of_order_request_in_the_dialog_gets_500) {
    pbx_call c;
    confirmed_call(c);  // the PBX's INVITE had CSeq 2
    pbx.send(pbx.in_dialog_bytes(c, "OPTIONS", 1));
    pbx.expect("SIP/2.0 500");  // §12.2.2: lower than the last one
    pbx.send(pbx.in_dialog_bytes(c, "OPTIONS", 3));
    trunk.respond(trunk.expect("OPTIONS"), 200, "OK");  // in order: relayed to the far end
    pbx.expect("SIP/2.0 200");
    EXPECT_EQ(b2b.active_calls(), 1u);
}

TEST_F(call_flow, unsupported_requirement_gets_420) {
    pbx_call c;
    auto bytes = pbx.invite_bytes(c);
    // 100rel is honoured (RFC 3262); only what we do not support is named in Unsupported.
    bytes.insert(bytes.find("Max-Forwards"), "Require: 100rel, fooext\r\n");
    pbx.send(bytes);
    auto bad = pbx.expect("SIP/2.0 420");
    ASSERT_NE(bad.find("Unsupported"), nullptr);
    EXPECT_EQ(bad.find("Unsupported")->value, "fooext");
}

TEST_F(call_flow, options_with_an_unsupported_requirement_gets_420_too) {
    // RFC 4475 §3.3.5 (bext01): Require applies to every request but ACK and CANCEL.
    pbx.options({{"Require", "nothingSupportsThis, nothingSupportsThisEither"},
                          {"Proxy-Require", "noProxiesSupportThis"}});
    auto bad = pbx.expect("SIP/2.0 420");
    ASSERT_NE(bad.find("Unsupported"), nullptr);
    EXPECT_EQ(bad.find("Unsupported")->value, "nothingSupportsThis, nothingSupportsThisEither");
}

TEST_F(call_flow, invite_that_accepts_no_sdp_gets_406) {
    pbx_call c;
    auto bytes = pbx.invite_bytes(c);
    bytes.insert(bytes.find("Max-Forwards"), "Accept: text/nobodyKnowsThis\r\n");
    pbx.send(bytes);
    pbx.expect("SIP/2.0 406");
    pbx_call d;
    d.call_id = "accept-2";
    auto ok = pbx.invite_bytes(d);
    ok.insert(ok.find("Max-Forwards"), "Accept: text/plain, application/sdp;level=1\r\n");
    pbx.send(ok);
    pbx.expect("SIP/2.0 407");  // acceptable: on to authentication
    pbx_call e;
    e.call_id = "accept-3";
    auto empty = pbx.invite_bytes(e);
    empty.insert(empty.find("Max-Forwards"), "Accept:\r\n");  // §20.1: nothing is acceptable
    pbx.send(empty);
    pbx.expect("SIP/2.0 406");
}

TEST_F(call_flow, max_forwards_zero_is_not_forwarded) {
    pbx_call c;
    auto bytes = pbx.invite_bytes(c);
    bytes.replace(bytes.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
    pbx.send(bytes);
    pbx.expect("SIP/2.0 483");
}

TEST_F(call_flow, the_same_invite_arriving_twice_on_another_branch_is_a_merged_request) {
    pbx_call c;
    pbx.invite(c);
    auto challenge = pbx.expect("SIP/2.0 407");
    ++c.cseq;
    const auto answer = pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", pbx.request_uri(c));
    pbx.invite(c, answer);
    trunk.expect("INVITE");
    pbx.invite(c, answer);  // new branch, same Call-ID, From tag and CSeq
    auto loop = pbx.take_matching("SIP/2.0 482");
    EXPECT_EQ(loop.size(), 1u);
    EXPECT_TRUE(trunk.take().empty());
    EXPECT_EQ(b2b.active_calls(), 1u);
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"reason", "replayed_nonce"}}), 0);
}

TEST_F(call_flow, a_captured_answer_replayed_on_a_new_call_is_challenged_again) {
    pbx_call first = pbx.new_call();
    pbx.invite(first);
    auto challenge = pbx.expect("SIP/2.0 407");
    pbx.ack_failure(first, challenge);
    ++first.cseq;
    const auto captured = pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", pbx.request_uri(first));
    pbx.invite(first, captured);
    trunk.expect("INVITE");
    // Someone who saw that INVITE sends its Proxy-Authorization with a call of their own.
    pbx_call replay = pbx.new_call();
    pbx.invite(replay, captured);
    auto again = pbx.take_matching("SIP/2.0 407");
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again.front().find(sip::header_id::proxy_authenticate)->value.find("stale=true"), std::string_view::npos);
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "downstream"}, {"reason", "replayed_nonce"}}), 1);
    EXPECT_TRUE(trunk.take().empty());
    EXPECT_EQ(b2b.active_calls(), 1u);
}

TEST_F(call_flow, no_route_gets_404) {
    cfg.routes = {{"49", {"carrier"}, 0, {}}};
    core strict(cfg, net, clock, metrics, auth);
    sip::transaction_manager m(net, clock, strict, sip::transaction_config{}, &metrics);
    strict.attach(m);
    net.set_user(&m);
    pbx_call c;
    pbx.invite(c);
    auto challenge = pbx.expect("SIP/2.0 407");
    ++c.cseq;
    pbx.invite(c, pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", pbx.request_uri(c)));
    pbx.expect("SIP/2.0 404");
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "no_route"}}), 1);
    net.set_user(&txm);
}

TEST_F(call_flow, a_worker_names_itself_in_every_tag_and_branch_it_makes) {
    // What the trunk and the PBX send back carries these, and reaches this worker (worker_dispatch).
    cfg.sip.workers = 5;
    core fourth(cfg, net, clock, metrics, auth, 4);
    sip::transaction_config tc;
    tc.worker = 4;
    sip::transaction_manager m(net, clock, fourth, tc, &metrics);
    fourth.attach(m);
    net.set_user(&m);
    pbx_call c;
    pbx.invite(c);
    auto challenge = pbx.expect("SIP/2.0 407");
    EXPECT_EQ(sip::token_worker(challenge.to().tag), 4);
    pbx.ack_failure(c, challenge);
    ++c.cseq;
    pbx.invite(c, pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", pbx.request_uri(c)));
    auto invite = trunk.expect("INVITE");
    EXPECT_EQ(sip::token_worker(invite.from().tag), 4);
    ASSERT_FALSE(invite.vias().empty());
    EXPECT_EQ(sip::token_worker(invite.vias().front().branch), 4);
    trunk.respond(invite, 200, "OK", {{"Contact", trunk.contact()}});
    auto ok = pbx.take_matching("SIP/2.0 200");
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_EQ(sip::token_worker(ok.front().to().tag), 4);
    // Its call ids name it too, for the admin API: 5, 10, 15... of worker 4 of 5.
    const auto calls = fourth.list_calls(0, 10);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls.front().id, 5u);
    EXPECT_EQ(core::worker_of_call(calls.front().id, 5), 4u);
    EXPECT_EQ(core::worker_of_call(1, 1), 0u);
    net.set_user(&txm);
}

TEST_F(call_flow, many_calls_leave_nothing_behind) {
    for (int i = 0; i < 50; ++i) {
        pbx_call c;
        c.call_id = "bulk-" + std::to_string(i);
        c.from_tag = "t" + std::to_string(i);
        auto invite = confirmed_call(c);
        pbx.bye(c);
        pbx.expect("SIP/2.0 200");
        auto bye = trunk.expect("BYE");
        trunk.respond(bye, 200, "OK");
    }
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(counter("b2bua_calls_total", {{"result", "answered"}}), 50);
    clock.advance(60s);  // every transaction timer runs out
    EXPECT_EQ(txm.size(), 0u);
    EXPECT_EQ(clock.pending(), 0u);
}

}  // namespace
// ------------------------------------------------------------------ defects fixed in the reshape

TEST_F(call_flow, the_pbx_record_route_comes_back_in_provisionals_too) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.respond(invite, 183, "Session Progress",
                              {{"Contact", trunk.contact()}, {"Record-Route", trunk.record_route()}});
    auto progress = pbx.expect("SIP/2.0 183");
    ASSERT_EQ(progress.record_routes().size(), 1u);
    EXPECT_EQ(progress.record_routes()[0].text, "<sip:pbx-proxy.internal;lr>");
    EXPECT_EQ(progress.wire().find("edge."), std::string_view::npos);
}

TEST_F(call_flow, the_200_to_a_cancel_carries_the_invites_to_tag) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.ringing(invite);
    auto ringing = pbx.expect("SIP/2.0 180");
    pbx.cancel(c);
    auto answers = pbx.take();
    ASSERT_GE(answers.size(), 1u);
    const auto ok = std::find_if(answers.begin(), answers.end(),
                                 [](const sip::message& m) { return m.status() == 200 && m.cseq().method == sip::method::cancel; });
    ASSERT_NE(ok, answers.end());
    EXPECT_EQ(ok->to().tag, ringing.to().tag);  // §9.2
}

TEST_F(call_flow, a_cancel_after_the_final_response_gets_200_not_481) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.respond(invite, 486, "Busy Here");
    auto busy = pbx.expect("SIP/2.0 486");
    // The PBX's CANCEL crossed our 486 (and our call may already be gone): it matched an
    // INVITE we answered, so 200 and no effect (§9.2).
    pbx.cancel(c);
    auto got = pbx.take_matching("SIP/2.0");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0].status() == 200 || got[0].status() == 481) << got[0].status();
}

TEST_F(call_flow, a_cancel_for_an_answered_call_gets_200) {
    pbx_call c;
    confirmed_call(c);
    pbx.cancel(c);
    auto ok = pbx.expect("SIP/2.0 200");
    EXPECT_EQ(ok.cseq().method, sip::method::cancel);
    EXPECT_EQ(ok.to().tag, c.to_tag);
    EXPECT_TRUE(trunk.take().empty());  // no effect on the call
    EXPECT_EQ(b2b.active_calls(), 1u);
}

TEST_F(call_flow, a_request_uri_without_a_user_part_gets_404) {
    // "INVITE sip:127.0.0.1:5070" dials no number: even the default route has nothing to
    // put on leg B (it used to go on as sip:@trunk).
    const auto no_user = [](std::string bytes) {
        const std::string from = "INVITE sip:1000@127.0.0.1:5070 ";
        bytes.replace(bytes.find(from), from.size(), "INVITE sip:127.0.0.1:5070 ");
        return bytes;
    };
    pbx_call c;
    pbx.send(no_user(pbx.invite_bytes(c)));
    auto challenge = pbx.expect("SIP/2.0 407");
    pbx.ack_failure(c, challenge);
    ++c.cseq;
    pbx.send(no_user(pbx.invite_bytes(c, pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", "sip:127.0.0.1:5070"))));
    pbx.expect("SIP/2.0 404");
    EXPECT_TRUE(trunk.take().empty());
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "no_route"}}), 1);
}

// Without session timers: our refreshes, which these actors never answer, would end the call
// first (session_timer_test.cpp covers that).
class without_session_timers : public call_flow {
protected:
    without_session_timers() : call_flow("  session_expires_s: 0\n") {}
};

TEST_F(without_session_timers, a_confirmed_call_ends_after_the_maximum_duration) {
    pbx_call c;
    confirmed_call(c);
    clock.advance(std::chrono::hours(4) - std::chrono::seconds(1));
    EXPECT_TRUE(pbx.take().empty());
    clock.advance(std::chrono::seconds(1));
    auto byes_a = pbx.take_matching("BYE");
    auto byes_b = trunk.take_matching("BYE");
    ASSERT_FALSE(byes_a.empty());
    ASSERT_FALSE(byes_b.empty());
    auto& bye_a = byes_a.front();
    auto& bye_b = byes_b.front();
    pbx.respond(bye_a, 200, "OK");
    trunk.respond(bye_b, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(counter("b2bua_active_calls", {{"direction", "outbound"}}), 0);
}

TEST_F(call_flow, every_metric_series_exists_at_zero_from_start) {
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "downstream"}, {"peer", "pbx.local"},
                                                   {"reason", "replayed_nonce"}}), 0);
    bool found = false;
    for (const auto& family : registry.Collect()) {
        if (family.name != "b2bua_auth_failures_total") continue;
        for (const auto& m : family.metric) {
            for (const auto& l : m.label) found = found || (l.name == "reason" && l.value == "challenge_unanswered");
            for (const auto& l : m.label) EXPECT_FALSE(l.name == "peer" && l.value.empty());
        }
    }
    EXPECT_TRUE(found);
    std::set<std::string> names;
    for (const auto& family : registry.Collect()) names.insert(family.name);
    for (const char* n : {"b2bua_auth_challenges_total", "b2bua_auth_failures_total", "b2bua_auth_successes_total",
                          "b2bua_calls_total", "b2bua_active_calls", "b2bua_sip_requests_total",
                          "b2bua_sip_responses_total", "b2bua_sip_parse_errors_total",
                          "b2bua_sip_retransmissions_total"}) {
        EXPECT_TRUE(names.contains(n)) << n;
    }
}

}  // namespace b2b::b2bua::test
