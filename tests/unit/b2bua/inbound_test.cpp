// Calls from a trunk to a PBX: identification by source address (no challenge), inbound routes
// by dialled number, the same leg rewriting as outbound calls, the PBX's own challenges, and
// downstream.allowed_sources.
#include "tests/unit/b2bua/call_flow.hpp"

#include "sip/message/writer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace b2b::b2bua::test {
namespace {

std::string callee_request(const actor& pbx, const sip::message& invite, const std::string& method) {
    sip::message_writer w;
    w.request_line(method, std::string(invite.contacts().front().uri.text));
    w.header("Via", "SIP/2.0/UDP " + pbx.host_port() + ";branch=z9hG4bK-pbx-" + method);
    w.header("From", std::string(invite.to().text) + ";tag=" + pbx.tag());
    w.header("To", std::string(invite.from().text));
    w.header("Call-ID", std::string(invite.call_id()));
    w.header("CSeq", "1 " + method);
    w.header("Max-Forwards", "70");
    return std::move(w).finish();
}

constexpr const char* pbx_route = R"(
inbound_routes:
  - { prefix: "", to: "sip:127.0.0.11:5101", name: office }
  - { prefix: "+4930", to: "sip:127.0.0.11:5101", name: office, strip: 3, prepend: "0", caller_strip: 3, caller_prepend: "0" }
  - { prefix: "+4940", to: "sip:reception@127.0.0.11:5101", name: office }
)";

class inbound : public ::testing::Test, public b2bua_harness {
protected:
    inbound() : b2bua_harness({numbered_trunk(1, "carrier", "")}, {}, pbx_route) {}
    void TearDown() override { expect_no_strays(); }

    pbx_actor& pbx = add_pbx("pbx");  // 127.0.0.11:5101, the route's target
    trunk_actor& trunk = trunk_named("carrier");
};

TEST_F(inbound, a_call_from_the_trunk_reaches_the_pbx_unchallenged_with_nothing_of_the_trunk_on_it) {
    provider_call c;
    trunk.send(provider_invite(trunk, *this, c));
    auto trying = trunk.expect("SIP/2.0 100");
    auto invite = pbx.expect("INVITE");
    // +4930 route: strip 3, prepend 0.
    EXPECT_EQ(invite.request_uri().text, "sip:030111@127.0.0.11:5101");
    EXPECT_NE(invite.call_id(), c.call_id);
    EXPECT_NE(invite.from().tag, c.from_tag);
    EXPECT_EQ(invite.from().uri.user, "089555");  // the caller's number, in the PBX's national form
    const std::string wire(invite.wire());
    for (const char* leak : {"carrier.example", "127.0.0.21", "provtag1", "z9hG4bK-prov", "edge."}) {
        EXPECT_EQ(wire.find(leak), std::string::npos) << leak << " leaked to the PBX:\n" << wire;
    }
    EXPECT_EQ(invite.body(), sdp_offer);

    pbx.respond(invite, 180, "Ringing", {{"Contact", "<sip:ext100@" + pbx.host_port() + ">"}});
    auto ringing = trunk.expect("SIP/2.0 180");
    pbx.send(pbx_ok(pbx, invite));
    auto ok = trunk.expect("SIP/2.0 200");
    EXPECT_EQ(ok.call_id(), c.call_id);
    EXPECT_EQ(ok.to().tag, ringing.to().tag);
    const std::string ok_wire(ok.wire());
    for (const char* leak : {"127.0.0.11", "ext100", "pbxtag", "10.0.0."}) {
        EXPECT_EQ(ok_wire.find(leak), std::string::npos) << leak << " leaked to the trunk:\n" << ok_wire;
    }
    EXPECT_EQ(ok.body(), sdp_answer);
    EXPECT_EQ(counter("b2bua_active_calls", {{"direction", "inbound"}}), 1);
    EXPECT_EQ(counter("b2bua_active_calls", {{"direction", "outbound"}}), 0);

    trunk.send(provider_in_dialog(trunk, *this, c, "ACK", c.cseq, std::string(ok.to().tag)));
    pbx.expect("ACK");

    // The PBX hangs up: BYE on the trunk's dialog, in the trunk's identifiers.
    pbx.send(callee_request(pbx, invite, "BYE"));
    pbx.expect("SIP/2.0 200");
    auto bye = trunk.expect("BYE");
    EXPECT_EQ(bye.call_id(), c.call_id);
    EXPECT_EQ(bye.to().tag, c.from_tag);
    EXPECT_EQ(bye.from().tag, ok.to().tag);
    trunk.respond(bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(counter("b2bua_calls_total", {{"direction", "inbound"}, {"trunk", "carrier"}, {"result", "answered"}}), 1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"direction", "outbound"}, {"result", "answered"}}), 0);
    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "downstream"}}), 0);
}

