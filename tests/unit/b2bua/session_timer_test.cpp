// Session timers (RFC 4028) through the actors: negotiation on each leg, our refreshes by UPDATE
// and re-INVITE, the PBX's refreshes relayed, expiry with BYE on both legs, 422 both ways.
#include "tests/unit/b2bua/call_flow.hpp"

#include <chrono>

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

// `bytes` with more header lines, put after Max-Forwards.
std::string with_lines(std::string bytes, const std::string& lines) {
    const std::string anchor = "Max-Forwards: 70\r\n";
    bytes.insert(bytes.find(anchor) + anchor.size(), lines);
    return bytes;
}

std::string value(const sip::message& m, std::string_view name) {
    const auto* h = m.find(name);
    return h ? std::string(h->value) : std::string();
}

constexpr const char* trunk_allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE";

class session_timers : public call_flow {
protected:
    session_timers() = default;
    explicit session_timers(const std::string& calls_extra) : call_flow(calls_extra) {}

    /// A confirmed call whose PBX INVITEs carry `pbx_lines` and whose trunk answers with
    /// `trunk_200` headers besides Contact and Record-Route; returns leg B's INVITE. `pbx_ok`
    /// receives the 200 the PBX got.
    sip::message setup(pbx_call& c, const std::string& pbx_lines, const header_list& trunk_200,
                       sip::message* pbx_ok = nullptr) {
        pbx.send(with_lines(pbx.invite_bytes(c), pbx_lines));
        auto challenge = pbx.expect("SIP/2.0 407");
        pbx.ack_failure(c, challenge);
        ++c.cseq;
        pbx.send(with_lines(pbx.invite_bytes(c, pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass",
                                                                            pbx.request_uri(c))),
                            pbx_lines));
        pbx.expect("SIP/2.0 100");
        auto first = trunk.expect("INVITE");
        trunk.challenge(first);
        auto retries = trunk.take_matching("INVITE");
        EXPECT_EQ(retries.size(), 1u);
        if (retries.empty()) return {};
        auto invite = std::move(retries.front());
        header_list ok = {{"Contact", trunk.contact()}, {"Record-Route", trunk.record_route()}};
        ok.insert(ok.end(), trunk_200.begin(), trunk_200.end());
        trunk.respond(invite, 200, "OK", ok, trunk_actor::sdp_answer);
        auto got = pbx.expect("SIP/2.0 200");
        c.to_tag = std::string(got.to().tag);
        pbx.ack(c);
        trunk.expect("ACK");
        if (pbx_ok != nullptr) *pbx_ok = std::move(got);
        return invite;
    }

    // Ends the call from the PBX side.
    void hang_up(pbx_call& c, std::uint32_t cseq) {
        pbx.send(pbx.in_dialog_bytes(c, "BYE", cseq));
        auto bye = trunk.expect("BYE");
        trunk.respond(bye, 200, "OK");
        pbx.expect("SIP/2.0 200");
        EXPECT_EQ(b2b.active_calls(), 0u);
    }
};

class session_timers_off : public session_timers {
protected:
    session_timers_off() : session_timers("  session_expires_s: 0\n") {}
};

TEST_F(session_timers, we_refresh_each_leg_when_no_peer_does_update_where_allowed_else_reinvite) {
    pbx_call c;
    sip::message pbx_ok;
    auto invite = setup(c, "", {{"Allow", trunk_allow}}, &pbx_ok);
    // §7.1: we ask the trunk; §9: we insert our interval for the PBX and refresh it ourselves.
    EXPECT_EQ(value(invite, "Session-Expires"), "1800");
    EXPECT_EQ(value(invite, "Min-SE"), "90");
    EXPECT_EQ(b2bua_harness::header(invite, sip::header_id::supported), "timer");
    EXPECT_EQ(value(pbx_ok, "Session-Expires"), "1800;refresher=uas");
    EXPECT_EQ(b2bua_harness::header(pbx_ok, sip::header_id::require), "");

    for (int round = 0; round < 2; ++round) {
        clock.advance(900s - 1ms);
        pbx.expect_nothing();
        trunk.expect_nothing();
        clock.advance(1ms);
        // The trunk allows UPDATE and never answered with Session-Expires: we refresh alone (§7.2).
        auto update = trunk.expect("UPDATE");
        EXPECT_EQ(value(update, "Session-Expires"), "1800;refresher=uac");
        EXPECT_TRUE(update.body().empty());
        EXPECT_EQ(update.to().tag, trunk.tag());
        EXPECT_GT(update.cseq().seq, invite.cseq().seq);
        // The PBX's INVITE had no Allow: a re-INVITE offering what we last sent it, the trunk's SDP.
        auto reinvite = pbx.expect("INVITE");
        EXPECT_EQ(value(reinvite, "Session-Expires"), "1800;refresher=uac");
        EXPECT_EQ(reinvite.body(), trunk_actor::sdp_answer);
        EXPECT_EQ(reinvite.call_id(), c.call_id);
        EXPECT_EQ(reinvite.from().tag, c.to_tag);
        trunk.respond(update, 200, "OK");
        pbx.respond(reinvite, 200, "OK", {{"Contact", "<sip:200@" + pbx.host_port() + ">"}}, b2bua_harness::sdp_offer);
        auto ack = pbx.expect("ACK");
        EXPECT_EQ(ack.cseq().seq, reinvite.cseq().seq);
        trunk.expect_nothing();  // a refresh is the leg's own business
    }
    hang_up(c, 3);
}

