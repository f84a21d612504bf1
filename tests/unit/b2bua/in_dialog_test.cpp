// Requests inside a confirmed call, from either side: re-INVITE (with and without an offer),
// UPDATE, INFO, OPTIONS, REFER, glare, and the provider's challenge of a re-INVITE.
#include "tests/unit/b2bua/call_flow.hpp"

namespace b2b::b2bua::test {
namespace {

constexpr const char* hold_offer =
    "v=0\r\no=pbx 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
constexpr const char* hold_answer =
    "v=0\r\no=trunk 2 3 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
    "a=recvonly\r\n";

// `bytes` (ending in "Content-Length: 0" and the empty line) with more header lines and a body.
std::string with_body(std::string bytes, const std::string& lines, std::string_view body,
                      std::string_view type = "application/sdp") {
    bytes.erase(bytes.rfind("Content-Length: 0\r\n\r\n"));
    bytes += lines;
    if (!body.empty()) {
        bytes += "Content-Type: " + std::string(type) + "\r\n";
    }
    bytes += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    bytes += body;
    return bytes;
}

// A request from the trunk in leg B's dialog, with its own CSeq.
std::string from_trunk(trunk_actor& trunk, const sip::message& invite, const std::string& method,
                       std::uint32_t cseq, std::string_view body = {}, const std::string& lines = {}) {
    std::string bytes = trunk.in_dialog_bytes(invite, method);
    const std::string nine = "CSeq: 9 " + method;
    bytes.replace(bytes.find(nine), nine.size(), "CSeq: " + std::to_string(cseq) + " " + method);
    return with_body(std::move(bytes), lines, body);
}

// The one message `a` got that starts with `start`, after any 100 Trying (an INVITE we relay
// is answered 100 at once by the transaction layer, §17.2.1).
sip::message expect_after_trying(actor& a, const std::string& start) {
    auto got = a.take();
    std::erase_if(got, [](const sip::message& m) { return m.is_response() && m.status() == 100; });
    EXPECT_EQ(got.size(), 1u) << a.name() << " expected " << start;
    if (got.empty()) return {};
    EXPECT_TRUE(b2bua_harness::starts(got.front(), start)) << a.name() << " expected " << start;
    return std::move(got.front());
}

class in_dialog : public call_flow {
protected:
    // A confirmed call; returns leg B's INVITE as the trunk saw it.
    sip::message up(pbx_call& c) { return confirmed_call(c); }