TEST_F(inbound, the_trunk_hangs_up_and_the_routes_pick_by_longest_prefix) {
    provider_call c;
    c.dialled = "+4940777";
    trunk.send(provider_invite(trunk, *this, c));
    trunk.expect("SIP/2.0 100");
    auto invite = pbx.expect("INVITE");
    EXPECT_EQ(invite.request_uri().text, "sip:reception@127.0.0.11:5101");  // `to` names a user
    pbx.send(pbx_ok(pbx, invite));
    auto ok = trunk.expect("SIP/2.0 200");
    trunk.send(provider_in_dialog(trunk, *this, c, "ACK", c.cseq, std::string(ok.to().tag)));
    pbx.expect("ACK");
    trunk.send(provider_in_dialog(trunk, *this, c, "BYE", c.cseq + 1, std::string(ok.to().tag)));
    trunk.expect("SIP/2.0 200");
    auto bye = pbx.expect("BYE");
    EXPECT_EQ(bye.call_id(), invite.call_id());
    pbx.respond(bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);

    provider_call other;
    other.call_id = "prov-call-2@sbc";
    other.from_tag = "provtag2";
    other.branch = "z9hG4bK-prov-2";
    other.dialled = "555";
    trunk.send(provider_invite(trunk, *this, other));
    trunk.expect("SIP/2.0 100");
    EXPECT_EQ(pbx.expect("INVITE").request_uri().text, "sip:555@127.0.0.11:5101");  // the default route
}

TEST_F(inbound, requests_inside_an_inbound_call_flow_both_ways) {
    provider_call c;
    trunk.send(provider_invite(trunk, *this, c));
    trunk.expect("SIP/2.0 100");
    auto invite = pbx.expect("INVITE");
    pbx.send(pbx_ok(pbx, invite));
    auto ok = trunk.expect("SIP/2.0 200");
    const std::string our_tag(ok.to().tag);
    trunk.send(provider_in_dialog(trunk, *this, c, "ACK", c.cseq, our_tag));
    pbx.expect("ACK");

    // The PBX puts the call on hold: the re-INVITE reaches the trunk in the trunk's dialog.
    sip::message_writer w;
    w.request_line("INVITE", std::string(invite.contacts().front().uri.text));
    w.header("Via", "SIP/2.0/UDP " + pbx.host_port() + ";branch=z9hG4bK-pbx-hold");
    w.header("From", std::string(invite.to().text) + ";tag=" + pbx.tag());
    w.header("To", std::string(invite.from().text));
    w.header("Call-ID", std::string(invite.call_id()));
    w.header("CSeq", "2 INVITE");
    w.header("Contact", "<sip:ext100@" + pbx.host_port() + ">");
    w.header("Max-Forwards", "70");
    pbx.send(std::move(w).finish("v=0\r\no=pbx 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                                 "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n",
                                 "application/sdp"));
    auto got = pbx.take();  // 100 Trying
    auto hold = trunk.expect("INVITE");
    EXPECT_EQ(hold.call_id(), c.call_id);
    EXPECT_EQ(hold.to().tag, c.from_tag);
    EXPECT_EQ(hold.from().tag, our_tag);
    EXPECT_EQ(hold.request_uri().text, "sip:gw@" + trunk.host_port());  // the provider's Contact
    EXPECT_NE(std::string(hold.body()).find("a=sendonly"), std::string::npos);
    trunk.send(trunk.response(hold, 200, "OK", {{"Contact", "<sip:gw@" + trunk.host_port() + ">"}},
                              "v=0\r\no=t 1 2 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
                              "m=audio 5000 RTP/AVP 0\r\na=recvonly\r\n"));
    auto held = pbx.take_matching("SIP/2.0 200");
    ASSERT_EQ(held.size(), 1u);
    EXPECT_NE(std::string(held[0].body()).find("a=recvonly"), std::string::npos);
    trunk.expect_nothing();
}

