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
    from_pbx(pbx_invite(c));
    auto challenge = expect_one(pbx, "SIP/2.0 407");
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
    EXPECT_TRUE(take(trunk).empty());
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
    EXPECT_EQ(invite.request_uri().text, "sip:1000@127.0.0.1:5080");
    EXPECT_EQ(invite.to().uri.text, "sip:1000@127.0.0.1:5080");
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
}

TEST_F(call_flow, full_call_with_both_challenges_then_pbx_hangs_up) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_challenge(invite));
    // The challenge is answered on leg B alone: the PBX sees nothing of it.
    auto to_trunk_first = take(trunk);
    ASSERT_EQ(to_trunk_first.size(), 2u);
    EXPECT_TRUE(starts(to_trunk_first[0], "ACK"));  // the INVITE transaction ACKs the 401 ...
    auto resent = std::move(to_trunk_first[1]);     // ... and the request goes again, authenticated
    EXPECT_TRUE(starts(resent, "INVITE"));
    EXPECT_TRUE(trunk_accepts(resent));
    EXPECT_EQ(resent.cseq().seq, 2u);
    EXPECT_EQ(resent.call_id(), invite.call_id());
    EXPECT_EQ(resent.from().tag, invite.from().tag);
    EXPECT_NE(resent.vias()[0].branch, invite.vias()[0].branch);
    EXPECT_TRUE(take(pbx).empty());
    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "upstream"}}), 1);

    from_trunk(trunk_response(resent, 100, "Trying"));
    EXPECT_TRUE(take(pbx).empty());  // 100 is hop by hop
    from_trunk(trunk_response(resent, 180, "Ringing", {{"Contact", "<sip:gw7@127.0.0.1:5080>"}}));
    auto ringing = expect_one(pbx, "SIP/2.0 180");
    c.to_tag = std::string(ringing.to().tag);
    EXPECT_FALSE(c.to_tag.empty());
    EXPECT_NE(c.to_tag, "trunktag");
    EXPECT_EQ(ringing.call_id(), c.call_id);
    EXPECT_EQ(ringing.vias()[0].branch, c.branch);
    EXPECT_EQ(ringing.contacts()[0].uri.port, 5070);

    from_trunk(trunk_ok(resent));
    auto ok = expect_one(pbx, "SIP/2.0 200");
    EXPECT_EQ(ok.to().tag, c.to_tag);  // stable To tag on leg A
    EXPECT_EQ(ok.body(), sdp_answer);
    // §12.1.1: the PBX's own Record-Route comes back in the 2xx; the trunk's stays on leg B.
    ASSERT_EQ(ok.record_routes().size(), 1u);
    EXPECT_EQ(ok.record_routes()[0].text, "<sip:pbx-proxy.internal;lr>");
    EXPECT_EQ(ok.wire().find("edge2"), std::string_view::npos);
    EXPECT_EQ(ok.contacts()[0].uri.text, "sip:b2bua@127.0.0.1:5070");
    EXPECT_EQ(ok.wire().find("trunk.example"), std::string_view::npos);
    EXPECT_EQ(ok.wire().find("gw7"), std::string_view::npos);
    EXPECT_EQ(counter("b2bua_active_calls", {}), 1);

    // SIPp with zero hold time: ACK and BYE back to back.
    from_pbx(pbx_in_dialog(c, "ACK", c.cseq));
    from_pbx(pbx_in_dialog(c, "BYE", c.cseq + 1));
    expect_one(pbx, "SIP/2.0 200");
    auto to_trunk = take(trunk);
    ASSERT_EQ(to_trunk.size(), 2u);
    const auto& ack = to_trunk[0];
    const auto& bye = to_trunk[1];
    EXPECT_TRUE(starts(ack, "ACK sip:gw7@127.0.0.1:5080"));  // remote target = the trunk's Contact
    EXPECT_EQ(ack.cseq().seq, 2u);
    EXPECT_EQ(ack.to().tag, "trunktag");
    ASSERT_EQ(ack.routes().size(), 2u);  // Record-Route reversed into the route set
    EXPECT_EQ(ack.routes()[0].uri.text, "sip:127.0.0.1:5080;lr");
    EXPECT_TRUE(starts(bye, "BYE sip:gw7@127.0.0.1:5080"));
    EXPECT_EQ(bye.cseq().seq, 3u);
    EXPECT_EQ(bye.call_id(), invite.call_id());
    from_trunk(trunk_response(bye, 200, "OK"));
    EXPECT_EQ(counter("b2bua_active_calls", {}), 0);
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "carrier"}, {"result", "answered"}}), 1);
}

