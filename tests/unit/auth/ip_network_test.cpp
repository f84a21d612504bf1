// CIDR parsing and matching for per-source settings.
#include "auth/ip_network.hpp"

#include <gtest/gtest.h>

namespace b2b::auth {
namespace {

boost::asio::ip::address addr(const char* s) {
    return boost::asio::ip::make_address(s);
}

TEST(ip_network, parses_cidr_and_bare_addresses) {
    EXPECT_EQ(ip_network::parse("10.0.0.0/8")->to_string(), "10.0.0.0/8");
    EXPECT_EQ(ip_network::parse("::1/128")->to_string(), "::1/128");
    EXPECT_EQ(ip_network::parse("127.0.0.2")->to_string(), "127.0.0.2/32");
    EXPECT_EQ(ip_network::parse("2001:db8::1")->to_string(), "2001:db8::1/128");
    EXPECT_EQ(ip_network::parse("0.0.0.0/0")->prefix_length(), 0u);
    EXPECT_EQ(ip_network::parse("::/0")->prefix_length(), 0u);
}

TEST(ip_network, refuses_anything_else) {
    for (const char* bad : {"", "/8", "10.0.0.300/8", "10.0.0.0/33", "::/129", "10.0.0.0/",
                            "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/08x", "10.0.0.0/0008",
                            "pbx.example", "10.0.0.0 /8", "fe80::1%1", "10.0.0"}) {
        EXPECT_FALSE(ip_network::parse(bad).has_value()) << bad;
    }
}

TEST(ip_network, contains_by_prefix) {
    const auto ten = *ip_network::parse("10.0.0.0/8");
    EXPECT_TRUE(ten.contains(addr("10.0.0.0")));
    EXPECT_TRUE(ten.contains(addr("10.255.255.255")));
    EXPECT_FALSE(ten.contains(addr("11.0.0.0")));
    EXPECT_FALSE(ten.contains(addr("9.255.255.255")));
    const auto odd = *ip_network::parse("192.168.0.128/25");
    EXPECT_TRUE(odd.contains(addr("192.168.0.200")));
    EXPECT_FALSE(odd.contains(addr("192.168.0.127")));
    const auto host = *ip_network::parse("127.0.0.2");
    EXPECT_TRUE(host.contains(addr("127.0.0.2")));
    EXPECT_FALSE(host.contains(addr("127.0.0.1")));
    const auto v6 = *ip_network::parse("2001:db8::/33");
    EXPECT_TRUE(v6.contains(addr("2001:db8:7fff::1")));
    EXPECT_FALSE(v6.contains(addr("2001:db8:8000::1")));
    EXPECT_TRUE(ip_network::parse("0.0.0.0/0")->contains(addr("203.0.113.9")));
}

TEST(ip_network, families_do_not_mix_except_ipv4_mapped) {
    EXPECT_FALSE(ip_network::parse("::/0")->contains(addr("10.0.0.1")));
    EXPECT_FALSE(ip_network::parse("0.0.0.0/0")->contains(addr("::1")));
    // A dual-stack socket reports an IPv4 PBX as ::ffff:10.1.2.3.
    EXPECT_TRUE(ip_network::parse("10.0.0.0/8")->contains(addr("::ffff:10.1.2.3")));
    EXPECT_FALSE(ip_network::parse("10.0.0.0/8")->contains(addr("::10.1.2.3")));
}

TEST(ip_network, canonical_means_no_host_bits) {
    EXPECT_TRUE(ip_network::parse("10.0.0.0/8")->is_canonical());
    EXPECT_FALSE(ip_network::parse("10.1.2.3/8")->is_canonical());
    EXPECT_TRUE(ip_network::parse("10.1.2.3")->is_canonical());
    EXPECT_FALSE(ip_network::parse("2001:db8::1/64")->is_canonical());
    EXPECT_TRUE(ip_network::parse("2001:db8::/64")->is_canonical());
    EXPECT_FALSE(ip_network::parse("192.168.0.129/25")->is_canonical());
}

}  // namespace
}  // namespace b2b::auth
