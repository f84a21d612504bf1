// Toll fraud, per-account limits, emergency numbers and overload admission through whole call
// flows (the actors harness, manual clock), and the pure parts (user_limits, overload_detector).
#include "b2bua/call_limits.hpp"
#include "b2bua/overload_monitor.hpp"
#include "tests/unit/b2bua/call_flow.hpp"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <thread>

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

// ------------------------------------------------------------------------------- pure parts

TEST(user_limits, counts_calls_up_and_starts_within_the_last_second) {
    user_limits t;
    t.set_limits({{"alice", {2, 0}}, {"bob", {2, 0}}});
    const auto t0 = user_limits::time_point{} + 100s;
    routing::call_usage_hold a1, a2, a3, b1;
    EXPECT_EQ(t.check("alice", t0), user_limits::verdict::pass);
    EXPECT_EQ(t.try_start("alice", t0, false, a1), user_limits::verdict::pass);
    EXPECT_EQ(t.try_start("alice", t0, false, a2), user_limits::verdict::pass);
    EXPECT_EQ(t.try_start("alice", t0, false, a3), user_limits::verdict::max_calls);
    EXPECT_FALSE(a3);  // nothing taken
    EXPECT_EQ(t.check("alice", t0), user_limits::verdict::max_calls);
    EXPECT_EQ(t.try_start("bob", t0, false, b1), user_limits::verdict::pass);  // per account
    a1.release();
    EXPECT_EQ(t.check("alice", t0), user_limits::verdict::pass);
    t.set_limits({{"alice", {0, 2}}});  // a change of the accounts keeps the calls up
    EXPECT_EQ(t.active("alice"), 1u);
    EXPECT_EQ(t.try_start("alice", t0, false, a1), user_limits::verdict::pass);
    EXPECT_EQ(t.try_start("alice", t0 + 500ms, false, a3), user_limits::verdict::pass);
    EXPECT_EQ(t.check("alice", t0 + 999ms), user_limits::verdict::max_cps);  // two starts in the second
    EXPECT_EQ(t.check("alice", t0 + 1s), user_limits::verdict::pass);         // the first left it
    t.set_limits({{"alice", {0, 3}}});
    EXPECT_EQ(t.check("alice", t0 + 999ms), user_limits::verdict::pass);
    routing::call_usage_hold e;
    t.set_limits({{"alice", {1, 0}}});
    EXPECT_EQ(t.try_start("alice", t0, true, e), user_limits::verdict::pass);  // an emergency call passes, and counts
    EXPECT_EQ(t.active("alice"), 4u);
}

TEST(user_limits, an_account_without_limits_is_never_refused) {
    user_limits t;
    t.set_limits({{"alice", {0, 0}}, {"bob", {1, 0}}});
    EXPECT_EQ(t.limits_of("alice").max_calls, 0u);
    EXPECT_EQ(t.limits_of("bob").max_calls, 1u);
    EXPECT_EQ(t.limits_of("nobody").max_cps, 0u);
    const auto t0 = user_limits::time_point{} + 100s;
    std::vector<routing::call_usage_hold> holds(5);
    for (auto& h : holds) EXPECT_EQ(t.try_start("alice", t0, false, h), user_limits::verdict::pass);
    EXPECT_EQ(t.active("alice"), 5u);
    routing::call_usage_hold none;
    EXPECT_EQ(t.try_start("nobody", t0, false, none), user_limits::verdict::pass);  // not an account: not counted
    EXPECT_FALSE(none);
    EXPECT_EQ(t.accounts(), 2u);
    holds.clear();
    EXPECT_EQ(t.active("alice"), 0u);
}