TEST_F(call_flow, trunk_hangs_up_and_the_bye_reaches_the_pbx_dialog) {
    pbx_call c;
    auto invite = confirmed_call(c);
    from_trunk(trunk_in_dialog(invite, "BYE"));
    expect_one(trunk, "SIP/2.0 200");
    auto bye = expect_one(pbx, "BYE");
    // Leg A's dialog: the PBX's Contact, its Record-Route, its Call-ID and tags, our Via.
    EXPECT_TRUE(starts(bye, "BYE sip:200@127.0.0.1:5060 SIP/2.0"));
    EXPECT_EQ(bye.call_id(), c.call_id);
    EXPECT_EQ(bye.from().tag, c.to_tag);
    EXPECT_EQ(bye.to().tag, c.from_tag);
    ASSERT_EQ(bye.routes().size(), 1u);
    EXPECT_EQ(bye.routes()[0].uri.text, "sip:pbx-proxy.internal;lr");
    ASSERT_EQ(bye.vias().size(), 1u);
    EXPECT_EQ(bye.vias()[0].port, 5070);
    EXPECT_EQ(bye.wire().find("trunktag"), std::string_view::npos);
    EXPECT_EQ(bye.wire().find("gw7"), std::string_view::npos);
    EXPECT_EQ(b2b.active_calls(), 1u);
    from_pbx(trunk_response(bye, 200, "OK"));
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, trunk_bye_before_the_pbx_ack_waits_for_it) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_challenge(invite));
    auto resent = std::move(take_matching(trunk, "INVITE").at(0));
    from_trunk(trunk_ok(resent));
    auto ok = expect_one(pbx, "SIP/2.0 200");
    c.to_tag = std::string(ok.to().tag);
    from_trunk(trunk_in_dialog(resent, "BYE"));
    // The trunk gets its ACK and the 200 for its BYE; the PBX gets no BYE before its ACK.
    auto to_trunk = take(trunk);
    ASSERT_EQ(to_trunk.size(), 2u);
    EXPECT_TRUE(starts(to_trunk[0], "SIP/2.0 200") || starts(to_trunk[1], "SIP/2.0 200"));
    EXPECT_TRUE(starts(to_trunk[0], "ACK") || starts(to_trunk[1], "ACK"));
    EXPECT_TRUE(take(pbx).empty());
    from_pbx(pbx_in_dialog(c, "ACK", c.cseq));
    auto bye = expect_one(pbx, "BYE");
    from_pbx(trunk_response(bye, 200, "OK"));
    EXPECT_TRUE(take(trunk).empty());  // the trunk's ACK is not sent twice
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, retransmitted_2xx_gets_the_same_ack_even_as_the_bye_crosses_it) {
    pbx_call c;
    auto invite = confirmed_call(c);
    const std::string first_ack(net.sent().back().bytes);
    // The trunk did not see our ACK and resends its 200; meanwhile the PBX hangs up.
    from_trunk(trunk_ok(invite));
    auto again = expect_one(trunk, "ACK");
    EXPECT_EQ(again.wire(), first_ack);
    from_pbx(pbx_in_dialog(c, "BYE", c.cseq + 1));
    expect_one(pbx, "SIP/2.0 200");
    auto bye = expect_one(trunk, "BYE");
    from_trunk(trunk_ok(invite));  // one more late 200: same ACK, no new call state
    expect_one(trunk, "ACK");
    from_trunk(trunk_response(bye, 200, "OK"));
    EXPECT_EQ(b2b.active_calls(), 0u);
    from_trunk(trunk_ok(invite));  // after the end: ignored quietly
    EXPECT_TRUE(take(pbx).empty());
}

// ------------------------------------------------------------------------------- auth failures

