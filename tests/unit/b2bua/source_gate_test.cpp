// The source gate in front of the transaction manager: what passes, what is dropped and counted,
// bans from digest failures, closing a banned source's connections, bans ending by themselves.
#include "b2bua/source_gate.hpp"

#include "tests/fakes/manual_timer_service.hpp"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

namespace b2b::b2bua {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::make_address;

struct recording_user final : sip::transport_user {
    std::vector<std::string> bytes;
    std::vector<std::string> framing_errors;
    std::vector<sip::flow> closed;
    void on_bytes(std::string_view b, const sip::flow&, sip::framing) override { bytes.emplace_back(b); }
    void on_framing_error(std::string_view b, const sip::flow&, const sip::parse_error&) override {
        framing_errors.emplace_back(b);
    }
    void on_flow_closed(const sip::flow& f, boost::system::error_code) override { closed.push_back(f); }
};

double value(prometheus::Registry& r, const std::string& name, const std::string& reason = {}) {
    for (const auto& family : r.Collect()) {
        if (family.name != name) continue;
        for (const auto& m : family.metric) {
            if (!reason.empty() && (m.label.size() != 1 || m.label[0].value != reason)) continue;
            return family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
        }
    }
    ADD_FAILURE() << "no series " << name << " " << reason;
    return -1;
}

std::string request(std::string_view method, std::string_view user_agent = "PBX") {
    return std::string(method) + " sip:100@sbc.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.66\r\nCall-ID: c1\r\n"
                                 "User-Agent: " + std::string(user_agent) + "\r\nContent-Length: 0\r\n\r\n";
}

sip::flow udp_from(const char* ip) {
    return {sip::transport_kind::udp, {make_address("127.0.0.1"), 5060}, {make_address(ip), 5060}, 0};
}
sip::flow tcp_from(const char* ip) {
    return {sip::transport_kind::tcp, {make_address("127.0.0.1"), 5060}, {make_address(ip), 40000}, 7};
}

struct gate_fixture : ::testing::Test {
    config::security_section cfg = [] {
        config::security_section c;
        c.trusted = {*auth::ip_network::parse("10.0.0.0/8")};
        c.max_requests_per_second = 3;
        return c;
    }();
    b2b::test::manual_timer_service timers;
    prometheus::Registry registry;
    gate_metrics metrics{registry};
    recording_user next;
    std::vector<boost::asio::ip::address> closed;
    source_gate gate{cfg, timers, metrics, [](const boost::asio::ip::address& a, std::uint16_t) {
                         return a == make_address("203.0.113.5");  // the trunk
                     }};

