// The core records every authentication failure it counts in its "why 401" log.
#include "tests/unit/b2bua/call_flow.hpp"

#include "b2bua/auth_failure_log.hpp"

#include <gtest/gtest.h>

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

/// A filter with one field set (designated initializers would leave the others to warnings).
template <class Set>
auth_failure_filter only(Set set) {
    auth_failure_filter f;
    set(f);
    return f;
}

TEST_F(call_flow, a_wrong_password_is_recorded_with_who_where_and_which_leg) {
    pbx_call c;
    authenticated_invite(c, "not-the-password");
    pbx.expect("SIP/2.0 403");
    const auto failures = b2b.auth_failures().query({});
    ASSERT_EQ(failures.size(), 1u);
    const auto& r = failures[0].last;
    EXPECT_EQ(r.direction, auth_direction::downstream);
    EXPECT_EQ(r.reason, auth::failure::wrong_password);
    ASSERT_TRUE(r.source.has_value());
    EXPECT_EQ(r.source->address.to_string(), "127.0.0.11");
    EXPECT_EQ(r.username, "pbxuser");
    EXPECT_EQ(r.realm, "pbx.local");
    EXPECT_EQ(r.peer, "pbx.local");
    EXPECT_EQ(r.method, "INVITE");
    EXPECT_EQ(r.call_id, c.call_id);
    EXPECT_EQ(r.status, 403);
    const auto h = hint(failures[0]);
    EXPECT_NE(h.find("user pbxuser at 127.0.0.11 answered the challenge for realm pbx.local with a wrong digest"),
              std::string::npos)
        << h;
    EXPECT_EQ(h.find("not-the-password"), std::string::npos);
}

TEST_F(call_flow, a_first_challenge_is_not_recorded) {
    pbx_call c;
    pbx.invite(c);
    pbx.expect("SIP/2.0 407");
    EXPECT_EQ(b2b.auth_failures().size(), 0u);
}

TEST_F(call_flow, a_trunks_403_to_our_credentials_is_recorded_with_its_reason_phrase_and_warning) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.challenge(invite);
    auto resent = std::move(trunk.take_matching("INVITE").at(0));
    trunk.respond(resent, 403, "Caller ID not allowed", {{"Warning", "399 gw7.trunk.example \"Caller ID\""}});
    pbx.expect("SIP/2.0 403");
    const auto failures = b2b.auth_failures().query(only([](auth_failure_filter& f) { f.direction = auth_direction::upstream; }));
    ASSERT_EQ(failures.size(), 1u);
    const auto& r = failures[0].last;
    EXPECT_EQ(r.reason, auth::failure::forbidden);
    EXPECT_EQ(r.trunk, "carrier");
    EXPECT_EQ(r.username, "carrier-user");
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.reason_phrase, "Caller ID not allowed");
    EXPECT_EQ(r.warning, "399 gw7.trunk.example \"Caller ID\"");
    EXPECT_EQ(r.method, "INVITE");
    EXPECT_EQ(r.call_id, resent.call_id());  // the outbound leg's, not the PBX's
    EXPECT_FALSE(r.source.has_value());
    const auto h = hint(failures[0]);
    EXPECT_NE(h.find("answered 403 \"Caller ID not allowed\" to carrier-user"), std::string::npos) << h;
    EXPECT_EQ(h.find("carrier-pass"), std::string::npos);
}

TEST_F(call_flow, a_trunk_challenging_our_answer_again_is_recorded_with_its_realm) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.challenge(invite);
    auto resent = std::move(trunk.take_matching("INVITE").at(0));
    trunk.challenge(resent);
    pbx.expect("SIP/2.0 503");
    const auto failures = b2b.auth_failures().query(only([](auth_failure_filter& f) { f.reason = auth::failure::rejected; }));
    ASSERT_EQ(failures.size(), 1u);
    const auto& r = failures[0].last;
    EXPECT_FALSE(r.realm.empty());
    EXPECT_EQ(r.status, 401);
    const auto h = hint(failures[0]);
    EXPECT_NE(h.find("challenged again after our answer for carrier-user at realm " + r.realm), std::string::npos)
        << h;
}

TEST(auth_failure_sources, a_request_from_outside_allowed_sources_is_recorded_with_the_source_seen) {
    b2bua_harness h({b2bua_harness::numbered_trunk(1, "carrier", "")}, {}, {}, "  allowed_sources: [ \"10.0.0.0/8\" ]\n");
    pbx_actor& pbx = h.add_pbx("pbx");  // 127.0.0.11: outside 10.0.0.0/8
    pbx_call c;
    pbx.invite(c);
    pbx.expect("SIP/2.0 403");
    const auto failures = h.b2b.auth_failures().query({});
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].last.reason, auth::failure::source_not_allowed);
    EXPECT_EQ(failures[0].last.method, "INVITE");
    EXPECT_NE(hint(failures[0]).find("came from 127.0.0.11"), std::string::npos) << hint(failures[0]);
    h.expect_no_strays();
}

}  // namespace
}  // namespace b2b::b2bua::test