TEST_F(call_flow, wrong_password_is_refused_with_403_and_counted) {
    pbx_call c;
    authenticated_invite(c, "not-the-password");
    expect_one(pbx, "SIP/2.0 403");
    EXPECT_TRUE(take(trunk).empty());
    EXPECT_EQ(counter("b2bua_auth_failures_total",
                      {{"direction", "downstream"}, {"reason", "wrong_password"}, {"peer", "pbx.local"}}),
              1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, unknown_user_gets_the_same_403_as_a_wrong_password) {
    pbx_call c;
    from_pbx(pbx_invite(c));
    auto challenge = expect_one(pbx, "SIP/2.0 407");
    from_pbx(pbx_ack_failure(c, challenge));
    ++c.cseq;
    from_pbx(pbx_invite(c, answer_challenge(challenge, "mallory", "guess", "sip:1000@127.0.0.1:5070")));
    auto refused = expect_one(pbx, "SIP/2.0 403");
    EXPECT_EQ(refused.reason(), "Forbidden");
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"reason", "unknown_user"}}), 1);
}

TEST_F(call_flow, digest_uri_other_than_the_request_uri_gets_400) {
    pbx_call c;
    from_pbx(pbx_invite(c));
    auto challenge = expect_one(pbx, "SIP/2.0 407");
    ++c.cseq;
    // What SIPp sends without -auth_uri: the uri of the server, not the Request-URI.
    from_pbx(pbx_invite(c, answer_challenge(challenge, "pbxuser", "pbxpass", "sip:127.0.0.1:5070")));
    expect_one(pbx, "SIP/2.0 400");
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"reason", "uri_mismatch"}}), 1);
}

TEST_F(call_flow, expired_nonce_gets_a_stale_challenge_and_the_retry_passes) {
    pbx_call c;
    from_pbx(pbx_invite(c));
    auto challenge = expect_one(pbx, "SIP/2.0 407");
    from_pbx(pbx_ack_failure(c, challenge));
    clock.advance(61s);  // past nonce_ttl_s
    ++c.cseq;
    from_pbx(pbx_invite(c, answer_challenge(challenge, "pbxuser", "pbxpass", "sip:1000@127.0.0.1:5070")));
    auto stale = expect_one(pbx, "SIP/2.0 407");
    from_pbx(pbx_ack_failure(c, stale));
    EXPECT_NE(stale.find(sip::header_id::proxy_authenticate)->value.find("stale=true"), std::string_view::npos);
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"reason", "stale_nonce"}}), 1);
    ++c.cseq;
    from_pbx(pbx_invite(c, answer_challenge(stale, "pbxuser", "pbxpass", "sip:1000@127.0.0.1:5070")));
    expect_one(trunk, "INVITE");
}

TEST_F(call_flow, trunk_rejecting_our_credentials_fails_the_call_with_503) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_challenge(invite));
    auto resent = std::move(take_matching(trunk, "INVITE").at(0));
    from_trunk(trunk_challenge(resent));  // challenged again, not stale: our credentials are wrong
    auto failed = expect_one(pbx, "SIP/2.0 503");
    EXPECT_EQ(failed.to().tag.empty(), false);
    EXPECT_EQ(take_matching(trunk, "INVITE").size(), 0u);  // no third INVITE: no loop
    EXPECT_EQ(counter("b2bua_auth_failures_total",
                      {{"direction", "upstream"}, {"reason", "rejected"}, {"peer", "carrier"}}),
              1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "carrier"}, {"result", "upstream_auth_failed"}}), 1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, trunk_403_after_our_credentials_is_relayed_and_counted_forbidden) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_challenge(invite));
    auto resent = std::move(take_matching(trunk, "INVITE").at(0));
    // Providers use 403 for policy too (caller ID, destination, balance): the PBX hears it
    // as it is, with what lets it act on it, and operators see it as `forbidden`.
    from_trunk(trunk_response(resent, 403, "Caller ID Not Allowed",
                              {{"Warning", "399 gw7.trunk.example \"Caller ID not allowed\""},
                               {"Reason", "Q.850;cause=21;text=\"Call rejected\""},
                               {"Contact", "<sip:gw7.trunk.example>"}}));
    auto refused = expect_one(pbx, "SIP/2.0 403");
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
    from_trunk(trunk_challenge(invite));
    int invites = 1;
    for (int i = 0; i < 10; ++i) {
        auto sent = take_matching(trunk, "INVITE");
        if (sent.empty()) break;
        ++invites;
        from_trunk(trunk_challenge(sent.front(), /*stale=*/true));
    }
    EXPECT_LE(invites, 4);  // the first, the answer, and at most two stale retries
    expect_one(pbx, "SIP/2.0 503");
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "upstream"}, {"reason", "challenge_loop"}}), 1);
}

