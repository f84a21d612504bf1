// Trunk identification by source address, inbound routes and number rewriting: pure decisions.
#include "routing/inbound.hpp"

#include <gtest/gtest.h>

namespace b2b::routing {
namespace {

sip::endpoint ep(const char* ip, std::uint16_t port) { return {boost::asio::ip::make_address(ip), port}; }

trunk make_trunk(std::string name, const char* ip, std::uint16_t port) {
    trunk t;
    t.name = std::move(name);
    t.address = ep(ip, port);
    return t;
}

TEST(trunk_identifier, matches_the_uri_address_on_any_port) {
    trunk_identifier id({make_trunk("a", "192.0.2.1", 5060), make_trunk("b", "192.0.2.2", 5060)});
    EXPECT_EQ(id.match(ep("192.0.2.2", 5060)), 1u);
    EXPECT_EQ(id.match(ep("192.0.2.1", 41234)), 0u);
    EXPECT_FALSE(id.match(ep("192.0.2.3", 5060)).has_value());
    // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 addresses.
    EXPECT_EQ(id.match(ep("::ffff:192.0.2.2", 5060)), 1u);
}

TEST(trunk_identifier, a_trunk_named_by_host_is_recognised_by_its_resolved_addresses) {
    auto named = make_trunk("named", "0.0.0.0", 0);
    named.dns_host = "provider.example";
    auto exact = make_trunk("exact", "0.0.0.0", 0);
    exact.dns_host = "pbx.example";
    exact.identify_by = source_identification::address_port;
    trunk_identifier id({named, exact});
    // Nothing before DNS answers (not even the unspecified address).
    EXPECT_FALSE(id.match(ep("0.0.0.0", 0)).has_value());
    EXPECT_FALSE(id.match(ep("192.0.2.1", 5060)).has_value());
    id.set_resolved(0, {ep("192.0.2.1", 5060), ep("192.0.2.2", 5062)});
    id.set_resolved(1, {ep("198.51.100.1", 5070)});
    EXPECT_EQ(id.match(ep("192.0.2.1", 40000)), 0u);  // any of them, any port
    EXPECT_EQ(id.match(ep("192.0.2.2", 5060)), 0u);
    EXPECT_EQ(id.match(ep("198.51.100.1", 5070)), 1u);
    EXPECT_FALSE(id.match(ep("198.51.100.1", 5071)).has_value());
    // A new resolution replaces the old one.
    id.set_resolved(0, {ep("192.0.2.3", 5060)});
    EXPECT_FALSE(id.match(ep("192.0.2.1", 5060)).has_value());
    EXPECT_EQ(id.match(ep("192.0.2.3", 5060)), 0u);
}

TEST(trunk_identifier, inbound_from_networks_and_exact_endpoints) {
    auto a = make_trunk("a", "192.0.2.1", 5060);
    a.inbound_networks.push_back(*auth::ip_network::parse("198.51.100.0/24"));
    auto b = make_trunk("b", "192.0.2.9", 5060);
    // Two accounts behind one provider address: the exact address:port tells them apart.
    auto c = make_trunk("c", "203.0.113.5", 5060);
    auto d = make_trunk("d", "203.0.113.50", 5060);
    d.inbound_endpoints.push_back(ep("203.0.113.5", 5070));
    trunk_identifier id({a, b, c, d});
    EXPECT_EQ(id.match(ep("198.51.100.77", 5060)), 0u);
    EXPECT_FALSE(id.match(ep("198.51.101.1", 5060)).has_value());
    EXPECT_EQ(id.match(ep("203.0.113.5", 5070)), 3u);  // exact endpoint before address
    EXPECT_EQ(id.match(ep("203.0.113.5", 5071)), 2u);
    EXPECT_FALSE(trunk_identifier(std::vector<trunk>{}).match(ep("192.0.2.1", 5060)).has_value());
}

TEST(trunk_identifier, identify_by_address_port_or_none) {
    auto exact = make_trunk("exact", "127.0.0.1", 5080);
    exact.identify_by = source_identification::address_port;
    auto silent = make_trunk("silent", "192.0.2.7", 5060);
    silent.identify_by = source_identification::none;
    trunk_identifier id({exact, silent});
    EXPECT_EQ(id.match(ep("127.0.0.1", 5080)), 0u);
    // A PBX on the trunk's address but another port is no trunk.
    EXPECT_FALSE(id.match(ep("127.0.0.1", 5060)).has_value());
    EXPECT_FALSE(id.match(ep("192.0.2.7", 5060)).has_value());
}

TEST(inbound_route_table, longest_prefix_wins_and_no_default_means_none) {
    inbound_route r1;
    r1.prefix = "+49";
    r1.target.name = "one";
    inbound_route r2;
    r2.prefix = "+4930";
    r2.target.name = "two";
    inbound_route_table t({r1, r2});
    EXPECT_EQ(t.match("+4930123"), 1u);
    EXPECT_EQ(t.match("+4940123"), 0u);
    EXPECT_FALSE(t.match("+33123").has_value());
    inbound_route any;
    inbound_route_table with_default({r2, any});
    EXPECT_EQ(with_default.match("+33123"), 1u);
    EXPECT_EQ(with_default.match(""), 1u);
}

TEST(rewrite_number, strips_then_prepends) {
    EXPECT_EQ(rewrite_number("+4930123", 3, "0"), "030123");
    EXPECT_EQ(rewrite_number("030123", 1, "+49"), "+4930123");
    EXPECT_EQ(rewrite_number("123", 0, ""), "123");
    EXPECT_EQ(rewrite_number("12", 5, "9"), "9");  // more stripped than there is
}

}  // namespace
}  // namespace b2b::routing
