// Call flows with several PBXs and trunks at once: each call reaches the trunk its prefix picks,
// and nothing of one leg (Call-ID, tags, address, port) shows on any other.
#include "tests/unit/b2bua/call_flow.hpp"

#include <set>
#include <string>
#include <vector>

namespace b2b::b2bua::test {
namespace {

/// Two PBXs (east, west) and two trunks: numbers starting with 1 go to alpha, with 2 to beta.
class two_trunks : public ::testing::Test, public b2bua_harness {
protected:
    two_trunks() : b2bua_harness({numbered_trunk(1, "alpha", "1"), numbered_trunk(2, "beta", "2")}) {}
    void TearDown() override { expect_no_strays(); }

    pbx_actor& east = add_pbx("east");
    pbx_actor& west = add_pbx("west");
    trunk_actor& alpha = trunk_named("alpha");
    trunk_actor& beta = trunk_named("beta");

    /// One leg of a call as seen on the wire: the identifiers that must stay on it.
    struct leg {
        const actor* peer;
        std::vector<std::string> tokens;
    };

    /// Brings up east -> 1000 -> alpha and west -> 2000 -> beta, step by step in turn, so
    /// both calls are in flight at once. Returns leg B's INVITEs (alpha's, beta's).
    std::pair<sip::message, sip::message> two_calls_up(pbx_call& e, pbx_call& w) {
        east.invite(e);
        west.invite(w);
        auto e407 = east.expect("SIP/2.0 407");
        auto w407 = west.expect("SIP/2.0 407");
        east.authenticate(e, e407);
        west.authenticate(w, w407);
        EXPECT_EQ(east.take_matching("SIP/2.0 100").size(), 1u);
        EXPECT_EQ(west.take_matching("SIP/2.0 100").size(), 1u);
        auto a_first = alpha.expect("INVITE");
        auto b_first = beta.expect("INVITE");
        EXPECT_EQ(a_first.request_uri().text, "sip:1000@" + alpha.host_port());
        EXPECT_EQ(b_first.request_uri().text, "sip:2000@" + beta.host_port());
        beta.challenge(b_first);
        alpha.challenge(a_first);
        auto a_invites = alpha.take_matching("INVITE");
        auto b_invites = beta.take_matching("INVITE");
        EXPECT_EQ(a_invites.size(), 1u);
        EXPECT_EQ(b_invites.size(), 1u);
        if (a_invites.empty() || b_invites.empty()) return {};
        auto a_invite = std::move(a_invites.front());
        auto b_invite = std::move(b_invites.front());
        // Each trunk gets its own credentials, answering its own realm.
        EXPECT_TRUE(alpha.accepts(a_invite));
        EXPECT_TRUE(beta.accepts(b_invite));
        alpha.ringing(a_invite);
        beta.ringing(b_invite);
        e.to_tag = std::string(east.expect("SIP/2.0 180").to().tag);
        w.to_tag = std::string(west.expect("SIP/2.0 180").to().tag);
        beta.ok(b_invite);
        alpha.ok(a_invite);
        EXPECT_EQ(west.expect("SIP/2.0 200").to().tag, w.to_tag);
        EXPECT_EQ(east.expect("SIP/2.0 200").to().tag, e.to_tag);
        west.ack(w);
        east.ack(e);
        alpha.expect("ACK");
        beta.expect("ACK");
        EXPECT_EQ(b2b.active_calls(), 2u);
        return {std::move(a_invite), std::move(b_invite)};
    }

    /// What identifies a PBX's leg: its Call-ID and tags, its address and port, its name
    /// (in its branches and tags). A port is looked for as ":port", the way SIP writes it: the
    /// bare digits also turn up by chance inside random hex (tags, branches, cnonces).
    static leg leg_a(const pbx_actor& p, const pbx_call& c) {
        return {&p, {c.call_id, c.from_tag, c.to_tag, p.address().address.to_string(),
                     ":" + std::to_string(p.address().port), p.name()}};
    }
    /// What identifies a trunk's leg: our Call-ID and From tag on it, its tag, address, port
    /// and name (in its realm, gateway, edge proxy and nonces).
    static leg leg_b(const trunk_actor& t, const sip::message& invite) {
        return {&t, {std::string(invite.call_id()), std::string(invite.from().tag), t.tag(),
                     t.address().address.to_string(), ":" + std::to_string(t.address().port), t.name()}};
    }