// ----------------------------------------------------------------------- cancel and failures

TEST_F(call_flow, cancel_while_ringing_gives_487_and_cancels_leg_b) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_response(invite, 180, "Ringing"));
    expect_one(pbx, "SIP/2.0 180");
    from_pbx(pbx_cancel(c));
    auto answers = take(pbx);
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[0].status(), 200);
    EXPECT_EQ(answers[0].cseq().method, sip::method::cancel);
    EXPECT_EQ(answers[1].status(), 487);
    EXPECT_EQ(answers[1].cseq().method, sip::method::invite);
    auto cancel = expect_one(trunk, "CANCEL");
    EXPECT_EQ(cancel.vias()[0].branch, invite.vias()[0].branch);  // §9.1
    EXPECT_EQ(cancel.cseq().seq, invite.cseq().seq);
    EXPECT_EQ(b2b.active_calls(), 1u);  // until leg B's INVITE ends
    from_trunk(trunk_response(cancel, 200, "OK"));
    from_trunk(trunk_response(invite, 487, "Request Terminated"));
    expect_one(trunk, "ACK");
    EXPECT_TRUE(take(pbx).empty());  // the PBX already has its 487
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(counter("b2bua_calls_total", {{"result", "cancelled"}}), 1);
}

TEST_F(call_flow, cancel_before_any_provisional_waits_for_one_then_cancels) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_pbx(pbx_cancel(c));
    EXPECT_EQ(take(pbx).size(), 2u);  // 200 to the CANCEL, 487 to the INVITE
    EXPECT_TRUE(take(trunk).empty());  // §9.1: no CANCEL before a provisional
    from_trunk(trunk_response(invite, 100, "Trying"));
    auto cancel = expect_one(trunk, "CANCEL");
    from_trunk(trunk_response(cancel, 200, "OK"));
    from_trunk(trunk_response(invite, 487, "Request Terminated"));
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, answer_that_crosses_the_cancel_is_acked_and_hung_up) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_response(invite, 180, "Ringing"));
    take(pbx);
    from_pbx(pbx_cancel(c));
    take(pbx);
    auto cancel = expect_one(trunk, "CANCEL");
    from_trunk(trunk_ok(invite));  // the trunk answered before it saw the CANCEL
    auto to_trunk = take(trunk);
    ASSERT_EQ(to_trunk.size(), 2u);
    EXPECT_TRUE(starts(to_trunk[0], "ACK"));
    EXPECT_TRUE(starts(to_trunk[1], "BYE"));
    EXPECT_TRUE(take(pbx).empty());  // the PBX never sees that 200
    from_trunk(trunk_response(to_trunk[1], 200, "OK"));
    from_trunk(trunk_response(cancel, 200, "OK"));
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, trunk_that_never_answers_gives_408) {
    pbx_call c;
    authenticated_invite(c);
    clock.advance(32s + 100ms);  // Timer B = 64*T1, before the 408's first retransmission
    expect_one(pbx, "SIP/2.0 408");
    EXPECT_EQ(counter("b2bua_calls_total", {{"result", "timeout"}}), 1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, ringing_too_long_is_cancelled_with_408) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_response(invite, 180, "Ringing"));
    take(pbx);
    clock.advance(120s + 100ms);  // calls.max_ringing_s, before any retransmission
    expect_one(pbx, "SIP/2.0 408");
    auto cancel = take_matching(trunk, "CANCEL");
    ASSERT_EQ(cancel.size(), 1u);
    from_trunk(trunk_response(invite, 487, "Request Terminated"));
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, trunk_that_ignores_our_cancel_is_given_up_after_64_t1) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_response(invite, 180, "Ringing"));
    from_pbx(pbx_cancel(c));
    EXPECT_EQ(b2b.active_calls(), 1u);
    clock.advance(33s);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, busy_is_relayed_with_our_tag) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_response(invite, 486, "Busy Here"));
    auto busy = expect_one(pbx, "SIP/2.0 486 Busy Here");
    EXPECT_NE(busy.to().tag, "trunktag");
    EXPECT_FALSE(busy.to().tag.empty());
    expect_one(trunk, "ACK");
    EXPECT_EQ(counter("b2bua_calls_total", {{"result", "rejected"}}), 1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(call_flow, redirect_is_not_passed_on_with_its_contact) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_response(invite, 302, "Moved Temporarily", {{"Contact", "<sip:elsewhere@192.0.2.9>"}}));
    auto answer = expect_one(pbx, "SIP/2.0 480");
    EXPECT_TRUE(answer.contacts().empty());
    EXPECT_EQ(answer.wire().find("192.0.2.9"), std::string_view::npos);
}

