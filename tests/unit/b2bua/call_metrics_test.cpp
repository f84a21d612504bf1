// The call histograms through whole call flows on the manual clock: b2bua_call_setup_seconds
// (the call's INVITE to the first final response to the caller) and b2bua_call_duration_seconds
// (answer to end), by direction; and b2bua_sip_transactions while a call is under way.
#include "tests/unit/b2bua/call_flow.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

/// One histogram series as collected: its count, sum and cumulative bucket counts by bound.
struct histogram_sample {
    std::uint64_t count = 0;
    double sum = 0;
    std::map<double, std::uint64_t> buckets;  // upper bound -> cumulative count
    bool found = false;

    /// Observations at or below `bound` (the bound must be one of the buckets).
    std::uint64_t at_most(double bound) const {
        auto it = buckets.find(bound);
        EXPECT_NE(it, buckets.end()) << "no bucket le=" << bound;
        return it == buckets.end() ? 0 : it->second;
    }
};

histogram_sample histogram(prometheus::Registry& registry, const std::string& name, const std::string& direction) {
    histogram_sample out;
    for (const auto& family : registry.Collect()) {
        if (family.name != name) continue;
        EXPECT_EQ(family.type, prometheus::MetricType::Histogram);
        for (const auto& m : family.metric) {
            if (m.label.size() != 1 || m.label[0].name != "direction" || m.label[0].value != direction) continue;
            out.found = true;
            out.count = m.histogram.sample_count;
            out.sum = m.histogram.sample_sum;
            for (const auto& b : m.histogram.bucket) out.buckets[b.upper_bound] = b.cumulative_count;
        }
    }
    return out;
}

class call_metrics : public call_flow {
protected:
    histogram_sample setup(const std::string& direction = "outbound") {
        return histogram(registry, "b2bua_call_setup_seconds", direction);
    }
    histogram_sample duration(const std::string& direction = "outbound") {
        return histogram(registry, "b2bua_call_duration_seconds", direction);
    }
};

TEST_F(call_metrics, both_directions_exist_empty_from_the_start) {
    for (const char* direction : {"outbound", "inbound"}) {
        const auto s = setup(direction);
        ASSERT_TRUE(s.found) << direction;
        EXPECT_EQ(s.count, 0u);
        EXPECT_EQ(s.at_most(0.05), 0u);
        EXPECT_EQ(s.at_most(30), 0u);
        const auto d = duration(direction);
        ASSERT_TRUE(d.found) << direction;
        EXPECT_EQ(d.count, 0u);
        EXPECT_EQ(d.at_most(1), 0u);
        EXPECT_EQ(d.at_most(14400), 0u);
    }
    EXPECT_EQ(counter("b2bua_sip_transactions", {{"kind", "client"}}), 0);
    EXPECT_EQ(counter("b2bua_sip_transactions", {{"kind", "server"}}), 0);
}

TEST_F(call_metrics, a_call_answered_after_2500_ms_and_hung_up_45_s_later) {
    pbx_call c;
    auto invite = authenticated_invite(c);  // the call starts with this INVITE (the first one was challenged)
    // Under way: our INVITE to the trunk (client); the PBX's INVITE (server), and its first,
    // challenged INVITE until Timer H or I ends that transaction.
    EXPECT_EQ(counter("b2bua_sip_transactions", {{"kind", "client"}}), 1);
    EXPECT_GE(counter("b2bua_sip_transactions", {{"kind", "server"}}), 1);
    trunk.ringing(invite);
    c.to_tag = std::string(pbx.expect("SIP/2.0 180").to().tag);  // for the ACK and BYE in leg A's dialog
    clock.advance(2500ms);
    trunk.ok(invite);
    pbx.expect("SIP/2.0 200");
    pbx.ack(c);
    trunk.expect("ACK");

    auto s = setup();
    EXPECT_EQ(s.count, 1u);
    EXPECT_DOUBLE_EQ(s.sum, 2.5);
    EXPECT_EQ(s.at_most(2), 0u);  // 2.5 s lands in (2, 5]
    EXPECT_EQ(s.at_most(5), 1u);
    EXPECT_EQ(setup("inbound").count, 0u);
    EXPECT_EQ(duration().count, 0u);  // not over yet

    clock.advance(45s);
    pbx.bye(c);
    pbx.expect("SIP/2.0 200");
    auto bye = trunk.expect("BYE");
    trunk.respond(bye, 200, "OK");
    ASSERT_EQ(b2b.active_calls(), 0u);

    auto d = duration();
    EXPECT_EQ(d.count, 1u);
    EXPECT_DOUBLE_EQ(d.sum, 45);
    EXPECT_EQ(d.at_most(30), 0u);  // 45 s lands in (30, 60]
    EXPECT_EQ(d.at_most(60), 1u);
    EXPECT_EQ(setup().count, 1u);  // observed once, at the answer

    clock.advance(64s);  // every transaction of the call has ended (Timer J/K/H/I/L...)
    EXPECT_EQ(counter("b2bua_sip_transactions", {{"kind", "client"}}), 0);
    EXPECT_EQ(counter("b2bua_sip_transactions", {{"kind", "server"}}), 0);
}

