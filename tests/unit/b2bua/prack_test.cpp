// Reliable provisional responses through the B2BUA (RFC 3262): PRACK on each leg, 100rel only
// where both sides can, retransmission and give-up on the manual clock, RAck matching, §5 offers.
#include "tests/unit/b2bua/call_flow.hpp"

#include "dialog/prack.hpp"

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* offer_183 =
    "v=0\r\no=trunk 7 7 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
constexpr const char* answer_in_prack =
    "v=0\r\no=pbx 3 3 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

// `bytes` with header lines added before Max-Forwards.
std::string with_lines(std::string bytes, const std::string& lines) {
    bytes.insert(bytes.find("Max-Forwards"), lines);
    return bytes;
}

// `bytes` (a request ending in its empty line) with a body of `type`.
std::string with_body(std::string bytes, std::string_view body) {
    bytes.erase(bytes.rfind("Content-Length: 0\r\n\r\n"));
    bytes += "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    bytes += body;
    return bytes;
}

// The PBX's INVITE without its SDP offer.
std::string offerless(std::string bytes) {
    bytes.erase(bytes.find("Content-Type: application/sdp\r\n"), std::string_view("Content-Type: application/sdp\r\n").size());
    const auto length = bytes.find("Content-Length: ");
    bytes.erase(length);
    bytes += "Content-Length: 0\r\n\r\n";
    return bytes;
}

std::uint32_t rseq_of(const sip::message& m) {
    const auto* h = m.find("RSeq");
    if (h == nullptr) return 0;
    return dialog::parse_rseq(h->value).value_or(0);
}