TEST_F(call_flow, pbx_that_never_acks_is_hung_up_on_both_legs) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_ok(invite));
    auto ok = expect_one(pbx, "SIP/2.0 200");
    clock.advance(4s);
    EXPECT_GE(take_matching(pbx, "SIP/2.0 200").size(), 2u);  // the 2xx is retransmitted meanwhile
    clock.advance(28s + 100ms);  // Timer L = 64*T1 from the 2xx, before the BYE's retransmission
    auto to_trunk = take(trunk);
    ASSERT_GE(to_trunk.size(), 2u);
    EXPECT_TRUE(starts(to_trunk[0], "ACK"));
    EXPECT_TRUE(starts(to_trunk[1], "BYE"));
    auto byes = take_matching(pbx, "BYE");
    ASSERT_EQ(byes.size(), 1u);
    from_trunk(trunk_response(to_trunk[1], 200, "OK"));
    from_pbx(trunk_response(byes[0], 200, "OK"));
    EXPECT_EQ(b2b.active_calls(), 0u);
}

// --------------------------------------------------------------------------- other requests

TEST_F(call_flow, options_out_of_dialog_is_answered) {
    from_pbx(pbx_options());
    auto ok = expect_one(pbx, "SIP/2.0 200");
    EXPECT_NE(ok.find("Allow"), nullptr);
}

TEST_F(call_flow, bye_for_an_unknown_dialog_gets_481) {
    pbx_call c;
    c.to_tag = "nosuchtag";
    from_pbx(pbx_in_dialog(c, "BYE", 5));
    expect_one(pbx, "SIP/2.0 481");
}

TEST_F(call_flow, unsupported_requirement_gets_420) {
    pbx_call c;
    auto bytes = pbx_invite(c);
    bytes.insert(bytes.find("Max-Forwards"), "Require: 100rel\r\n");
    from_pbx(bytes);
    auto bad = expect_one(pbx, "SIP/2.0 420");
    ASSERT_NE(bad.find("Unsupported"), nullptr);
    EXPECT_EQ(bad.find("Unsupported")->value, "100rel");
}

TEST_F(call_flow, options_with_an_unsupported_requirement_gets_420_too) {
    // RFC 4475 §3.3.5 (bext01): Require applies to every request but ACK and CANCEL.
    from_pbx(pbx_options({{"Require", "nothingSupportsThis, nothingSupportsThisEither"},
                          {"Proxy-Require", "noProxiesSupportThis"}}));
    auto bad = expect_one(pbx, "SIP/2.0 420");
    ASSERT_NE(bad.find("Unsupported"), nullptr);
    EXPECT_EQ(bad.find("Unsupported")->value, "nothingSupportsThis, nothingSupportsThisEither");
}

TEST_F(call_flow, invite_that_accepts_no_sdp_gets_406) {
    pbx_call c;
    auto bytes = pbx_invite(c);
    bytes.insert(bytes.find("Max-Forwards"), "Accept: text/nobodyKnowsThis\r\n");
    from_pbx(bytes);
    expect_one(pbx, "SIP/2.0 406");
    pbx_call d;
    d.call_id = "accept-2";
    auto ok = pbx_invite(d);
    ok.insert(ok.find("Max-Forwards"), "Accept: text/plain, application/sdp;level=1\r\n");
    from_pbx(ok);
    expect_one(pbx, "SIP/2.0 407");  // acceptable: on to authentication
    pbx_call e;
    e.call_id = "accept-3";
    auto empty = pbx_invite(e);
    empty.insert(empty.find("Max-Forwards"), "Accept:\r\n");  // §20.1: nothing is acceptable
    from_pbx(empty);
    expect_one(pbx, "SIP/2.0 406");
}

