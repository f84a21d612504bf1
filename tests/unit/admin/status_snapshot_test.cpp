// The status page's snapshot, taken from a real core (the actors harness) after a call and a
// wrong password: the data the admin API serves, from the same core functions.
#include "admin/status_page.hpp"
#include "admin/status_snapshot.hpp"

#include "admin/detail/html.hpp"
#include "b2bua/auth_failure_json.hpp"
#include "tests/unit/b2bua/call_flow.hpp"

#include <gtest/gtest.h>

namespace b2b::b2bua::test {
namespace {

TEST_F(call_flow, the_status_snapshot_holds_trunks_calls_and_failures_as_the_api_serves_them) {
    pbx_call bad;
    bad.call_id = "wrong-password@10.0.0.1";
    bad.from_tag = "badtag";
    authenticated_invite(bad, "not-the-password");
    pbx.expect("SIP/2.0 403");
    pbx.expect_nothing();
    pbx_call good;
    confirmed_call(good);

    const auto s = admin::take_status_snapshot(b2b);
    EXPECT_EQ(s.now, b2b.wall_now());
    ASSERT_EQ(s.trunks.size(), 1u);
    EXPECT_EQ(s.trunks[0].name, "carrier");
    EXPECT_TRUE(s.trunks[0].up);
    EXPECT_EQ(s.trunks[0].options_interval.count(), 0);
    EXPECT_EQ(s.trunks[0].active_calls, 1u);
    EXPECT_FALSE(s.trunks[0].registration.has_value());  // it does not register

    EXPECT_EQ(s.active_calls, 1u);
    ASSERT_EQ(s.calls.size(), 1u);
    const auto listed = b2b.list_calls(0, 10);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(s.calls[0].id, listed[0].id);
    EXPECT_EQ(s.calls[0].direction, call_direction::outbound);
    EXPECT_EQ(s.calls[0].trunk, "carrier");
    EXPECT_EQ(s.calls[0].state, "answered");
    EXPECT_EQ(s.calls[0].dialled, "1000");

    ASSERT_EQ(s.failures.size(), 1u);
    const auto served = b2b.auth_failures().query({});
    ASSERT_EQ(served.size(), 1u);
    EXPECT_EQ(s.failures[0].last.username, "pbxuser");
    EXPECT_EQ(s.failures[0].last.reason, auth::failure::wrong_password);
    EXPECT_EQ(hint(s.failures[0]), hint(served[0]));
    EXPECT_EQ(s.pbx_bindings, 0u);

    const auto html = admin::render_status_page(s);
    EXPECT_NE(html.find(admin::detail::escape(hint(served[0]))), std::string::npos) << html;
    EXPECT_NE(html.find(rfc3339_ms(served[0].last.time)), std::string::npos);
    EXPECT_NE(html.find("127.0.0.11"), std::string::npos);  // the PBX's address

    // The limits bound the lists, not the counts.
    const auto few = admin::take_status_snapshot(b2b, admin::status_limits{.calls = 0, .failures = 0});
    EXPECT_TRUE(few.calls.empty());
    EXPECT_EQ(few.active_calls, 1u);
    EXPECT_TRUE(few.failures.empty());
}

}  // namespace
}  // namespace b2b::b2bua::test