class reliable_provisionals : public call_flow {
protected:
    // INVITE (with `lines`), 407, ACK, INVITE with credentials: leg B's INVITE.
    sip::message invite_with(pbx_call& c, const std::string& lines, bool with_offer = true) {
        const auto build = [&](const std::string& authorization) {
            std::string bytes = with_lines(pbx.invite_bytes(c, authorization), lines);
            return with_offer ? bytes : offerless(std::move(bytes));
        };
        pbx.send(build({}));
        auto challenge = pbx.expect("SIP/2.0 407");
        pbx.ack_failure(c, challenge);
        ++c.cseq;
        pbx.send(build(pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", pbx.request_uri(c))));
        auto trying = pbx.take();
        EXPECT_EQ(trying.size(), 1u);
        return trunk.expect("INVITE");
    }

    // The trunk's reliable provisional (§7.1): Require: 100rel and RSeq.
    void reliable(const sip::message& invite, int status, std::uint32_t rseq, std::string_view body = {}) {
        trunk.respond(invite, status, status == 180 ? "Ringing" : "Session Progress",
                      {{"Contact", trunk.contact()}, {"Require", "100rel"}, {"RSeq", std::to_string(rseq)}}, body);
    }

    // The PBX's PRACK in its early dialog, with RAck `rack`.
    std::string prack_bytes(const pbx_call& c, std::uint32_t cseq, const std::string& rack, std::string_view body = {}) {
        std::string bytes = with_lines(pbx.in_dialog_bytes(c, "PRACK", cseq), "RAck: " + rack + "\r\n");
        return body.empty() ? bytes : with_body(std::move(bytes), body);
    }

    void expect_no_trunk_identifiers(const sip::message& m, const sip::message& leg_b) {
        EXPECT_EQ(m.wire().find(leg_b.call_id()), std::string_view::npos) << m.wire();
        EXPECT_EQ(m.wire().find(trunk.tag()), std::string_view::npos) << m.wire();
        EXPECT_EQ(m.wire().find(trunk.host_port()), std::string_view::npos) << m.wire();
        EXPECT_EQ(m.wire().find("gw-carrier"), std::string_view::npos) << m.wire();
    }
    void expect_no_pbx_identifiers(const sip::message& m, const pbx_call& c) {
        EXPECT_EQ(m.wire().find(c.call_id), std::string_view::npos) << m.wire();
        EXPECT_EQ(m.wire().find(c.from_tag), std::string_view::npos) << m.wire();
        EXPECT_EQ(m.wire().find(pbx.host_port()), std::string_view::npos) << m.wire();
    }

    // Answer, ACK and BYE from the PBX: the call ends cleanly; returns the trunk's BYE.
    sip::message answer_and_hang_up(pbx_call& c, const sip::message& invite, std::uint32_t pbx_bye_cseq) {
        trunk.ok(invite);
        auto ok = pbx.expect("SIP/2.0 200");
        EXPECT_EQ(ok.cseq().method, sip::method::invite);
        EXPECT_EQ(ok.find("RSeq"), nullptr);
        pbx.ack(c);
        trunk.expect("ACK");
        pbx.send(pbx.in_dialog_bytes(c, "BYE", pbx_bye_cseq));
        pbx.expect("SIP/2.0 200");
        auto bye = trunk.expect("BYE");
        trunk.respond(bye, 200, "OK");
        EXPECT_EQ(b2b.active_calls(), 0u);
        return bye;
    }
};

TEST_F(reliable_provisionals, both_sides_support_100rel_each_leg_is_pracked_on_its_own) {
    pbx_call c;
    auto invite = invite_with(c, "Supported: 100rel\r\n");
    // §4: the trunk is offered 100rel because the PBX can take it; never required of it.
    EXPECT_TRUE(dialog::names_100rel(invite, sip::header_id::supported));
    EXPECT_EQ(invite.find(sip::header_id::require), nullptr);

    reliable(invite, 183, 4711, b2bua_harness::sdp_answer);
    // §7.1: PRACK in the trunk's early dialog, RAck = its RSeq, the INVITE's CSeq and method.
    auto prack = trunk.expect("PRACK");
    EXPECT_EQ(header(prack, sip::header_id::call_id), std::string(invite.call_id()));
    EXPECT_EQ(prack.to().tag, trunk.tag());
    EXPECT_EQ(prack.from().tag, invite.from().tag);
    EXPECT_EQ(prack.request_uri().text, "sip:gw-carrier@" + trunk.host_port());
    EXPECT_EQ(prack.cseq().seq, invite.cseq().seq + 1);
    ASSERT_NE(prack.find("RAck"), nullptr);
    EXPECT_EQ(prack.find("RAck")->value, "4711 " + std::to_string(invite.cseq().seq) + " INVITE");
    EXPECT_TRUE(prack.body().empty());
    expect_no_pbx_identifiers(prack, c);
    trunk.respond(prack, 200, "OK");

    // The PBX gets it reliably with our own RSeq, and the SDP (the answer to its offer).
    auto progress = pbx.expect("SIP/2.0 183");
    EXPECT_TRUE(dialog::reliable_rseq(progress).has_value());
    const std::uint32_t rseq = rseq_of(progress);
    EXPECT_GE(rseq, 1u);
    EXPECT_LE(rseq, 0x7fffffffu);  // §3
    EXPECT_EQ(progress.body(), b2bua_harness::sdp_answer);
    expect_no_trunk_identifiers(progress, invite);
    c.to_tag = std::string(progress.to().tag);

    pbx.send(prack_bytes(c, c.cseq + 1, std::to_string(rseq) + " " + std::to_string(c.cseq) + " INVITE"));
    auto pracked = pbx.expect("SIP/2.0 200");
    EXPECT_EQ(pracked.cseq().method, sip::method::prack);
    trunk.expect_nothing();  // the PBX's PRACK is answered here, not relayed

    // The BYE on leg B counts on from the PRACK's CSeq (§12.2.1.1).
    auto bye = answer_and_hang_up(c, invite, c.cseq + 2);
    EXPECT_GT(bye.cseq().seq, prack.cseq().seq);
}

TEST_F(reliable_provisionals, the_reliable_provisional_is_retransmitted_until_its_prack) {
    pbx_call c;
    auto invite = invite_with(c, "Supported: 100rel\r\n");
    reliable(invite, 180, 1);
    trunk.respond(trunk.expect("PRACK"), 200, "OK");
    auto ringing = pbx.expect("SIP/2.0 180");
    const auto rseq = rseq_of(ringing);
    c.to_tag = std::string(ringing.to().tag);
    // §3: T1, then 2*T1 later, the same response (same RSeq).
    clock.advance(499ms);
    pbx.expect_nothing();
    clock.advance(1ms);
    EXPECT_EQ(rseq_of(pbx.expect("SIP/2.0 180")), rseq);
    clock.advance(999ms);
    pbx.expect_nothing();
    clock.advance(1ms);
    EXPECT_EQ(rseq_of(pbx.expect("SIP/2.0 180")), rseq);
    EXPECT_EQ(counter("b2bua_sip_retransmissions_total", {{"direction", "out"}}), 2);

    pbx.send(prack_bytes(c, c.cseq + 1, std::to_string(rseq) + " " + std::to_string(c.cseq) + " INVITE"));
    pbx.expect("SIP/2.0 200");
    clock.advance(10s);
    pbx.expect_nothing();

    // The next provisional takes RSeq + 1 (§3).
    reliable(invite, 183, 2);
    trunk.respond(trunk.expect("PRACK"), 200, "OK");
    EXPECT_EQ(rseq_of(pbx.expect("SIP/2.0 183")), rseq + 1);
    pbx.send(prack_bytes(c, c.cseq + 2, std::to_string(rseq + 1) + " " + std::to_string(c.cseq) + " INVITE"));
    pbx.expect("SIP/2.0 200");
    answer_and_hang_up(c, invite, c.cseq + 3);
}

TEST_F(reliable_provisionals, a_provisional_never_pracked_rejects_the_invite_with_a_5xx) {
    pbx_call c;
    auto invite = invite_with(c, "Supported: 100rel\r\n");
    reliable(invite, 180, 1);
    trunk.respond(trunk.expect("PRACK"), 200, "OK");
    pbx.expect("SIP/2.0 180");
    clock.advance(31999ms);
    EXPECT_EQ(pbx.take_matching("SIP/2.0 180").size(), 6u);  // at T1, 3, 7, 15, 31, 63 T1
    trunk.expect_nothing();
    clock.advance(1ms);  // 64*T1 (§3)
    auto rejected = pbx.take();
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_EQ(rejected[0].status(), 500);
    EXPECT_EQ(rejected[0].cseq().method, sip::method::invite);
    pbx.ack_failure(c, rejected[0]);
    // The trunk's INVITE is cancelled.
    auto cancel = trunk.expect("CANCEL");
    trunk.respond(cancel, 200, "OK");
    trunk.respond(invite, 487, "Request Terminated");
    trunk.expect("ACK");
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(counter("b2bua_calls_total", {{"result", "error"}}), 1);
}

TEST_F(reliable_provisionals, a_prack_that_matches_nothing_gets_481) {
    pbx_call c;
    auto invite = invite_with(c, "Supported: 100rel\r\n");
    reliable(invite, 183, 77, b2bua_harness::sdp_answer);
    trunk.respond(trunk.expect("PRACK"), 200, "OK");
    auto progress = pbx.expect("SIP/2.0 183");
    const auto rseq = rseq_of(progress);
    c.to_tag = std::string(progress.to().tag);
    // §7.2: wrong RSeq, wrong CSeq number, wrong method: 481 each, and the provisional is
    // still retransmitted.
    std::uint32_t cseq = c.cseq;
    for (const std::string& rack : {std::to_string(rseq + 1) + " " + std::to_string(c.cseq) + " INVITE",
                                    std::to_string(rseq) + " " + std::to_string(c.cseq - 1) + " INVITE",
                                    std::to_string(rseq) + " " + std::to_string(c.cseq) + " BYE"}) {
        pbx.send(prack_bytes(c, ++cseq, rack));
        EXPECT_EQ(pbx.expect("SIP/2.0 481").cseq().method, sip::method::prack) << rack;
    }
    pbx.send(with_lines(pbx.in_dialog_bytes(c, "PRACK", ++cseq), ""));
    pbx.expect("SIP/2.0 400");  // no RAck at all
    clock.advance(500ms);
    pbx.expect("SIP/2.0 183");
    pbx.send(prack_bytes(c, ++cseq, std::to_string(rseq) + " " + std::to_string(c.cseq) + " INVITE"));
    pbx.expect("SIP/2.0 200");
    // Once acknowledged, the same RAck matches nothing any more.
    pbx.send(prack_bytes(c, ++cseq, std::to_string(rseq) + " " + std::to_string(c.cseq) + " INVITE"));
    pbx.expect("SIP/2.0 481");
    trunk.expect_nothing();
    answer_and_hang_up(c, invite, ++cseq);
}

TEST_F(reliable_provisionals, only_the_pbx_supports_100rel_unreliable_provisionals_pass_as_they_are) {
    pbx_call c;
    auto invite = invite_with(c, "Supported: 100rel\r\n");
    EXPECT_TRUE(dialog::names_100rel(invite, sip::header_id::supported));
    trunk.respond(invite, 180, "Ringing", {{"Contact", trunk.contact()}});
    auto ringing = pbx.expect("SIP/2.0 180");
    EXPECT_EQ(ringing.find("RSeq"), nullptr);
    EXPECT_EQ(ringing.find(sip::header_id::require), nullptr);
    c.to_tag = std::string(ringing.to().tag);
    clock.advance(2s);
    pbx.expect_nothing();  // nothing to retransmit
    trunk.expect_nothing();  // nothing to PRACK
    answer_and_hang_up(c, invite, c.cseq + 1);
}

TEST_F(reliable_provisionals, only_the_trunk_supports_100rel_we_prack_it_and_the_pbx_gets_it_unreliably) {
    pbx_call c;
    auto invite = invite_with(c, "");
    // The PBX cannot do 100rel, so the trunk is not told we can (§4).
    EXPECT_FALSE(dialog::names_100rel(invite, sip::header_id::supported));
    reliable(invite, 183, 9, b2bua_harness::sdp_answer);
    auto prack = trunk.expect("PRACK");
    EXPECT_EQ(prack.find("RAck")->value, "9 " + std::to_string(invite.cseq().seq) + " INVITE");
    trunk.respond(prack, 200, "OK");
    auto progress = pbx.expect("SIP/2.0 183");
    EXPECT_EQ(progress.find("RSeq"), nullptr);
    EXPECT_EQ(progress.find(sip::header_id::require), nullptr);
    EXPECT_EQ(progress.body(), b2bua_harness::sdp_answer);  // early media as before
    c.to_tag = std::string(progress.to().tag);
    // §4: its retransmission is neither PRACKed again nor relayed again.
    reliable(invite, 183, 9, b2bua_harness::sdp_answer);
    trunk.expect_nothing();
    pbx.expect_nothing();
    // Out of order (RSeq 11 before 10): dropped too; 10 then goes through.
    reliable(invite, 180, 11);
    trunk.expect_nothing();
    reliable(invite, 180, 10);
    EXPECT_EQ(trunk.expect("PRACK").find("RAck")->value, "10 " + std::to_string(invite.cseq().seq) + " INVITE");
    pbx.expect("SIP/2.0 180");
    answer_and_hang_up(c, invite, c.cseq + 1);
}

TEST_F(reliable_provisionals, require_100rel_from_the_pbx_is_honoured_even_when_the_trunk_sends_unreliably) {
    pbx_call c;
    auto invite = invite_with(c, "Require: 100rel\r\n");  // no 420
    EXPECT_TRUE(dialog::names_100rel(invite, sip::header_id::supported));
    EXPECT_EQ(invite.find(sip::header_id::require), nullptr);  // the trunk is not required to
    trunk.respond(invite, 183, "Session Progress", {{"Contact", trunk.contact()}}, b2bua_harness::sdp_answer);
    trunk.expect_nothing();
    // §3: every provisional to this PBX is reliable; the SDP is the answer to its offer.
    auto progress = pbx.expect("SIP/2.0 183");
    ASSERT_TRUE(dialog::reliable_rseq(progress).has_value());
    EXPECT_EQ(progress.body(), b2bua_harness::sdp_answer);
    c.to_tag = std::string(progress.to().tag);
    // A second provisional waits for the first one's PRACK (§3).
    trunk.respond(invite, 180, "Ringing", {{"Contact", trunk.contact()}});
    pbx.expect_nothing();
    pbx.send(prack_bytes(c, c.cseq + 1, std::to_string(rseq_of(progress)) + " " + std::to_string(c.cseq) + " INVITE"));
    auto got = pbx.take();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].status(), 200);
    EXPECT_EQ(got[0].cseq().method, sip::method::prack);
    EXPECT_EQ(got[1].status(), 180);
    EXPECT_EQ(rseq_of(got[1]), rseq_of(progress) + 1);
    EXPECT_TRUE(got[1].body().empty());
    pbx.send(prack_bytes(c, c.cseq + 2, std::to_string(rseq_of(got[1])) + " " + std::to_string(c.cseq) + " INVITE"));
    pbx.expect("SIP/2.0 200");
    answer_and_hang_up(c, invite, c.cseq + 3);
}

