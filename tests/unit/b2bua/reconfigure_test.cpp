// Trunks, routes and users changed while the core runs (what the admin API does): calls in
// progress go on, new calls follow the new configuration.
#include "tests/unit/b2bua/call_flow.hpp"

namespace b2b::b2bua::test {
namespace {

class reconfigure_flow : public ::testing::Test, public b2bua_harness {
protected:
    reconfigure_flow() : b2bua_harness({numbered_trunk(1, "alpha", "1"), numbered_trunk(2, "beta", "2")}) {}
    void TearDown() override { expect_no_strays(); }

    /// The core's trunks, routes and users as `specs`, `routes` (YAML route items) and `users`
    /// (YAML items of downstream.users, replacing pbxuser's) make them.
    void reconfigure(const std::vector<trunk_spec>& specs, const std::string& routes = {}, const std::string& users = {}) {
        auto text = make_config(specs, routes, {});
        if (!users.empty()) {
            const std::string standard = "    - { username: pbxuser, password: pbxpass }\n";
            text.replace(text.find(standard), standard.size(), users);
        }
        const auto next = parse_config(text);
        b2b.reconfigure(next.upstream.trunks, next.routes, next.inbound_routes);
        b2b.set_users(next.downstream.users);
    }

    double counter(const std::string& name, const std::map<std::string, std::string>& labels) {
        for (const auto& family : registry.Collect()) {
            if (family.name != name) continue;
            for (const auto& m : family.metric) {
                bool all = true;
                for (const auto& [k, v] : labels) {
                    bool found = false;
                    for (const auto& l : m.label) found = found || (l.name == k && l.value == v);
                    all = all && found;
                }
                if (all) return m.counter.value;
            }
        }
        return -1;
    }

    pbx_actor& pbx = add_pbx("office");
    trunk_actor& alpha = trunk_named("alpha");
    trunk_actor& beta = trunk_named("beta");
};

TEST_F(reconfigure_flow, a_rotated_password_serves_the_next_call_and_the_bye_of_a_call_in_progress) {
    auto first = pbx.new_call("1000");
    auto up = confirmed_call(pbx, first, alpha);
    ASSERT_FALSE(up.call_id().empty());

    // The provider and the operator switch to the new password at the same moment.
    auto specs = std::vector<trunk_spec>{numbered_trunk(1, "alpha", "1"), numbered_trunk(2, "beta", "2")};
    specs[0].password = "rotated";
    reconfigure(specs);
    alpha.set_password("rotated");
    EXPECT_EQ(b2b.active_calls(), 1u) << "the call in progress goes on";

    // A new call answers alpha's challenge with the new password.
    auto second = pbx.new_call("1001");
    auto invite = authenticated_invite(pbx, second, alpha);
    alpha.challenge(invite);
    auto retries = alpha.take_matching("INVITE");
    ASSERT_EQ(retries.size(), 1u);
    EXPECT_TRUE(alpha.accepts(retries.front()));
    alpha.respond(retries.front(), 486, "Busy Here");
    alpha.take();
    pbx.expect("SIP/2.0 486");

    // The first call's BYE, challenged by the provider, is answered with the new password too.
    pbx.bye(first);
    auto bye = alpha.expect("BYE");
    alpha.challenge(bye);
    auto bye_retry = alpha.expect("BYE");
    EXPECT_TRUE(alpha.accepts(bye_retry));
    alpha.respond(bye_retry, 200, "OK");
    pbx.take();
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(reconfigure_flow, a_removed_trunk_keeps_its_calls_and_new_calls_follow_the_new_routes) {
    auto first = pbx.new_call("1000");
    auto up = confirmed_call(pbx, first, alpha);
    ASSERT_FALSE(up.call_id().empty());
    EXPECT_EQ(b2b.calls_on_trunk("alpha"), 1u);

    // alpha goes; every number now goes to beta.
    reconfigure({numbered_trunk(2, "beta", "")}, "  - { prefix: \"\", trunk: beta }\n");
    EXPECT_EQ(b2b.calls_on_trunk("alpha"), 0u) << "alpha is no longer a trunk by name";
    EXPECT_EQ(b2b.active_calls(), 1u);
    const auto listed = b2b.trunks();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed.front().trunk->name, "beta");

    auto second = pbx.new_call("1000");
    auto invite = authenticated_invite(pbx, second, beta);
    EXPECT_EQ(invite.request_uri().text, "sip:1000@" + beta.host_port());
    beta.respond(invite, 486, "Busy Here");
    beta.take();
    pbx.expect("SIP/2.0 486");

    // The call on the removed trunk still ends properly, both ways.
    alpha.bye(up);
    alpha.expect("SIP/2.0 200");
    auto bye = pbx.expect("BYE");
    pbx.respond(bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);

    // Added again, it is a trunk again, under its old name and metrics.
    reconfigure({numbered_trunk(1, "alpha", "1"), numbered_trunk(2, "beta", "2")});
    auto third = pbx.new_call("1000");
    auto again = authenticated_invite(pbx, third, alpha);
    alpha.respond(again, 486, "Busy Here");
    alpha.take();
    pbx.expect("SIP/2.0 486");
    EXPECT_EQ(counter("b2bua_calls_total", {{"direction", "outbound"}, {"trunk", "alpha"}, {"result", "rejected"}}), 1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"direction", "outbound"}, {"trunk", "beta"}, {"result", "rejected"}}), 1);
}