TEST_F(session_timers_off, the_trunk_asks_and_makes_us_refresher_we_reinvite_without_update) {
    pbx_call c;
    sip::message pbx_ok;
    auto invite = setup(c, "",
                        {{"Session-Expires", "90;refresher=uac"}, {"Require", "timer"}, {"Allow", "INVITE, ACK, BYE"}},
                        &pbx_ok);
    EXPECT_EQ(invite.find(std::string_view("Session-Expires")), nullptr);  // we ask nothing
    EXPECT_EQ(b2bua_harness::header(invite, sip::header_id::supported), "timer");
    EXPECT_EQ(pbx_ok.find(std::string_view("Session-Expires")), nullptr);  // the PBX's leg has none

    clock.advance(45s);
    auto reinvite = trunk.expect("INVITE");
    EXPECT_EQ(value(reinvite, "Session-Expires"), "90;refresher=uac");
    EXPECT_EQ(reinvite.body(), b2bua_harness::sdp_offer);  // the PBX's offer, as sent on this leg
    EXPECT_EQ(reinvite.to().tag, trunk.tag());
    trunk.respond(reinvite, 200, "OK", {{"Contact", trunk.contact()}, {"Session-Expires", "90;refresher=uac"}},
                  trunk_actor::sdp_answer);
    auto ack = trunk.expect("ACK");
    EXPECT_EQ(ack.cseq().seq, reinvite.cseq().seq);
    pbx.expect_nothing();
    // Restarted by the 2xx: the next one 45 s later, not before.
    clock.advance(45s - 1ms);
    trunk.expect_nothing();
    clock.advance(1ms);
    auto again = trunk.expect("INVITE");
    EXPECT_GT(again.cseq().seq, reinvite.cseq().seq);
    trunk.respond(again, 200, "OK", {{"Session-Expires", "90;refresher=uac"}}, trunk_actor::sdp_answer);
    trunk.expect("ACK");
    hang_up(c, 3);
}

TEST_F(session_timers, the_pbxs_refreshes_are_relayed_with_each_legs_own_interval) {
    pbx_call c;
    sip::message pbx_ok;
    const std::string asks =
        "Session-Expires: 90;refresher=uac\r\nSupported: timer\r\nRequire: timer\r\nAllow: INVITE, ACK, BYE, UPDATE\r\n";
    auto invite = setup(c, asks, {}, &pbx_ok);
    // The PBX's interval goes on to the trunk, which lets it choose (no refresher, §7.1).
    EXPECT_EQ(value(invite, "Session-Expires"), "90");
    EXPECT_EQ(value(pbx_ok, "Session-Expires"), "90;refresher=uac");
    EXPECT_EQ(b2bua_harness::header(pbx_ok, sip::header_id::require), "timer");

    for (std::uint32_t cseq = 3; cseq < 6; ++cseq) {
        clock.advance(40s);
        pbx.send(with_lines(pbx.in_dialog_bytes(c, "UPDATE", cseq),
                            "Session-Expires: 90;refresher=uac\r\nSupported: timer\r\n"));
        auto update = trunk.expect("UPDATE");
        // Leg B: the trunk did not answer with Session-Expires, so we are its refresher (§7.2).
        EXPECT_EQ(value(update, "Session-Expires"), "90;refresher=uac");
        EXPECT_EQ(update.wire().find(c.call_id), std::string_view::npos);
        trunk.respond(update, 200, "OK");
        auto ok = pbx.expect("SIP/2.0 200");
        EXPECT_EQ(value(ok, "Session-Expires"), "90;refresher=uac");
        EXPECT_EQ(b2bua_harness::header(ok, sip::header_id::require), "timer");
    }
    // Each relayed 2xx refreshed leg B too: we never sent a refresh of our own.
    trunk.expect_nothing();
    hang_up(c, 6);
}