    void SetUp() override {
        gate.set_next(next);
        gate.set_closer([this](const boost::asio::ip::address& a) { closed.push_back(a); });
        gate.start();
    }
};

TEST_F(gate_fixture, every_reason_is_exported_at_zero_from_the_start) {
    for (const char* reason : {"banned", "rate_limit", "scanner"}) {
        EXPECT_EQ(value(registry, "b2bua_requests_dropped_total", reason), 0);
    }
    EXPECT_EQ(value(registry, "b2bua_banned_sources"), 0);
    EXPECT_EQ(value(registry, "b2bua_bans_total"), 0);
}

TEST_F(gate_fixture, a_pbx_passes_a_scanner_and_a_flood_are_dropped_and_counted) {
    gate.on_bytes(request("OPTIONS"), udp_from("192.0.2.8"), sip::framing::datagram);
    EXPECT_EQ(next.bytes.size(), 1u);
    gate.on_bytes(request("OPTIONS", "friendly-scanner"), udp_from("192.0.2.9"), sip::framing::datagram);
    EXPECT_EQ(next.bytes.size(), 1u);
    EXPECT_EQ(value(registry, "b2bua_requests_dropped_total", "scanner"), 1);
    for (int i = 0; i < 10; ++i) gate.on_bytes(request("OPTIONS"), udp_from("192.0.2.10"), sip::framing::datagram);
    EXPECT_EQ(next.bytes.size(), 4u);  // the bucket of 3
    EXPECT_EQ(value(registry, "b2bua_requests_dropped_total", "rate_limit"), 7);
    // Trusted and the trunk: neither limit nor scanner check.
    for (int i = 0; i < 10; ++i) {
        gate.on_bytes(request("OPTIONS", "sipvicious"), udp_from("10.1.1.1"), sip::framing::datagram);
        gate.on_bytes(request("OPTIONS"), udp_from("203.0.113.5"), sip::framing::datagram);
    }
    EXPECT_EQ(next.bytes.size(), 24u);
    EXPECT_TRUE(closed.empty());  // nothing closed for a flood or a scanner
}

TEST_F(gate_fixture, guessing_bans_the_source_closes_its_connections_and_the_ban_ends_by_itself) {
    const auto attacker = tcp_from("192.0.2.66");
    for (int i = 0; i < 4; ++i) gate.on_auth_failure(attacker.remote, "pbxuser", auth::failure::wrong_password);
    gate.on_bytes(request("REGISTER"), attacker, sip::framing::stream);
    EXPECT_EQ(next.bytes.size(), 1u);
    EXPECT_EQ(value(registry, "b2bua_banned_sources"), 0);
    gate.on_auth_failure(attacker.remote, "pbxuser", auth::failure::wrong_password);
    EXPECT_EQ(value(registry, "b2bua_banned_sources"), 1);
    EXPECT_EQ(value(registry, "b2bua_bans_total"), 1);
    ASSERT_EQ(closed.size(), 1u);  // its connections, at once
    EXPECT_EQ(closed[0], make_address("192.0.2.66"));
    EXPECT_FALSE(gate.admit_connection(attacker.remote));
    gate.on_bytes(request("REGISTER"), attacker, sip::framing::stream);
    EXPECT_EQ(next.bytes.size(), 1u);
    EXPECT_EQ(closed.size(), 2u);  // a message on a connection still up closes it
    EXPECT_EQ(value(registry, "b2bua_requests_dropped_total", "banned"), 1);
    gate.on_framing_error("garbage", attacker, sip::parse_error{});
    EXPECT_TRUE(next.framing_errors.empty());  // not even a 400
    // 300 s later the ban is over, with no traffic needed to notice.
    timers.advance(301s);
    EXPECT_EQ(value(registry, "b2bua_banned_sources"), 0);
    EXPECT_TRUE(gate.admit_connection(attacker.remote));
    gate.on_bytes(request("REGISTER"), attacker, sip::framing::stream);
    EXPECT_EQ(next.bytes.size(), 2u);
}

TEST_F(gate_fixture, honest_failures_and_exempt_sources_ban_nothing) {
    const auto pbx = udp_from("192.0.2.8");
    for (int i = 0; i < 20; ++i) {
        gate.on_auth_failure(pbx.remote, "pbxuser", auth::failure::stale_nonce);
        gate.on_auth_failure(pbx.remote, "pbxuser", auth::failure::challenge_unanswered);
        gate.on_auth_failure(pbx.remote, "pbxuser", auth::failure::source_not_allowed);
        gate.on_auth_failure(udp_from("10.0.0.1").remote, "pbxuser", auth::failure::wrong_password);
        gate.on_auth_failure(udp_from("203.0.113.5").remote, "x", auth::failure::wrong_password);
    }
    EXPECT_EQ(value(registry, "b2bua_bans_total"), 0);
    EXPECT_TRUE(gate.bans().empty());
}

TEST_F(gate_fixture, an_operator_adds_and_lifts_a_ban_but_cannot_ban_an_exempt_source) {
    EXPECT_FALSE(gate.add_ban(make_address("198.51.100.7"), 60s));
    ASSERT_EQ(gate.bans().size(), 1u);
    EXPECT_EQ(gate.bans()[0].origin, security::ban_origin::manual);
    EXPECT_EQ(gate.bans()[0].until, timers.now() + 60s);
    EXPECT_EQ(closed.size(), 1u);
    gate.on_bytes(request("OPTIONS"), udp_from("198.51.100.7"), sip::framing::datagram);
    EXPECT_TRUE(next.bytes.empty());
    auto refused = gate.add_ban(make_address("10.2.3.4"), 60s);
    ASSERT_TRUE(refused);
    EXPECT_NE(refused->find("exempt"), std::string::npos);
    EXPECT_TRUE(gate.add_ban(make_address("203.0.113.5"), 60s));  // the trunk
    EXPECT_TRUE(gate.remove_ban(make_address("198.51.100.7")));
    EXPECT_FALSE(gate.remove_ban(make_address("198.51.100.7")));
    EXPECT_EQ(value(registry, "b2bua_banned_sources"), 0);
    gate.on_bytes(request("OPTIONS"), udp_from("198.51.100.7"), sip::framing::datagram);
    EXPECT_EQ(next.bytes.size(), 1u);
}

// Behind a load balancer (cluster.dispatchers): its own probes and every PBX's requests arrive
// from its address, and each PBX is screened by the address it stamps.
struct clustered_gate : gate_fixture {
    security::forwarded_source forwarding{security::forwarding_policy{{*auth::ip_network::parse("127.0.0.10")}, "X-Source-Address"}};
    source_gate front_gate{cfg, timers, metrics, [](const boost::asio::ip::address&, std::uint16_t) { return false; },
                           forwarding};
    std::vector<boost::asio::ip::address> front_closed;