TEST_F(reliable_provisionals, an_offer_in_the_trunks_reliable_183_is_answered_by_the_pbxs_prack) {
    pbx_call c;
    auto invite = invite_with(c, "Supported: 100rel\r\n", false);
    EXPECT_TRUE(invite.body().empty());
    reliable(invite, 183, 300, offer_183);
    trunk.expect_nothing();  // §5: our PRACK must carry the answer, which only the PBX has
    auto progress = pbx.expect("SIP/2.0 183");
    EXPECT_EQ(progress.body(), offer_183);
    c.to_tag = std::string(progress.to().tag);
    pbx.send(prack_bytes(c, c.cseq + 1, std::to_string(rseq_of(progress)) + " " + std::to_string(c.cseq) + " INVITE",
                         answer_in_prack));
    auto prack = trunk.expect("PRACK");
    EXPECT_EQ(prack.find("RAck")->value, "300 " + std::to_string(invite.cseq().seq) + " INVITE");
    EXPECT_EQ(prack.body(), answer_in_prack);
    expect_no_pbx_identifiers(prack, c);
    pbx.expect_nothing();  // answered with the trunk's answer
    trunk.respond(prack, 200, "OK");
    auto pracked = pbx.expect("SIP/2.0 200");
    EXPECT_EQ(pracked.cseq().method, sip::method::prack);
    expect_no_trunk_identifiers(pracked, invite);
    answer_and_hang_up(c, invite, c.cseq + 2);
}