TEST_F(call_flow, max_forwards_zero_is_not_forwarded) {
    pbx_call c;
    auto bytes = pbx_invite(c);
    bytes.replace(bytes.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
    from_pbx(bytes);
    expect_one(pbx, "SIP/2.0 483");
}

TEST_F(call_flow, the_same_invite_arriving_twice_on_another_branch_is_a_merged_request) {
    pbx_call c;
    from_pbx(pbx_invite(c));
    auto challenge = expect_one(pbx, "SIP/2.0 407");
    ++c.cseq;
    const auto answer = answer_challenge(challenge, "pbxuser", "pbxpass", "sip:1000@127.0.0.1:5070");
    from_pbx(pbx_invite(c, answer));
    expect_one(trunk, "INVITE");
    // Authentication comes first: the very same credentials again are a replay (nc 1 twice),
    // so a byte-identical copy is challenged afresh rather than refused as merged.
    from_pbx(pbx_invite(c, answer));  // new branch, same Call-ID, From tag and CSeq
    EXPECT_EQ(take_matching(pbx, "SIP/2.0 407").size(), 1u);
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"reason", "replayed_nonce"}}), 1);
    // A copy with valid credentials of its own is the merged request of §8.2.2.2.
    const auto values = challenge.values(sip::header_id::proxy_authenticate);
    const auto chosen = auth::select_challenge(values);
    ASSERT_TRUE(chosen.has_value());
    from_pbx(pbx_invite(c, auth::make_authorization(*chosen, {"pbxuser", "pbxpass"}, "INVITE",
                                                    "sip:1000@127.0.0.1:5070", 2, "0a4f113b")));
    auto loop = take_matching(pbx, "SIP/2.0 482");
    EXPECT_EQ(loop.size(), 1u);
    EXPECT_TRUE(take(trunk).empty());
    EXPECT_EQ(b2b.active_calls(), 1u);
}

TEST_F(call_flow, a_captured_answer_replayed_on_a_new_call_is_challenged_again) {
    pbx_call first;
    from_pbx(pbx_invite(first));
    auto challenge = expect_one(pbx, "SIP/2.0 407");
    from_pbx(pbx_ack_failure(first, challenge));
    ++first.cseq;
    const auto captured = answer_challenge(challenge, "pbxuser", "pbxpass", "sip:1000@127.0.0.1:5070");
    from_pbx(pbx_invite(first, captured));
    expect_one(trunk, "INVITE");
    // Someone who saw that INVITE sends its Proxy-Authorization with a call of their own.
    pbx_call replay;
    replay.call_id = "replayed-call@10.0.0.1";
    replay.from_tag = "other-tag";
    from_pbx(pbx_invite(replay, captured));
    auto again = take_matching(pbx, "SIP/2.0 407");
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again.front().find(sip::header_id::proxy_authenticate)->value.find("stale=true"), std::string_view::npos);
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "downstream"}, {"reason", "replayed_nonce"}}), 1);
    EXPECT_TRUE(take(trunk).empty());
    EXPECT_EQ(b2b.active_calls(), 1u);
}

TEST_F(call_flow, no_route_gets_404) {
    cfg.routes = {{"49", "carrier"}};
    core strict(cfg, net, clock, metrics, auth);
    sip::transaction_manager m(net, clock, strict, sip::transaction_config{}, &metrics);
    strict.attach(m);
    net.set_user(&m);
    pbx_call c;
    from_pbx(pbx_invite(c));
    auto challenge = expect_one(pbx, "SIP/2.0 407");
    ++c.cseq;
    from_pbx(pbx_invite(c, answer_challenge(challenge, "pbxuser", "pbxpass", "sip:1000@127.0.0.1:5070")));
    expect_one(pbx, "SIP/2.0 404");
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "no_route"}}), 1);
    net.set_user(&txm);
}