TEST(user_limits, the_event_loops_of_one_process_hold_an_account_to_its_limits_together) {
    auto table = std::make_shared<account_usage_table>();
    constexpr int loops = 4;
    std::vector<std::unique_ptr<user_limits>> limits;
    for (int i = 0; i < loops; ++i) {
        limits.push_back(std::make_unique<user_limits>(table));
        limits.back()->set_limits({{"alice", {50, 0}}, {"bob", {0, 30}}});
    }
    const auto t0 = user_limits::time_point{} + 100s;
    std::vector<std::vector<routing::call_usage_hold>> held(loops);
    std::vector<std::thread> threads;
    for (int i = 0; i < loops; ++i) {
        threads.emplace_back([&, i] {
            for (int n = 0; n < 500; ++n) {
                routing::call_usage_hold a, b;
                if (limits[i]->try_start("alice", t0, false, a) == user_limits::verdict::pass) held[i].push_back(std::move(a));
                if (limits[i]->try_start("bob", t0, false, b) == user_limits::verdict::pass) held[i].push_back(std::move(b));
            }
        });
    }
    for (auto& t : threads) t.join();
    std::size_t taken = 0;
    for (const auto& h : held) taken += h.size();
    EXPECT_EQ(taken, 80u);  // 50 calls of alice, 30 starts of bob: exactly, whatever the interleaving
    EXPECT_EQ(limits[3]->active("alice"), 50u);
    held.clear();
    EXPECT_EQ(limits[0]->active("alice"), 0u);
    EXPECT_EQ(limits[0]->active("bob"), 0u);
}

TEST(call_limits, prefixes_match_by_start) {
    const std::vector<std::string> blocked{"+882", "00882", "900"};
    EXPECT_EQ(blocked_prefix("+88212345", blocked), "+882");
    EXPECT_EQ(blocked_prefix("0088212345", blocked), "00882");
    EXPECT_EQ(blocked_prefix("0049301234", blocked), "");
}

TEST(overload_detector, enters_above_the_limit_and_leaves_after_a_calm_second) {
    overload_detector d(100ms, 1s);
    const auto t0 = overload_detector::time_point{} + 10s;
    EXPECT_EQ(d.observe(100ms, t0), overload_detector::transition::none);  // at the limit: fine
    EXPECT_EQ(d.observe(101ms, t0), overload_detector::transition::entered);
    EXPECT_TRUE(d.overloaded());
    EXPECT_EQ(d.observe(10ms, t0 + 100ms), overload_detector::transition::none);
    EXPECT_EQ(d.observe(60ms, t0 + 600ms), overload_detector::transition::none);  // above half: calm starts over
    EXPECT_EQ(d.observe(10ms, t0 + 700ms), overload_detector::transition::none);
    EXPECT_EQ(d.observe(10ms, t0 + 1600ms), overload_detector::transition::none);
    EXPECT_TRUE(d.overloaded());
    EXPECT_EQ(d.observe(0ms, t0 + 1700ms), overload_detector::transition::left);
    EXPECT_FALSE(d.overloaded());
    EXPECT_EQ(d.observe(50ms, t0 + 1800ms), overload_detector::transition::none);
}

// Workers measure a stall of the process each at its own tick: the first one to notice puts the
// whole process in overload (admission and b2bua_overload), and it stays so until the last leaves.
TEST(overload_monitor, the_process_is_overloaded_while_any_workers_loop_is) {
    prometheus::Registry registry;
    limit_metrics metrics(registry);
    b2b::test::manual_timer_service clock_a, clock_b;
    auto log = spdlog::null_logger_mt("overload_workers_test");
    overload_monitor a(clock_a, 100ms, metrics, log);
    overload_monitor b(clock_b, 100ms, metrics, log);
    const auto gauge = [&] {
        for (const auto& family : registry.Collect()) {
            if (family.name == "b2bua_overload") return family.metric.at(0).gauge.value;
        }
        return -1.0;
    };
    EXPECT_FALSE(b.process_overloaded());
    a.observe(300ms);
    EXPECT_TRUE(a.overloaded());
    EXPECT_FALSE(b.overloaded());
    EXPECT_TRUE(b.process_overloaded());  // b has not measured yet, and refuses all the same
    EXPECT_EQ(gauge(), 1.0);
    b.observe(300ms);
    for (int i = 0; i <= 60; ++i) {  // a calm for over a second: a leaves, b is still late
        clock_a.advance(20ms);
        a.observe(0ms);
    }
    EXPECT_FALSE(a.overloaded());
    EXPECT_TRUE(a.process_overloaded());
    EXPECT_EQ(gauge(), 1.0);
    for (int i = 0; i <= 60; ++i) {
        clock_b.advance(20ms);
        b.observe(0ms);
    }
    EXPECT_FALSE(b.process_overloaded());
    EXPECT_EQ(gauge(), 0.0);
    spdlog::drop("overload_workers_test");
}