TEST_F(call_metrics, a_refused_call_has_a_setup_time_and_no_duration) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.respond(invite, 100, "Trying");
    clock.advance(300ms);
    trunk.respond(invite, 486, "Busy Here");
    trunk.expect("ACK");
    auto busy = pbx.expect("SIP/2.0 486");
    pbx.ack_failure(c, busy);
    ASSERT_EQ(b2b.active_calls(), 0u);

    auto s = setup();
    EXPECT_EQ(s.count, 1u);
    EXPECT_DOUBLE_EQ(s.sum, 0.3);
    EXPECT_EQ(s.at_most(0.25), 0u);
    EXPECT_EQ(s.at_most(0.5), 1u);
    EXPECT_EQ(duration().count, 0u);
    EXPECT_EQ(counter("b2bua_calls_total", {{"result", "rejected"}}), 1);
}

TEST_F(call_metrics, a_call_cancelled_while_ringing_ends_its_setup_at_the_cancel) {
    pbx_call c;
    auto invite = authenticated_invite(c);
    trunk.ringing(invite);
    pbx.expect("SIP/2.0 180");
    clock.advance(12s);
    pbx.cancel(c);
    auto answers = pbx.take();  // 200 for the CANCEL, 487 for the INVITE
    ASSERT_EQ(answers.size(), 2u);
    ASSERT_EQ(answers[1].status(), 487);
    pbx.ack_failure(c, answers[1]);
    auto cancel = trunk.expect("CANCEL");
    trunk.respond(cancel, 200, "OK");
    clock.advance(1s);  // after the setup: not counted in it
    trunk.respond(invite, 487, "Request Terminated");
    trunk.expect("ACK");
    ASSERT_EQ(b2b.active_calls(), 0u);

    auto s = setup();
    EXPECT_EQ(s.count, 1u);
    EXPECT_DOUBLE_EQ(s.sum, 12);
    EXPECT_EQ(s.at_most(10), 0u);
    EXPECT_EQ(s.at_most(20), 1u);
    EXPECT_EQ(duration().count, 0u);
}

constexpr const char* office_route = R"(
inbound_routes:
  - { prefix: "", to: "sip:127.0.0.11:5101", name: office }
)";

class inbound_call_metrics : public ::testing::Test, public b2bua_harness {
protected:
    // No session timers (RFC 4028): the two hours of the call pass without refreshes.
    inbound_call_metrics()
        : b2bua_harness({numbered_trunk(1, "carrier", "")}, {}, office_route, {}, "  session_expires_s: 0\n") {}
    void TearDown() override { expect_no_strays(); }

    pbx_actor& pbx = add_pbx("pbx");  // 127.0.0.11:5101, the route's target
    trunk_actor& trunk = trunk_named("carrier");
};

TEST_F(inbound_call_metrics, a_call_from_the_trunk_is_observed_inbound) {
    provider_call c;
    trunk.send(provider_invite(trunk, *this, c));
    trunk.expect("SIP/2.0 100");
    auto invite = pbx.expect("INVITE");
    clock.advance(80ms);
    pbx.send(pbx_ok(pbx, invite));
    auto ok = trunk.expect("SIP/2.0 200");
    trunk.send(provider_in_dialog(trunk, *this, c, "ACK", c.cseq, std::string(ok.to().tag)));
    pbx.expect("ACK");
    clock.advance(2h);
    trunk.send(provider_in_dialog(trunk, *this, c, "BYE", c.cseq + 1, std::string(ok.to().tag)));
    trunk.expect("SIP/2.0 200");
    pbx.respond(pbx.expect("BYE"), 200, "OK");
    ASSERT_EQ(b2b.active_calls(), 0u);

    auto s = histogram(registry, "b2bua_call_setup_seconds", "inbound");
    EXPECT_EQ(s.count, 1u);
    EXPECT_EQ(s.at_most(0.05), 0u);  // 80 ms lands in (0.05, 0.1]
    EXPECT_EQ(s.at_most(0.1), 1u);
    auto d = histogram(registry, "b2bua_call_duration_seconds", "inbound");
    EXPECT_EQ(d.count, 1u);
    EXPECT_DOUBLE_EQ(d.sum, 7200);
    EXPECT_EQ(d.at_most(3600), 0u);  // 2 h lands in (1 h, 2 h]
    EXPECT_EQ(d.at_most(7200), 1u);
    EXPECT_EQ(histogram(registry, "b2bua_call_setup_seconds", "outbound").count, 0u);
    EXPECT_EQ(histogram(registry, "b2bua_call_duration_seconds", "outbound").count, 0u);
}

}  // namespace
}  // namespace b2b::b2bua::test