TEST_F(reconfigure_flow, an_operator_ends_a_ringing_call_and_an_answered_one) {
    std::vector<call_record> records;
    b2b.set_cdr_sink([&](call_record&& r) { records.push_back(std::move(r)); });

    auto ringing_call = pbx.new_call("1000");
    auto invite = authenticated_invite(pbx, ringing_call, alpha);
    alpha.ringing(invite);
    pbx.expect("SIP/2.0 180");
    const auto calls = b2b.list_calls(0, 10);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls.front().state, "ringing");
    EXPECT_EQ(calls.front().trunk, "alpha");
    EXPECT_EQ(calls.front().dialled, "1000");
    EXPECT_EQ(calls.front().outbound_call_id, std::string(invite.call_id()));
    EXPECT_EQ(b2b.end_call(calls.front().id), std::optional<std::string_view>("cancel"));
    auto cancel = alpha.expect("CANCEL");
    alpha.respond(cancel, 200, "OK");
    alpha.respond(invite, 487, "Request Terminated");
    alpha.take();
    auto refused = pbx.expect("SIP/2.0 480");
    pbx.ack_failure(ringing_call, refused);
    EXPECT_EQ(b2b.active_calls(), 0u);

    auto answered = pbx.new_call("2000");
    auto up = confirmed_call(pbx, answered, beta);
    ASSERT_FALSE(up.call_id().empty());
    const auto id = b2b.list_calls(0, 10).front().id;
    EXPECT_EQ(b2b.end_call(id), std::optional<std::string_view>("bye"));
    EXPECT_EQ(b2b.end_call(id + 100), std::nullopt);
    auto pbx_bye = pbx.expect("BYE");
    auto trunk_bye = beta.expect("BYE");
    pbx.respond(pbx_bye, 200, "OK");
    beta.respond(trunk_bye, 200, "OK");
    EXPECT_EQ(b2b.active_calls(), 0u);

    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].result, "ended_by_operator");
    EXPECT_EQ(records[0].status, 480);
    EXPECT_FALSE(records[0].call.answer.has_value());
    EXPECT_EQ(records[1].result, "answered");
    EXPECT_EQ(records[1].status, 200);
    EXPECT_EQ(records[1].hangup_by, hangup_party::b2bua);
    EXPECT_TRUE(records[1].call.answer.has_value());
    EXPECT_EQ(records[1].call.trunk, "beta");
}

TEST_F(reconfigure_flow, users_replaced_at_run_time_and_allowed_sources_per_user) {
    // The account moves to a new password, and may call only from its own network.
    reconfigure({numbered_trunk(1, "alpha", "1"), numbered_trunk(2, "beta", "2")}, {},
                "    - { username: pbxuser, password: newpass, allowed_sources: [ 10.9.0.0/16 ] }\n");
    auto c = pbx.new_call("1000");
    pbx.invite(c);
    auto challenge = pbx.expect("SIP/2.0 407");
    pbx.authenticate(c, challenge, "pbxuser", "newpass");
    auto refused = pbx.expect("SIP/2.0 403");
    pbx.ack_failure(c, refused);
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "downstream"}, {"reason", "source_not_allowed"}}), 1);

    reconfigure({numbered_trunk(1, "alpha", "1"), numbered_trunk(2, "beta", "2")}, {},
                "    - { username: pbxuser, password: newpass, allowed_sources: [ 127.0.0.0/8 ] }\n");
    auto d = pbx.new_call("1000");
    pbx.invite(d);
    auto again = pbx.expect("SIP/2.0 407");
    pbx.authenticate(d, again, "pbxuser", "newpass");
    pbx.take_matching("SIP/2.0 100");
    auto invite = alpha.expect("INVITE");
    alpha.respond(invite, 486, "Busy Here");
    alpha.take();
    pbx.expect("SIP/2.0 486");
}

}  // namespace
}  // namespace b2b::b2bua::test