// ------------------------------------------------------------------------------ call flows

/// One trunk (default route); security.blocked_prefixes +882 and 900, emergency number 112.
class limits_flow : public ::testing::Test, public b2bua_harness {
protected:
    explicit limits_flow(const std::string& trunk_extra = {}, const std::string& calls_extra = {})
        : b2bua_harness({numbered_trunk(1, "carrier", "", trunk_extra)}, {},
                        "security:\n  blocked_prefixes: [\"+882\", \"900\"]\n  emergency_numbers: [\"112\"]\n", {},
                        calls_extra) {}
    void TearDown() override { expect_no_strays(); }

    /// The PBX account pbxuser with these limits (as the admin API sets users).
    void limit_user(std::size_t max_calls, std::uint32_t max_cps) {
        user_account u;
        u.username = "pbxuser";
        u.password = "pbxpass";
        u.max_calls = max_calls;
        u.max_cps = max_cps;
        b2b.set_users({u});
    }
    /// The PBX's authenticated INVITE is refused by us with `status` before reaching the trunk.
    sip::message refused_after_auth(pbx_call& c, const std::string& status) {
        pbx.invite(c);
        pbx.authenticate(c, pbx.expect("SIP/2.0 407"));
        auto refused = pbx.expect("SIP/2.0 " + status);
        pbx.ack_failure(c, refused);
        trunk.expect_nothing();
        return refused;
    }
    /// The trunk refuses the call it was sent (486), which ends it.
    void busy(pbx_call& c, const sip::message& invite) {
        trunk.respond(invite, 486, "Busy Here");
        trunk.expect("ACK");
        pbx.ack_failure(c, pbx.expect("SIP/2.0 486"));
    }
    void hang_up(pbx_call& c) {
        pbx.bye(c);
        pbx.expect("SIP/2.0 200");
        trunk.respond(trunk.expect("BYE"), 200, "OK");
    }
    double hits(const std::string& limit) { return counter("b2bua_limit_hits_total", {{"limit", limit}}); }

    pbx_actor& pbx = add_pbx("pbx");
    trunk_actor& trunk = trunk_named("carrier");
};

TEST_F(limits_flow, every_limit_is_exported_at_zero_from_the_start) {
    for (const char* limit : {"calls", "trunk", "user_calls", "user_cps", "blocked_prefix", "overload", "transactions"}) {
        EXPECT_EQ(hits(limit), 0) << limit;
    }
    EXPECT_EQ(counter("b2bua_overload", {}), 0);
    EXPECT_EQ(counter("b2bua_event_loop_delay_seconds", {}), 0);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "blocked"}}), 0);
}

TEST_F(limits_flow, a_blocked_prefix_gets_403_and_is_counted) {
    pbx_call c = pbx.new_call("+88216000");
    refused_after_auth(c, "403");
    pbx_call d = pbx.new_call("9001234");
    refused_after_auth(d, "403");
    EXPECT_EQ(hits("blocked_prefix"), 2);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "blocked"}}), 2);
    // Not blocked: a number that only contains the prefix.
    pbx_call e = pbx.new_call("0049900");
    busy(e, authenticated_invite(pbx, e, trunk));
    EXPECT_EQ(hits("blocked_prefix"), 2);
}