TEST_F(inbound, the_pbx_refusing_is_relayed_and_counted_inbound) {
    provider_call c;
    trunk.send(provider_invite(trunk, *this, c));
    trunk.expect("SIP/2.0 100");
    auto invite = pbx.expect("INVITE");
    pbx.respond(invite, 486, "Busy Here");
    pbx.expect("ACK");
    auto busy = trunk.expect("SIP/2.0 486");
    EXPECT_EQ(busy.call_id(), c.call_id);
    EXPECT_EQ(counter("b2bua_calls_total", {{"direction", "inbound"}, {"trunk", "carrier"}, {"result", "rejected"}}), 1);
}

TEST_F(inbound, a_pbx_is_still_challenged_and_routed_to_a_trunk) {
    auto c = pbx.new_call("0049301234");
    auto invite = authenticated_invite(pbx, c, trunk);
    EXPECT_EQ(invite.request_uri().user, "0049301234");
    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "downstream"}}), 1);
}

constexpr const char* challenging_pbx = R"(
inbound_routes:
  - { prefix: "", to: "sip:127.0.0.11:5101", name: office, username: b2bua-in, password: s3cret }
)";

class inbound_challenged : public ::testing::Test, public b2bua_harness {
protected:
    inbound_challenged() : b2bua_harness({numbered_trunk(1, "carrier", "")}, {}, challenging_pbx) {}
    void TearDown() override { expect_no_strays(); }

    pbx_actor& pbx = add_pbx("pbx");
    trunk_actor& trunk = trunk_named("carrier");
};

TEST_F(inbound_challenged, a_pbx_that_challenges_our_invite_gets_the_routes_credentials) {
    provider_call c;
    trunk.send(provider_invite(trunk, *this, c));
    trunk.expect("SIP/2.0 100");
    auto invite = pbx.expect("INVITE");
    pbx.respond(invite, 407, "Proxy Authentication Required",
                {{"Proxy-Authenticate", "Digest realm=\"office\", nonce=\"pbx-nonce-1\", qop=\"auth\", algorithm=MD5"}});
    auto got = pbx.take();  // the ACK of the 407, then the INVITE with credentials
    ASSERT_EQ(got.size(), 2u);
    EXPECT_TRUE(starts(got[0], "ACK"));
    ASSERT_TRUE(starts(got[1], "INVITE"));
    auto retry = std::move(got[1]);
    const auto* h = retry.find(sip::header_id::proxy_authorization);
    ASSERT_NE(h, nullptr);
    auto creds = auth::parse_credentials(h->value);
    ASSERT_TRUE(creds.has_value());
    EXPECT_EQ(creds->username, "b2bua-in");
    EXPECT_EQ(creds->realm, "office");
    const auto ha1 = auth::compute_ha1(auth::algorithm::md5, "b2bua-in", "office", "s3cret");
    const auto ha2 = auth::compute_ha2(auth::algorithm::md5, "INVITE", creds->uri);
    EXPECT_EQ(auth::compute_response(auth::algorithm::md5,
                                     {ha1, creds->nonce, creds->nc, creds->cnonce, creds->qop.value_or(""), ha2}),
              creds->response);
    EXPECT_EQ(retry.call_id(), invite.call_id());
    EXPECT_GT(retry.cseq().seq, invite.cseq().seq);
    trunk.expect_nothing();  // the provider never sees the PBX's challenge
    pbx.send(pbx_ok(pbx, retry));
    trunk.expect("SIP/2.0 200");
    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "downstream"}, {"peer", "office"}}), 1);
    EXPECT_EQ(counter("b2bua_auth_successes_total", {{"direction", "downstream"}, {"peer", "office"}}), 1);
}