TEST_F(session_timers, the_trunks_refresh_reaches_the_pbx_with_leg_as_interval_and_restarts_both) {
    pbx_call c;
    auto invite = setup(c, "Allow: INVITE, ACK, BYE, UPDATE\r\n",
                        {{"Session-Expires", "90;refresher=uas"}, {"Require", "timer"}, {"Allow", trunk_allow}});
    clock.advance(40s);
    trunk.send(with_lines(trunk.in_dialog_bytes(invite, "UPDATE"),
                          "Session-Expires: 90;refresher=uac\r\nSupported: timer\r\n"));
    auto update = pbx.expect("UPDATE");
    // Leg A is ours to refresh (1800 s, inserted in our 2xx): as this UPDATE's UAC we say "uac".
    EXPECT_EQ(value(update, "Session-Expires"), "1800;refresher=uac");
    EXPECT_EQ(update.call_id(), c.call_id);
    pbx.respond(update, 200, "OK");
    auto ok = trunk.expect("SIP/2.0 200");
    // Leg B stays the trunk's: it is the UAC of its UPDATE, so "uac", and the 2xx requires timer.
    EXPECT_EQ(value(ok, "Session-Expires"), "90;refresher=uac");
    EXPECT_EQ(b2bua_harness::header(ok, sip::header_id::require), "timer");
    // The trunk stops refreshing: 60 s after its last refresh, both legs end.
    clock.advance(60s - 1ms);
    pbx.expect_nothing();
    trunk.expect_nothing();
    clock.advance(1ms);
    pbx.respond(pbx.expect("BYE"), 200, "OK");
    trunk.respond(trunk.expect("BYE"), 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(session_timers_off, a_reinvite_while_our_refresh_reinvite_is_pending_gets_491) {
    pbx_call c;
    setup(c, "", {{"Session-Expires", "90;refresher=uac"}, {"Allow", "INVITE, ACK, BYE"}});
    clock.advance(45s);
    auto refresh = trunk.expect("INVITE");
    // RFC 3261 §14.1: the PBX's re-INVITE now would make two INVITEs pending at the trunk.
    auto reinvite = pbx.in_dialog_bytes(c, "INVITE", 3);
    pbx.send(reinvite);
    pbx.expect("SIP/2.0 491");
    trunk.expect_nothing();
    trunk.respond(refresh, 200, "OK", {{"Session-Expires", "90;refresher=uac"}}, trunk_actor::sdp_answer);
    trunk.expect("ACK");
    hang_up(c, 4);
}

TEST_F(session_timers, a_session_nobody_refreshes_ends_with_bye_on_both_legs) {
    pbx_call c;
    setup(c, "Session-Expires: 90;refresher=uac\r\nSupported: timer\r\n",
          {{"Session-Expires", "90;refresher=uac"}, {"Require", "timer"}, {"Allow", trunk_allow}});
    clock.advance(45s);
    trunk.respond(trunk.expect("UPDATE"), 200, "OK", {{"Session-Expires", "90;refresher=uac"}});
    // The PBX, its refresher, never refreshes: 90 - min(32, 90/3) = 60 s after the 2xx (§10).
    clock.advance(15s - 1ms);
    pbx.expect_nothing();
    trunk.expect_nothing();
    clock.advance(1ms);
    auto bye_a = pbx.expect("BYE");
    auto bye_b = trunk.expect("BYE");
    EXPECT_EQ(bye_a.call_id(), c.call_id);
    pbx.respond(bye_a, 200, "OK");
    trunk.respond(bye_b, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(session_timers_off, a_refresh_that_times_out_ends_the_call) {
    pbx_call c;
    setup(c, "", {{"Session-Expires", "1800;refresher=uac"}, {"Allow", trunk_allow}});
    clock.advance(900s);
    trunk.expect("UPDATE");
    // §10: no answer to the refresh (Timer F, 64*T1): the session is over, well before it
    // would expire (1768 s).
    clock.advance(32s - 1ms);
    pbx.expect_nothing();
    EXPECT_TRUE(trunk.take_matching("BYE").empty());
    clock.advance(1ms);
    auto byes_a = pbx.take_matching("BYE");
    auto byes_b = trunk.take_matching("BYE");
    ASSERT_EQ(byes_a.size(), 1u);
    ASSERT_EQ(byes_b.size(), 1u);
    pbx.respond(byes_a.front(), 200, "OK");
    trunk.respond(byes_b.front(), 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(session_timers, a_trunks_422_is_answered_by_asking_again_for_its_min_se) {
    pbx_call c;
    pbx.invite(c);
    auto challenge = pbx.expect("SIP/2.0 407");
    pbx.authenticate(c, challenge);
    pbx.expect("SIP/2.0 100");
    auto first = trunk.expect("INVITE");
    trunk.challenge(first);
    auto authed = trunk.take_matching("INVITE");
    ASSERT_EQ(authed.size(), 1u);
    trunk.respond(authed.front(), 422, "Session Interval Too Small", {{"Min-SE", "3600"}});
    auto got = trunk.take();  // the ACK of the 422 (§17.1.1.3), then the INVITE asking for more
    ASSERT_EQ(got.size(), 2u);
    EXPECT_TRUE(b2bua_harness::starts(got[0], "ACK"));
    auto& retry = got[1];
    ASSERT_TRUE(b2bua_harness::starts(retry, "INVITE"));
    EXPECT_EQ(value(retry, "Session-Expires"), "3600");
    EXPECT_EQ(value(retry, "Min-SE"), "3600");
    EXPECT_EQ(retry.cseq().seq, authed.front().cseq().seq + 1);
    EXPECT_TRUE(trunk.accepts(retry));
    EXPECT_NE(b2bua_harness::header(retry, sip::header_id::authorization).find("nc=00000002"), std::string::npos);
    pbx.expect_nothing();  // the PBX never hears of it
    // A second 422 goes to the caller, with what lets it recover.
    trunk.respond(retry, 422, "Session Interval Too Small", {{"Min-SE", "7200"}});
    auto refused = pbx.expect("SIP/2.0 422");
    EXPECT_EQ(value(refused, "Min-SE"), "7200");
    pbx.ack_failure(c, refused);
    EXPECT_EQ(b2b.active_calls(), 0u);
    trunk.take();
}

TEST_F(session_timers, a_pbx_asking_for_too_short_an_interval_gets_422_with_our_min_se) {
    pbx_call c;
    const std::string lines = "Session-Expires: 60\r\nSupported: timer\r\n";
    pbx.send(with_lines(pbx.invite_bytes(c), lines));
    auto challenge = pbx.expect("SIP/2.0 407");
    pbx.ack_failure(c, challenge);
    ++c.cseq;
    const auto answer = pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", pbx.request_uri(c));
    pbx.send(with_lines(pbx.invite_bytes(c, answer), lines));
    auto got = pbx.take_matching("SIP/2.0 422");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(value(got.front(), "Min-SE"), "90");
    pbx.ack_failure(c, got.front());
    trunk.expect_nothing();
    EXPECT_EQ(b2b.active_calls(), 0u);

    // In a call, an UPDATE asking for too little gets 422 too, and goes nowhere.
    pbx_call d;
    d.call_id = "second-call@10.0.0.1";
    d.from_tag = "second";
    setup(d, "", {});
    pbx.send(with_lines(pbx.in_dialog_bytes(d, "UPDATE", 3), lines));
    auto in_call = pbx.expect("SIP/2.0 422");
    EXPECT_EQ(value(in_call, "Min-SE"), "90");
    trunk.expect_nothing();
    hang_up(d, 4);
}

TEST_F(session_timers_off, no_timer_when_nobody_asks_and_the_default_is_off) {
    pbx_call c;
    sip::message pbx_ok;
    auto invite = setup(c, "", {{"Allow", trunk_allow}}, &pbx_ok);
    EXPECT_EQ(invite.find(std::string_view("Session-Expires")), nullptr);
    EXPECT_EQ(pbx_ok.find(std::string_view("Session-Expires")), nullptr);
    clock.advance(2h);
    pbx.expect_nothing();
    trunk.expect_nothing();
    EXPECT_EQ(b2b.active_calls(), 1u);
    hang_up(c, 3);
}

}  // namespace
}  // namespace b2b::b2bua::test