TEST_F(limits_flow, a_user_at_max_calls_gets_503_while_an_emergency_call_passes) {
    limit_user(1, 0);
    pbx_call c1 = pbx.new_call();
    confirmed_call(pbx, c1, trunk);
    EXPECT_EQ(b2b.user_calls("pbxuser"), 1u);
    pbx_call c2 = pbx.new_call();
    auto refused = refused_after_auth(c2, "503");
    EXPECT_EQ(header(refused, sip::header_id::retry_after), "1");
    EXPECT_EQ(hits("user_calls"), 1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "user_limit"}}), 1);
    pbx_call sos = pbx.new_call("112");
    busy(sos, authenticated_invite(pbx, sos, trunk));
    EXPECT_EQ(hits("user_calls"), 1);
    hang_up(c1);
    EXPECT_EQ(b2b.user_calls("pbxuser"), 0u);
    pbx_call c3 = pbx.new_call();
    busy(c3, authenticated_invite(pbx, c3, trunk));
}

TEST_F(limits_flow, a_user_at_max_cps_gets_503_until_the_second_is_over) {
    limit_user(0, 1);
    pbx_call c1 = pbx.new_call();
    busy(c1, authenticated_invite(pbx, c1, trunk));
    pbx_call c2 = pbx.new_call();
    refused_after_auth(c2, "503");
    EXPECT_EQ(hits("user_cps"), 1);
    pbx_call sos = pbx.new_call("112");
    busy(sos, authenticated_invite(pbx, sos, trunk));
    clock.advance(1s);
    pbx.take();  // whatever the transactions' timers sent meanwhile
    trunk.take();
    pbx_call c3 = pbx.new_call();
    busy(c3, authenticated_invite(pbx, c3, trunk));
    EXPECT_EQ(hits("user_cps"), 1);
}

/// calls.max_calls 1, and the trunk's max_calls 1.
class limits_full : public limits_flow {
protected:
    limits_full() : limits_flow("max_calls: 1", "  max_calls: 1\n") {}
};

TEST_F(limits_full, an_emergency_call_passes_calls_max_calls_and_the_trunk_limit) {
    pbx_call c1 = pbx.new_call();
    confirmed_call(pbx, c1, trunk);
    pbx_call c2 = pbx.new_call();
    refused_after_auth(c2, "503");
    EXPECT_EQ(hits("calls"), 1);
    pbx_call sos = pbx.new_call("112");
    auto invite = authenticated_invite(pbx, sos, trunk);
    EXPECT_EQ(invite.request_uri().user, "112");
    EXPECT_EQ(b2b.active_calls(), 2u);
    busy(sos, invite);
    hang_up(c1);
}

TEST_F(limits_flow, overloaded_new_invites_get_503_before_any_challenge_while_bye_flows) {
    pbx_call up = pbx.new_call();
    confirmed_call(pbx, up, trunk);
    b2b.overload().observe(250ms);  // the loop's timer fired 250 ms late
    EXPECT_TRUE(b2b.overload().overloaded());
    EXPECT_EQ(counter("b2bua_overload", {}), 1);
    EXPECT_DOUBLE_EQ(counter("b2bua_event_loop_delay_seconds", {}), 0.25);

    pbx_call c = pbx.new_call();
    pbx.invite(c);
    auto refused = pbx.expect("SIP/2.0 503");  // no 407: nothing spent on a challenge
    EXPECT_EQ(header(refused, sip::header_id::retry_after), "5");
    pbx.ack_failure(c, refused);
    EXPECT_EQ(hits("overload"), 1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "overload"}}), 1);

    // An emergency call is admitted (and challenged as usual).
    pbx_call sos = pbx.new_call("112");
    busy(sos, authenticated_invite(pbx, sos, trunk));
    EXPECT_EQ(hits("overload"), 1);

    // The call up ends normally: in-dialog requests are never refused.
    hang_up(up);
    EXPECT_EQ(b2b.active_calls(), 0u);

    // A calm second later the loop keeps up again.
    b2b.overload().observe(0ms);
    clock.advance(1s);
    pbx.take();
    trunk.take();
    b2b.overload().observe(0ms);
    EXPECT_FALSE(b2b.overload().overloaded());
    EXPECT_EQ(counter("b2bua_overload", {}), 0);
    pbx_call after = pbx.new_call();
    busy(after, authenticated_invite(pbx, after, trunk));
}

}  // namespace
}  // namespace b2b::b2bua::test
