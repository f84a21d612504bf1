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

TEST(status_snapshot, the_workers_snapshots_merge_into_one_page) {
    // Worker 0 speaks for trunks and bindings; calls and failures come from every worker.
    using clock_type = std::chrono::system_clock;
    const auto t0 = clock_type::time_point(std::chrono::seconds(1796205600));
    auto failure = [&](const char* user, std::chrono::seconds at) {
        auth_failure_record r;
        r.time = t0 + at;
        r.reason = auth::failure::wrong_password;
        r.source = sip::endpoint{boost::asio::ip::make_address("192.0.2.9"), 5060};
        r.username = user;
        return auth_failure_entry{r, r.time, 1};
    };
    std::vector<admin::status_snapshot> parts(2);
    parts[0].trunks.push_back({});
    parts[0].trunks[0].name = "carrier";
    parts[0].trunks[0].active_calls = 3;
    parts[0].pbx_bindings = 2;
    parts[0].active_calls = 2;
    parts[1].active_calls = 1;
    auto call = [](std::uint64_t id) {
        call_summary c;
        c.id = id;
        return c;
    };
    parts[0].calls = {call(1), call(3)};
    parts[1].calls = {call(2)};
    parts[0].failures.push_back(failure("a", std::chrono::seconds(5)));
    parts[1].failures.push_back(failure("b", std::chrono::seconds(9)));  // the same source and minute
    admin::status_limits limits;
    limits.calls = 2;
    const auto page = admin::merge_status(std::move(parts), limits);
    ASSERT_EQ(page.trunks.size(), 1u);
    EXPECT_EQ(page.trunks[0].active_calls, 3u);  // the process's count, not summed again
    EXPECT_EQ(page.pbx_bindings, 2u);
    EXPECT_EQ(page.active_calls, 3u);
    ASSERT_EQ(page.calls.size(), 2u);  // the first two by id, of both workers
    EXPECT_EQ(page.calls[0].id, 1u);
    EXPECT_EQ(page.calls[1].id, 2u);
    ASSERT_EQ(page.failures.size(), 1u);
    EXPECT_EQ(page.failures[0].count, 2u);
    EXPECT_EQ(page.failures[0].last.username, "b");
}

}  // namespace
}  // namespace b2b::b2bua::test