TEST_F(call_flow, many_calls_leave_nothing_behind) {
    for (int i = 0; i < 50; ++i) {
        pbx_call c;
        c.call_id = "bulk-" + std::to_string(i);
        c.from_tag = "t" + std::to_string(i);
        auto invite = confirmed_call(c);
        from_pbx(pbx_in_dialog(c, "BYE", c.cseq + 1));
        expect_one(pbx, "SIP/2.0 200");
        auto bye = expect_one(trunk, "BYE");
        from_trunk(trunk_response(bye, 200, "OK"));
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
    from_trunk(trunk_response(invite, 183, "Session Progress",
                              {{"Contact", "<sip:gw7@127.0.0.1:5080>"}, {"Record-Route", "<sip:edge2.trunk.example;lr>"}}));
    auto progress = expect_one(pbx, "SIP/2.0 183");
    ASSERT_EQ(progress.record_routes().size(), 1u);
    EXPECT_EQ(progress.record_routes()[0].text, "<sip:pbx-proxy.internal;lr>");
    EXPECT_EQ(progress.wire().find("edge2"), std::string_view::npos);
}

TEST_F(call_flow, the_200_to_a_cancel_carries_the_invites_to_tag) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_response(invite, 180, "Ringing", {{"Contact", "<sip:gw7@127.0.0.1:5080>"}}));
    auto ringing = expect_one(pbx, "SIP/2.0 180");
    from_pbx(pbx_cancel(c));
    auto answers = take(pbx);
    ASSERT_GE(answers.size(), 1u);
    const auto ok = std::find_if(answers.begin(), answers.end(),
                                 [](const sip::message& m) { return m.status() == 200 && m.cseq().method == sip::method::cancel; });
    ASSERT_NE(ok, answers.end());
    EXPECT_EQ(ok->to().tag, ringing.to().tag);  // §9.2
}

TEST_F(call_flow, a_cancel_after_the_final_response_gets_200_not_481) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    from_trunk(trunk_response(invite, 486, "Busy Here"));
    auto busy = expect_one(pbx, "SIP/2.0 486");
    // The PBX's CANCEL crossed our 486 (and our call may already be gone): it matched an
    // INVITE we answered, so 200 and no effect (§9.2).
    from_pbx(pbx_cancel(c));
    auto got = take_matching(pbx, "SIP/2.0");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0].status() == 200 || got[0].status() == 481) << got[0].status();
}

TEST_F(call_flow, a_cancel_for_an_answered_call_gets_200) {
    pbx_call c;
    confirmed_call(c);
    from_pbx(pbx_cancel(c));
    auto ok = expect_one(pbx, "SIP/2.0 200");
    EXPECT_EQ(ok.cseq().method, sip::method::cancel);
    EXPECT_EQ(ok.to().tag, c.to_tag);
    EXPECT_TRUE(take(trunk).empty());  // no effect on the call
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
    from_pbx(no_user(pbx_invite(c)));
    auto challenge = expect_one(pbx, "SIP/2.0 407");
    from_pbx(pbx_ack_failure(c, challenge));
    ++c.cseq;
    from_pbx(no_user(pbx_invite(c, answer_challenge(challenge, "pbxuser", "pbxpass", "sip:127.0.0.1:5070"))));
    expect_one(pbx, "SIP/2.0 404");
    EXPECT_TRUE(take(trunk).empty());
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "no_route"}}), 1);
}

TEST_F(call_flow, a_confirmed_call_ends_after_the_maximum_duration) {
    pbx_call c;
    confirmed_call(c);
    clock.advance(std::chrono::hours(4) - std::chrono::seconds(1));
    EXPECT_TRUE(take(pbx).empty());
    clock.advance(std::chrono::seconds(1));
    auto byes_a = take_matching(pbx, "BYE");
    auto byes_b = take_matching(trunk, "BYE");
    ASSERT_FALSE(byes_a.empty());
    ASSERT_FALSE(byes_b.empty());
    auto& bye_a = byes_a.front();
    auto& bye_b = byes_b.front();
    from_pbx(trunk_response(bye_a, 200, "OK"));
    from_trunk(trunk_response(bye_b, 200, "OK"));
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