    // Nothing of the PBX's dialog appears in a message on the trunk's side, and the reverse.
    void expect_no_pbx_identifiers(const sip::message& m, const pbx_call& c) {
        EXPECT_EQ(m.wire().find(c.call_id), std::string_view::npos) << m.wire();
        EXPECT_EQ(m.wire().find(c.from_tag), std::string_view::npos) << m.wire();
        EXPECT_EQ(m.wire().find(pbx.host_port()), std::string_view::npos) << m.wire();
        ASSERT_EQ(m.vias().size(), 1u);
    }
    void expect_no_trunk_identifiers(const sip::message& m, const sip::message& leg_b_invite) {
        EXPECT_EQ(m.wire().find(leg_b_invite.call_id()), std::string_view::npos) << m.wire();
        EXPECT_EQ(m.wire().find(trunk.tag()), std::string_view::npos) << m.wire();
        EXPECT_EQ(m.wire().find(trunk.host_port()), std::string_view::npos) << m.wire();
    }
};

TEST_F(in_dialog, hold_by_reinvite_from_the_pbx_goes_through_the_trunks_dialog_and_back) {
    pbx_call c;
    const auto leg_b = up(c);
    const std::uint32_t reinvite_cseq = c.cseq + 2;
    pbx.send(with_body(pbx.in_dialog_bytes(c, "INVITE", reinvite_cseq),
                       "Contact: <sip:200@" + pbx.host_port() + ">\r\n", hold_offer));
    auto reinvite = trunk.expect("INVITE");
    EXPECT_EQ(reinvite.call_id(), leg_b.call_id());
    EXPECT_EQ(reinvite.to().tag, trunk.tag());
    EXPECT_EQ(reinvite.from().tag, leg_b.from().tag);
    EXPECT_GT(reinvite.cseq().seq, leg_b.cseq().seq);
    EXPECT_EQ(reinvite.body(), hold_offer);
    EXPECT_EQ(reinvite.request_uri().text, "sip:gw-" + trunk.name() + "@" + trunk.host_port());
    expect_no_pbx_identifiers(reinvite, c);
    ASSERT_FALSE(reinvite.contacts().empty());
    EXPECT_EQ(reinvite.contacts()[0].uri.text, "sip:b2bua@127.0.0.1:5070");

    trunk.respond(reinvite, 200, "OK", {{"Contact", trunk.contact()}}, hold_answer);
    auto ok = expect_after_trying(pbx, "SIP/2.0 200");
    EXPECT_EQ(ok.cseq().seq, reinvite_cseq);
    EXPECT_EQ(ok.to().tag, c.to_tag);
    EXPECT_EQ(ok.body(), hold_answer);
    EXPECT_EQ(ok.contacts()[0].uri.text, "sip:b2bua@127.0.0.1:5070");
    expect_no_trunk_identifiers(ok, leg_b);
    // §20.5: what it may send us in this dialog, REFER not among them.
    const std::string allow = header(ok, sip::header_id::allow);
    for (const char* m : {"UPDATE", "INFO", "MESSAGE", "NOTIFY"}) EXPECT_NE(allow.find(m), std::string::npos) << m;
    EXPECT_EQ(allow.find("REFER"), std::string::npos);
    EXPECT_NE(allow.find("PRACK"), std::string::npos);  // RFC 3262

    pbx.send(pbx.in_dialog_bytes(c, "ACK", reinvite_cseq));
    auto ack = trunk.expect("ACK");
    EXPECT_EQ(ack.cseq().seq, reinvite.cseq().seq);
    EXPECT_EQ(ack.find(sip::header_id::authorization), nullptr);  // the re-INVITE was not challenged

    // The call is still up and ends normally.
    pbx.send(pbx.in_dialog_bytes(c, "BYE", reinvite_cseq + 1));
    pbx.expect("SIP/2.0 200");
    auto bye = trunk.expect("BYE");
    EXPECT_GT(bye.cseq().seq, reinvite.cseq().seq);
    trunk.respond(bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(in_dialog, reinvite_without_offer_from_the_trunk_gets_the_answer_from_the_pbxs_ack) {
    pbx_call c;
    const auto leg_b = up(c);
    trunk.send(from_trunk(trunk, leg_b, "INVITE", 10, {}, "Contact: " + trunk.contact() + "\r\n"));
    auto reinvite = pbx.expect("INVITE");
    EXPECT_TRUE(reinvite.body().empty());
    EXPECT_EQ(reinvite.call_id(), c.call_id);
    EXPECT_EQ(reinvite.to().tag, c.from_tag);
    EXPECT_EQ(reinvite.from().tag, c.to_tag);
    expect_no_trunk_identifiers(reinvite, leg_b);

    // The PBX's offer comes in its 2xx, the trunk's answer in its ACK (§13.2.1).
    pbx.respond(reinvite, 200, "OK", {{"Contact", "<sip:200@" + pbx.host_port() + ">"}}, hold_offer);
    auto ok = expect_after_trying(trunk, "SIP/2.0 200");
    EXPECT_EQ(ok.body(), hold_offer);
    EXPECT_EQ(ok.cseq().seq, 10u);
    expect_no_pbx_identifiers(ok, c);
    trunk.send(from_trunk(trunk, leg_b, "ACK", 10, hold_answer));
    auto ack = pbx.expect("ACK");
    EXPECT_EQ(ack.body(), hold_answer);
    EXPECT_EQ(ack.cseq().seq, reinvite.cseq().seq);
    EXPECT_EQ(b2b.active_calls(), 1u);
}

TEST_F(in_dialog, info_update_and_options_are_relayed_both_ways) {
    pbx_call c;
    const auto leg_b = up(c);
    std::uint32_t cseq = c.cseq + 2;
    pbx.send(with_body(pbx.in_dialog_bytes(c, "INFO", cseq), "Info-Package: dtmf\r\n", "Signal=5\r\nDuration=160\r\n",
                       "application/dtmf-relay"));
    auto info = trunk.expect("INFO");
    EXPECT_EQ(info.body(), "Signal=5\r\nDuration=160\r\n");
    EXPECT_EQ(header(info, sip::header_id::content_type), "application/dtmf-relay");
    EXPECT_NE(info.find("Info-Package"), nullptr);
    expect_no_pbx_identifiers(info, c);
    trunk.respond(info, 200, "OK");
    EXPECT_EQ(pbx.expect("SIP/2.0 200").cseq().seq, cseq);

    trunk.send(from_trunk(trunk, leg_b, "UPDATE", 11, hold_offer, "Contact: " + trunk.contact() + "\r\n"));
    auto update = pbx.expect("UPDATE");
    EXPECT_EQ(update.body(), hold_offer);
    pbx.respond(update, 200, "OK", {{"Contact", "<sip:200@" + pbx.host_port() + ">"}}, hold_answer);
    auto updated = trunk.expect("SIP/2.0 200");
    EXPECT_EQ(updated.body(), hold_answer);
    EXPECT_EQ(updated.contacts()[0].uri.text, "sip:b2bua@127.0.0.1:5070");

    trunk.send(from_trunk(trunk, leg_b, "OPTIONS", 12));
    auto options = pbx.expect("OPTIONS");
    pbx.respond(options, 200, "OK");
    trunk.expect("SIP/2.0 200");
    EXPECT_TRUE(c.call_id.size() > 0);
}

TEST_F(in_dialog, refer_is_refused_without_reaching_the_other_side) {
    pbx_call c;
    up(c);
    pbx.send(with_body(pbx.in_dialog_bytes(c, "REFER", c.cseq + 2), "Refer-To: <sip:300@10.0.0.1>\r\n", {}));
    pbx.expect("SIP/2.0 403");
    EXPECT_TRUE(trunk.take().empty());
}

TEST_F(in_dialog, glare_gets_491_and_a_second_pending_invite_500) {
    pbx_call c;
    const auto leg_b = up(c);
    const std::uint32_t first = c.cseq + 2;
    pbx.send(with_body(pbx.in_dialog_bytes(c, "INVITE", first), "", hold_offer));
    auto pending = trunk.expect("INVITE");
    // §14.1: the trunk re-INVITEs while ours is pending: glare.
    trunk.send(from_trunk(trunk, leg_b, "INVITE", 10, hold_offer));
    trunk.expect("SIP/2.0 491");
    pbx.take();  // the 100 Trying of the first
    // §14.2: the PBX sends another INVITE before its first is answered.
    pbx.send(with_body(pbx.in_dialog_bytes(c, "INVITE", first + 1), "", hold_offer));
    auto refused = pbx.expect("SIP/2.0 500");
    EXPECT_NE(refused.find(sip::header_id::retry_after), nullptr);
    // The first one completes.
    trunk.respond(pending, 200, "OK", {{"Contact", trunk.contact()}}, hold_answer);
    expect_after_trying(pbx, "SIP/2.0 200");
    pbx.send(pbx.in_dialog_bytes(c, "ACK", first));
    trunk.expect("ACK");
}

TEST_F(in_dialog, the_providers_challenge_of_a_reinvite_is_answered_unseen_by_the_pbx) {
    pbx_call c;
    up(c);
    const std::uint32_t cseq = c.cseq + 2;
    pbx.send(with_body(pbx.in_dialog_bytes(c, "INVITE", cseq), "", hold_offer));
    auto reinvite = trunk.expect("INVITE");
    trunk.challenge(reinvite);
    auto with_credentials = trunk.take_matching("INVITE");
    ASSERT_EQ(with_credentials.size(), 1u);
    EXPECT_GT(with_credentials[0].cseq().seq, reinvite.cseq().seq);  // §22.2: CSeq + 1
    EXPECT_NE(with_credentials[0].find(sip::header_id::authorization), nullptr);
    for (const auto& m : pbx.take()) EXPECT_EQ(m.status(), 100);  // nothing of the challenge
    trunk.respond(with_credentials[0], 200, "OK", {{"Contact", trunk.contact()}}, hold_answer);
    expect_after_trying(pbx, "SIP/2.0 200");
    pbx.send(pbx.in_dialog_bytes(c, "ACK", cseq));
    auto ack = trunk.expect("ACK");
    EXPECT_EQ(ack.cseq().seq, with_credentials[0].cseq().seq);
    EXPECT_NE(ack.find(sip::header_id::authorization), nullptr);  // §13.2.2.4: the INVITE's credentials

    // The next request on leg B goes above the CSeq the re-send took (§12.2.1.1).
    pbx.send(pbx.in_dialog_bytes(c, "BYE", cseq + 1));
    auto bye = trunk.take_matching("BYE");
    ASSERT_EQ(bye.size(), 1u);
    EXPECT_GT(bye[0].cseq().seq, with_credentials[0].cseq().seq);
}

TEST_F(in_dialog, a_hangup_while_a_request_is_relayed_answers_it) {
    pbx_call c;
    const auto leg_b = up(c);
    pbx.send(with_body(pbx.in_dialog_bytes(c, "INFO", c.cseq + 2), "", "x", "text/plain"));
    trunk.expect("INFO");
    trunk.send(from_trunk(trunk, leg_b, "BYE", 10));
    auto byes = pbx.take_matching("BYE");
    ASSERT_EQ(byes.size(), 1u);
    pbx.respond(byes[0], 200, "OK");
    auto got = pbx.take();
    EXPECT_EQ(b2b.active_calls(), 0u);
    bool info_answered = false;
    for (const auto& m : got) info_answered |= m.status() == 487 && m.cseq().method == sip::method::info;
    EXPECT_TRUE(info_answered);  // §15.1.2: nothing pending is left unanswered
}

}  // namespace
}  // namespace b2b::b2bua::test