    /// Every message each peer received carries nothing of any leg that peer is not on.
    static void expect_no_leaks(const std::vector<leg>& legs) {
        for (const auto& on : legs) {
            for (const auto& other : legs) {
                if (other.peer == on.peer) continue;
                for (const auto& token : other.tokens) {
                    ASSERT_FALSE(token.empty());
                    for (const auto& wire : on.peer->received()) {
                        EXPECT_EQ(wire.find(token), std::string::npos)
                            << on.peer->name() << " saw \"" << token << "\" of " << other.peer->name()
                            << "'s leg in:\n" << wire;
                    }
                }
            }
        }
    }
};

TEST_F(two_trunks, two_calls_to_two_trunks_by_prefix_stay_apart) {
    auto e = east.new_call("1000");
    auto w = west.new_call("2000");
    auto [a_invite, b_invite] = two_calls_up(e, w);
    ASSERT_FALSE(a_invite.call_id().empty());
    ASSERT_FALSE(b_invite.call_id().empty());
    EXPECT_NE(a_invite.call_id(), b_invite.call_id());
    EXPECT_NE(a_invite.from().tag, b_invite.from().tag);
    EXPECT_NE(e.to_tag, w.to_tag);

    // Both hang up, each on its own call.
    east.bye(e);
    west.bye(w);
    east.expect("SIP/2.0 200");
    west.expect("SIP/2.0 200");
    auto a_bye = alpha.expect("BYE");
    auto b_bye = beta.expect("BYE");
    EXPECT_EQ(a_bye.call_id(), a_invite.call_id());
    EXPECT_EQ(b_bye.call_id(), b_invite.call_id());
    EXPECT_TRUE(starts(a_bye, "BYE sip:gw-alpha@" + alpha.host_port()));
    EXPECT_TRUE(starts(b_bye, "BYE sip:gw-beta@" + beta.host_port()));
    beta.respond(b_bye, 200, "OK");
    alpha.respond(a_bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "alpha"}, {"result", "answered"}}), 1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "beta"}, {"result", "answered"}}), 1);
    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "upstream"}, {"peer", "alpha"}}), 1);
    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "upstream"}, {"peer", "beta"}}), 1);

    for (actor* a : actors()) a->expect_nothing();
    expect_no_leaks({leg_a(east, e), leg_b(alpha, a_invite), leg_a(west, w), leg_b(beta, b_invite)});
}

TEST_F(two_trunks, a_trunk_bye_reaches_the_pbx_of_its_call_only) {
    auto e = east.new_call("1000");
    auto w = west.new_call("2000");
    auto [a_invite, b_invite] = two_calls_up(e, w);

    beta.bye(b_invite);
    beta.expect("SIP/2.0 200");
    auto bye = west.expect("BYE");
    EXPECT_TRUE(starts(bye, "BYE sip:200@" + west.host_port() + " SIP/2.0"));
    EXPECT_EQ(bye.call_id(), w.call_id);
    EXPECT_EQ(bye.from().tag, w.to_tag);
    EXPECT_EQ(bye.to().tag, w.from_tag);
    east.expect_nothing();
    alpha.expect_nothing();
    west.respond(bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 1u);

    // East's call is untouched: its BYE still goes through to alpha.
    east.bye(e);
    east.expect("SIP/2.0 200");
    auto a_bye = alpha.expect("BYE");
    EXPECT_EQ(a_bye.call_id(), a_invite.call_id());
    alpha.respond(a_bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);
    for (actor* a : actors()) a->expect_nothing();
    expect_no_leaks({leg_a(east, e), leg_b(alpha, a_invite), leg_a(west, w), leg_b(beta, b_invite)});
}

TEST_F(two_trunks, one_pbx_reaches_both_trunks_and_an_unrouted_number_none) {
    auto one = east.new_call("1999");
    auto two = east.new_call("2999");
    auto none = east.new_call("3999");  // no default route here
    for (auto* c : {&one, &two, &none}) east.invite(*c);
    auto challenges = east.take_matching("SIP/2.0 407");
    ASSERT_EQ(challenges.size(), 3u);
    east.authenticate(one, challenges[0]);
    east.authenticate(two, challenges[1]);
    east.authenticate(none, challenges[2]);
    auto answers = east.take();
    ASSERT_EQ(answers.size(), 3u);
    EXPECT_EQ(answers[0].status(), 100);
    EXPECT_EQ(answers[1].status(), 100);
    EXPECT_EQ(answers[2].status(), 404);
    EXPECT_EQ(answers[2].call_id(), none.call_id);
    EXPECT_EQ(alpha.expect("INVITE").request_uri().text, "sip:1999@" + alpha.host_port());
    EXPECT_EQ(beta.expect("INVITE").request_uri().text, "sip:2999@" + beta.host_port());
    west.expect_nothing();
    EXPECT_EQ(b2b.active_calls(), 2u);
}

}  // namespace
}  // namespace b2b::b2bua::test
