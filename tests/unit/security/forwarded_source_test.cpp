#include "security/forwarded_source.hpp"

#include <gtest/gtest.h>

namespace b2b::security {
namespace {

using boost::asio::ip::make_address;

forwarded_source behind(std::string front) {
    forwarding_policy p;
    p.fronts.push_back(*auth::ip_network::parse(front));
    return forwarded_source(std::move(p));
}

TEST(forwarded_value, reads_an_address_and_port_and_ignores_parameters) {
    auto v = parse_forwarded_value(" 192.0.2.7:5062;transport=udp ");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->address, make_address("192.0.2.7"));
    EXPECT_EQ(v->port, 5062);
    v = parse_forwarded_value("[2001:db8::7]:5060;transport=tcp");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->address, make_address("2001:db8::7"));
    EXPECT_EQ(v->port, 5060);
    // Without a port: the address alone (port 0), IPv6 bracketed or bare.
    EXPECT_EQ(parse_forwarded_value("192.0.2.7")->port, 0);
    EXPECT_EQ(parse_forwarded_value("[::1]")->address, make_address("::1"));
    EXPECT_EQ(parse_forwarded_value("2001:db8::7")->address, make_address("2001:db8::7"));
}

TEST(forwarded_value, refuses_what_is_not_an_address) {
    for (const char* bad : {"", " ", ";transport=udp", "pbx.example.com:5060", "192.0.2.7:", "192.0.2.7:0",
                            "192.0.2.7:65536", "192.0.2.7:50x", "[2001:db8::7", "[2001:db8::7]5060",
                            "[192.0.2.7]:5060", "2001:db8::7:5060:x", "192.0.2.7:5060:1", "192.0.2.300:5060"}) {
        EXPECT_FALSE(parse_forwarded_value(bad)) << bad;
    }
}

TEST(forwarded_source, believes_the_header_only_from_a_front) {
    const auto fs = behind("127.0.0.10/32");
    const auto front = make_address("127.0.0.10");
    const auto pbx = make_address("127.0.0.1");

    auto o = fs.resolve(front, 5060, std::string_view("127.0.0.1:5070"));
    EXPECT_EQ(o.how, forwarded_source::kind::forwarded);
    EXPECT_EQ(o.source.address, pbx);
    EXPECT_EQ(o.source.port, 5070);

    // A PBX writing the header itself, to pass for another address: it is its own source.
    o = fs.resolve(pbx, 5070, std::string_view("127.0.0.10:5060"));
    EXPECT_EQ(o.how, forwarded_source::kind::direct);
    EXPECT_EQ(o.source.address, pbx);
    EXPECT_EQ(o.source.port, 5070);
}

TEST(forwarded_source, tells_a_fronts_own_request_and_a_broken_header) {
    const auto fs = behind("127.0.0.8/30");
    const auto front = make_address("127.0.0.10");
    auto o = fs.resolve(front, 5060, std::nullopt);
    EXPECT_EQ(o.how, forwarded_source::kind::front);
    EXPECT_EQ(o.source.address, front);
    o = fs.resolve(front, 5060, std::string_view("somewhere"));
    EXPECT_EQ(o.how, forwarded_source::kind::malformed);
    EXPECT_EQ(o.source.address, front);
    // A front reaching a dual-stack socket shows up IPv4-mapped; it is still the front.
    EXPECT_TRUE(fs.from_front(make_address("::ffff:127.0.0.9")));
    EXPECT_FALSE(fs.from_front(make_address("127.0.0.12")));
}

TEST(forwarded_source, without_fronts_every_request_is_its_senders) {
    const forwarded_source fs;
    EXPECT_FALSE(fs.enabled());
    const auto o = fs.resolve(make_address("127.0.0.10"), 5060, std::string_view("127.0.0.1:5070"));
    EXPECT_EQ(o.how, forwarded_source::kind::direct);
    EXPECT_EQ(o.source.address, make_address("127.0.0.10"));
}

}  // namespace
}  // namespace b2b::security