    static std::string stamped(std::string_view method, std::string_view source, std::string_view user_agent = "PBX") {
        std::string r = request(method, user_agent);
        r.insert(r.find("Content-Length"), "X-Source-Address: " + std::string(source) + "\r\n");
        return r;
    }

    void SetUp() override {
        gate_fixture::SetUp();
        front_gate.set_next(next);
        front_gate.set_closer([this](const boost::asio::ip::address& a) { front_closed.push_back(a); });
        front_gate.start();
    }
};

TEST_F(clustered_gate, each_pbx_behind_the_balancer_has_its_own_flood_limit_and_ban) {
    const auto front = tcp_from("127.0.0.10");
    for (int i = 0; i < 10; ++i) {
        front_gate.on_bytes(stamped("OPTIONS", "192.0.2.10:5060"), front, sip::framing::stream);
        front_gate.on_bytes(stamped("OPTIONS", "192.0.2.11:5062;transport=tcp"), front, sip::framing::stream);
    }
    EXPECT_EQ(next.bytes.size(), 6u);  // a bucket of 3 each, not one of 3 for the balancer
    EXPECT_EQ(value(registry, "b2bua_requests_dropped_total", "rate_limit"), 14);

    timers.advance(10s);
    for (int i = 0; i < 5; ++i) {
        front_gate.on_auth_failure({make_address("192.0.2.66"), 5060}, "pbxuser", auth::failure::wrong_password);
    }
    EXPECT_EQ(front_gate.bans().size(), 1u);
    EXPECT_EQ(front_gate.bans()[0].source, make_address("192.0.2.66"));
    next.bytes.clear();
    front_gate.on_bytes(stamped("INVITE", "192.0.2.66:5060"), front, sip::framing::stream);
    front_gate.on_bytes(stamped("INVITE", "192.0.2.67:5060"), front, sip::framing::stream);
    ASSERT_EQ(next.bytes.size(), 1u);  // only the banned PBX's request is dropped
    EXPECT_NE(next.bytes[0].find("192.0.2.67"), std::string::npos);
    // The balancer's connection carries every PBX: it is never closed, nor refused.
    for (const auto& a : front_closed) EXPECT_NE(a, make_address("127.0.0.10"));
    EXPECT_TRUE(front_gate.admit_connection(front.remote));
}

TEST_F(clustered_gate, the_balancer_itself_is_never_screened_nor_banned) {
    const auto front = udp_from("127.0.0.10");
    // Its OPTIONS probes carry no stamp: all pass, whatever the rate.
    for (int i = 0; i < 10; ++i) front_gate.on_bytes(request("OPTIONS", "sipvicious"), front, sip::framing::datagram);
    EXPECT_EQ(next.bytes.size(), 10u);
    for (int i = 0; i < 10; ++i) front_gate.on_auth_failure(front.remote, "x", auth::failure::wrong_password);
    EXPECT_TRUE(front_gate.bans().empty());
    EXPECT_TRUE(front_gate.exempt(make_address("127.0.0.10")));
    EXPECT_TRUE(front_gate.add_ban(make_address("127.0.0.10"), 60s).has_value());
    // A stamp it could not write goes on for the core to refuse with 400; a framing error too.
    front_gate.on_bytes(stamped("INVITE", "nowhere"), front, sip::framing::datagram);
    EXPECT_EQ(next.bytes.size(), 11u);
    front_gate.on_framing_error("garbage", front, sip::parse_error{});
    EXPECT_EQ(next.framing_errors.size(), 1u);
}

TEST_F(clustered_gate, a_stamp_from_anybody_else_is_ignored) {
    // A PBX reaching us directly cannot pass for a trusted address by stamping one.
    const auto pbx = udp_from("192.0.2.20");
    for (int i = 0; i < 10; ++i) {
        front_gate.on_bytes(stamped("OPTIONS", "10.0.0.1:5060", "sipvicious"), pbx, sip::framing::datagram);
    }
    EXPECT_TRUE(next.bytes.empty());
    // Screened as itself: a scanner, then over its own rate.
    EXPECT_EQ(value(registry, "b2bua_requests_dropped_total", "scanner"), 3);
    EXPECT_EQ(value(registry, "b2bua_requests_dropped_total", "rate_limit"), 7);
}

TEST_F(gate_fixture, bans_are_published_for_the_cluster_and_shared_ones_are_not_published_again) {
    std::vector<std::pair<std::string, long long>> published;
    gate.set_ban_publisher([&](const boost::asio::ip::address& a, std::chrono::seconds length) {
        published.emplace_back(a.to_string(), length.count());
    });
    for (int i = 0; i < 5; ++i) gate.on_auth_failure({make_address("192.0.2.66"), 5060}, "pbxuser", auth::failure::wrong_password);
    ASSERT_EQ(published.size(), 1u);  // the ban its failures caused
    EXPECT_EQ(published[0].first, "192.0.2.66");
    EXPECT_GT(published[0].second, 0);
    EXPECT_FALSE(gate.add_ban(make_address("198.51.100.7"), 600s).has_value());
    ASSERT_EQ(published.size(), 2u);
    EXPECT_EQ(published[1], (std::pair<std::string, long long>{"198.51.100.7", 600}));
    EXPECT_TRUE(gate.remove_ban(make_address("198.51.100.7")));
    ASSERT_EQ(published.size(), 3u);
    EXPECT_EQ(published[2].second, 0);  // lifted

    // Another node's ban holds here too, and goes no further.
    gate.apply_shared_ban(make_address("203.0.113.77"), 300s, "node-b");
    EXPECT_EQ(published.size(), 3u);
    gate.on_bytes(request("OPTIONS"), udp_from("203.0.113.77"), sip::framing::datagram);
    EXPECT_TRUE(next.bytes.empty());
    EXPECT_EQ(value(registry, "b2bua_banned_sources"), 2);
    gate.lift_shared_ban(make_address("203.0.113.77"), "node-b");
    EXPECT_EQ(published.size(), 3u);
    gate.on_bytes(request("OPTIONS"), udp_from("203.0.113.77"), sip::framing::datagram);
    EXPECT_EQ(next.bytes.size(), 1u);
    // An exempt source is not banned by anybody's word (the trunk here).
    gate.apply_shared_ban(make_address("203.0.113.5"), 300s, "node-b");
    EXPECT_TRUE(gate.admit_connection({make_address("203.0.113.5"), 5060}));
}

TEST(source_gate_tables, a_full_rate_table_forgets_the_least_recent_source_and_the_metric_counts_it) {
    config::security_section cfg;
    cfg.rate_limit_sources = 16;
    b2b::test::manual_timer_service timers;
    prometheus::Registry registry;
    gate_metrics metrics{registry};
    recording_user next;
    source_gate gate{cfg, timers, metrics, [](const boost::asio::ip::address&, std::uint16_t) { return false; }};
    gate.set_next(next);
    gate.start();
    EXPECT_EQ(value(registry, "b2bua_security_evictions_total", "rate_table"), 0);
    EXPECT_EQ(value(registry, "b2bua_security_evictions_total", "ban_list"), 0);
    for (int i = 0; i < 20; ++i) {
        const std::string ip = "192.0.2." + std::to_string(i + 1);
        gate.on_bytes(request("OPTIONS"), udp_from(ip.c_str()), sip::framing::datagram);
    }
    EXPECT_EQ(next.bytes.size(), 20u);
    timers.advance(1s);  // the metric learns once a second
    EXPECT_EQ(value(registry, "b2bua_security_evictions_total", "rate_table"), 4);
}

}  // namespace
}  // namespace b2b::b2bua