constexpr const char* only_second_pbx = "  allowed_sources: [ 127.0.0.12/32 ]\n";

class allowed_sources : public ::testing::Test, public b2bua_harness {
protected:
    allowed_sources() : b2bua_harness({numbered_trunk(1, "carrier", "")}, {}, pbx_route, only_second_pbx) {}
    void TearDown() override { expect_no_strays(); }

    pbx_actor& outsider = add_pbx("outsider");  // 127.0.0.11: not allowed
    pbx_actor& office = add_pbx("office");      // 127.0.0.12: allowed
    trunk_actor& trunk = trunk_named("carrier");
};

TEST_F(allowed_sources, a_pbx_outside_them_gets_403_before_any_challenge_and_is_counted) {
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "downstream"}, {"reason", "source_not_allowed"}}), 0);
    auto c = outsider.new_call();
    outsider.invite(c);
    auto refused = outsider.expect("SIP/2.0 403");
    EXPECT_EQ(refused.find(sip::header_id::proxy_authenticate), nullptr);
    outsider.ack_failure(c, refused);
    outsider.options();
    outsider.expect("SIP/2.0 403");
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "downstream"}, {"reason", "source_not_allowed"}}), 2);
    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "downstream"}}), 0);
    EXPECT_EQ(b2b.active_calls(), 0u);

    // An allowed PBX is challenged as usual; the trunk is recognised and not subject to the list.
    auto ok = office.new_call();
    authenticated_invite(office, ok, trunk);
    provider_call p;
    trunk.send(provider_invite(trunk, *this, p));
    trunk.expect("SIP/2.0 100");
    EXPECT_EQ(outsider.expect("INVITE").request_uri().text, "sip:030111@127.0.0.11:5101");
}

constexpr const char* second_address = R"(
inbound_routes:
  - { prefix: "", to: "sip:127.0.0.11:5101" }
)";

class inbound_from : public ::testing::Test, public b2bua_harness {
protected:
    inbound_from() : b2bua_harness({numbered_trunk(1, "carrier", ""), numbered_trunk(2, "backup", "9")}, {}, second_address) {}
    void TearDown() override { expect_no_strays(); }

    pbx_actor& pbx = add_pbx("pbx");
};

TEST_F(inbound_from, a_trunk_is_recognised_by_its_address_on_any_port_and_others_are_pbxs) {
    // The provider's uri is 127.0.0.22:5202; it sends from another port.
    actor& sbc = add_actor("sbc", ep("127.0.0.22", 40000));
    provider_call c;
    sbc.send(provider_invite(sbc, *this, c));
    sbc.expect("SIP/2.0 100");
    pbx.expect("INVITE");
    EXPECT_EQ(counter("b2bua_active_calls", {{"direction", "inbound"}}), 1);

    // An address of no trunk is a PBX: challenged.
    actor& stranger = add_actor("stranger", ep("127.0.0.99", 5060));
    provider_call s;
    s.call_id = "x@y";
    stranger.send(provider_invite(stranger, *this, s));
    stranger.expect("SIP/2.0 407");
}

}  // namespace
}  // namespace b2b::b2bua::test