TEST_F(reliable_provisionals, the_2xx_waits_for_the_prack_of_a_provisional_with_sdp) {
    pbx_call c;
    auto invite = invite_with(c, "Supported: 100rel\r\n");
    reliable(invite, 183, 5, b2bua_harness::sdp_answer);
    trunk.respond(trunk.expect("PRACK"), 200, "OK");
    auto progress = pbx.expect("SIP/2.0 183");
    c.to_tag = std::string(progress.to().tag);
    trunk.ok(invite);
    pbx.expect_nothing();  // §3: not before the PRACK
    trunk.expect("ACK");   // without SDP, so at once: no 2xx retransmissions meanwhile
    pbx.send(prack_bytes(c, c.cseq + 1, std::to_string(rseq_of(progress)) + " " + std::to_string(c.cseq) + " INVITE"));
    auto got = pbx.take();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].cseq().method, sip::method::prack);
    EXPECT_EQ(got[1].status(), 200);
    EXPECT_EQ(got[1].cseq().method, sip::method::invite);
    pbx.ack(c);
    trunk.expect_nothing();  // ACKed already
    pbx.send(pbx.in_dialog_bytes(c, "BYE", c.cseq + 2));
    pbx.expect("SIP/2.0 200");
    trunk.respond(trunk.expect("BYE"), 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(reliable_provisionals, a_cancel_while_the_2xx_is_held_back_confirms_and_ends_the_trunks_leg) {
    pbx_call c;
    auto invite = invite_with(c, "Supported: 100rel\r\n");
    reliable(invite, 183, 5, b2bua_harness::sdp_answer);
    trunk.respond(trunk.expect("PRACK"), 200, "OK");
    pbx.expect("SIP/2.0 183");
    trunk.ok(invite);
    trunk.expect("ACK");
    pbx.cancel(c);
    auto answers = pbx.take();
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[1].status(), 487);
    trunk.respond(trunk.expect("BYE"), 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(reliable_provisionals, a_bye_from_the_trunk_while_its_2xx_is_held_back_fails_the_call_for_the_pbx) {
    pbx_call c;
    auto invite = invite_with(c, "Supported: 100rel\r\n");
    reliable(invite, 183, 5, b2bua_harness::sdp_answer);
    trunk.respond(trunk.expect("PRACK"), 200, "OK");
    auto progress = pbx.expect("SIP/2.0 183");
    c.to_tag = std::string(progress.to().tag);
    trunk.ok(invite);
    trunk.expect("ACK");
    trunk.bye(invite);
    trunk.expect("SIP/2.0 200");
    pbx.send(prack_bytes(c, c.cseq + 1, std::to_string(rseq_of(progress)) + " " + std::to_string(c.cseq) + " INVITE"));
    auto got = pbx.take();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].cseq().method, sip::method::prack);
    EXPECT_EQ(got[1].status(), 480);
    pbx.ack_failure(c, got[1]);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(reliable_provisionals, an_offer_the_pbx_cannot_answer_gets_a_prack_without_one) {
    // The PBX lacks 100rel and sent no offer; the trunk offers in a reliable 183 anyway. No
    // answer can exist for our PRACK; the PBX sees the offer unreliably and the 2xx completes it.
    pbx_call c;
    auto invite = invite_with(c, "", false);
    reliable(invite, 183, 40, offer_183);
    auto prack = trunk.expect("PRACK");
    EXPECT_TRUE(prack.body().empty());
    trunk.respond(prack, 200, "OK");
    auto progress = pbx.expect("SIP/2.0 183");
    EXPECT_EQ(progress.find("RSeq"), nullptr);
    EXPECT_EQ(progress.body(), offer_183);
    c.to_tag = std::string(progress.to().tag);
    answer_and_hang_up(c, invite, c.cseq + 1);
}

TEST_F(reliable_provisionals, the_pbx_requiring_100rel_gets_no_sdp_in_a_provisional_after_an_offerless_invite) {
    // See b2bua/prack.cpp: the trunk's unreliable 183 SDP after an INVITE without offer would be
    // an offer in a reliable provisional whose answer has nowhere to go.
    pbx_call c;
    auto invite = invite_with(c, "Require: 100rel\r\n", false);
    trunk.respond(invite, 183, "Session Progress", {{"Contact", trunk.contact()}}, offer_183);
    auto progress = pbx.expect("SIP/2.0 183");
    ASSERT_TRUE(dialog::reliable_rseq(progress).has_value());
    EXPECT_TRUE(progress.body().empty());
    c.to_tag = std::string(progress.to().tag);
    trunk.ok(invite);  // nothing held back: that 183 had no SDP
    auto ok = pbx.expect("SIP/2.0 200");
    EXPECT_EQ(ok.body(), b2bua_harness::sdp_answer);
    pbx.send(prack_bytes(c, c.cseq + 1, std::to_string(rseq_of(progress)) + " " + std::to_string(c.cseq) + " INVITE"));
    pbx.expect("SIP/2.0 200");  // a PRACK after the 2xx still matches
    pbx.ack(c);
    trunk.expect("ACK");
}

TEST_F(reliable_provisionals, an_offer_in_the_pbxs_prack_is_refused_and_a_prack_from_the_trunk_matches_nothing) {
    pbx_call c;
    auto invite = invite_with(c, "Supported: 100rel\r\n");
    reliable(invite, 183, 5, b2bua_harness::sdp_answer);
    trunk.respond(trunk.expect("PRACK"), 200, "OK");
    auto progress = pbx.expect("SIP/2.0 183");
    c.to_tag = std::string(progress.to().tag);
    pbx.send(prack_bytes(c, c.cseq + 1, std::to_string(rseq_of(progress)) + " " + std::to_string(c.cseq) + " INVITE",
                         answer_in_prack));
    pbx.expect("SIP/2.0 488");
    trunk.expect_nothing();
    clock.advance(1s);
    pbx.expect_nothing();  // acknowledged all the same: no retransmission
    trunk.ok(invite);
    pbx.expect("SIP/2.0 200");
    pbx.ack(c);
    trunk.expect("ACK");
    // We never send the trunk a reliable provisional: its PRACK matches nothing (§7.2).
    trunk.send(with_lines(trunk.in_dialog_bytes(invite, "PRACK"), "RAck: 1 1 INVITE\r\n"));
    EXPECT_EQ(trunk.expect("SIP/2.0 481").cseq().method, sip::method::prack);
    pbx.expect_nothing();
    pbx.send(pbx.in_dialog_bytes(c, "BYE", c.cseq + 2));
    pbx.expect("SIP/2.0 200");
    trunk.respond(trunk.expect("BYE"), 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(reliable_provisionals, the_trunks_challenge_of_our_prack_is_answered) {
    pbx_call c;
    auto invite = invite_with(c, "");
    reliable(invite, 180, 1);
    auto prack = trunk.expect("PRACK");
    trunk.challenge(prack);
    auto again = trunk.take_matching("PRACK");
    ASSERT_EQ(again.size(), 1u);
    EXPECT_NE(again[0].find(sip::header_id::authorization), nullptr);
    EXPECT_EQ(again[0].cseq().seq, prack.cseq().seq + 1);  // §22.2
    EXPECT_EQ(again[0].find("RAck")->value, prack.find("RAck")->value);
    trunk.respond(again[0], 200, "OK");
    auto ringing = pbx.expect("SIP/2.0 180");
    c.to_tag = std::string(ringing.to().tag);
    auto bye = answer_and_hang_up(c, invite, c.cseq + 1);
    EXPECT_GT(bye.cseq().seq, again[0].cseq().seq);
}

}  // namespace
}  // namespace b2b::b2bua::test
