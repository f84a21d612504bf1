// RFC 5118 IPv6 torture tests (§4.1-§4.10): what the parser accepts and rejects, what it reads
// out of IPv6 references, and what a response built from such a request writes back.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "sip/message/message.hpp"
#include "sip/message/uri.hpp"
#include "sip/message/writer.hpp"

namespace b2b::sip {
namespace {

// A request from lines joined with CRLF, ended by the empty line (and `body`, when given).
std::string lines(std::initializer_list<std::string_view> ls, std::string_view body = {}) {
    std::string out;
    for (auto l : ls) {
        out += l;
        out += "\r\n";
    }
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    out += body;
    return out;
}

// Parse and validate: errc::ok when both pass, else the first failure's code.
errc verdict(const std::string& bytes) {
    auto m = parse_message(bytes);
    if (!m) return m.error().code;
    auto v = m->is_request() ? validate_request(*m) : validate_response(*m);
    return v ? errc::ok : v.error().code;
}

// A REGISTER whose Request-URI, To, Via sent-by and Contact the test chooses.
std::string register_with(std::string_view request_uri, std::string_view to, std::string_view via_sent_by,
                          std::string_view contact) {
    return lines({std::string("REGISTER ") + std::string(request_uri) + " SIP/2.0",
                  std::string("To: ") + std::string(to), std::string("From: ") + std::string(to) + ";tag=5118a",
                  std::string("Via: SIP/2.0/UDP ") + std::string(via_sent_by) + ";branch=z9hG4bK5118r",
                  "Call-ID: ipv6-torture-1@example.test", "Max-Forwards: 70",
                  std::string("Contact: ") + std::string(contact), "CSeq: 7 REGISTER"});
}

// §4.1: IPv6 references in brackets everywhere a host goes: accepted, brackets kept in the
// host, no port read out of the address.
TEST(Rfc5118, ValidIpv6ReferenceIsAccepted) {
    const auto bytes = register_with("sip:[2001:db8::10]", "<sip:alice@example.test>", "[2001:db8::9:1]",
                                     "\"Alice\" <sip:alice@[2001:db8::1]>");
    auto m = parse_message(bytes);
    ASSERT_TRUE(m) << m.error().what();
    ASSERT_TRUE(validate_request(*m));
    EXPECT_EQ(m->request_uri().host, "[2001:db8::10]");
    EXPECT_EQ(m->request_uri().host_type, host_kind::ipv6);
    EXPECT_EQ(m->request_uri().port, 0);
    EXPECT_EQ(m->vias()[0].host, "[2001:db8::9:1]");
    EXPECT_EQ(m->vias()[0].host_type, host_kind::ipv6);
    EXPECT_EQ(m->vias()[0].port, 0);
    ASSERT_EQ(m->contacts().size(), 1U);
    EXPECT_EQ(m->contacts()[0].uri.host, "[2001:db8::1]");
    EXPECT_EQ(m->contacts()[0].uri.host_without_brackets(), "2001:db8::1");
}

// §4.2: an IPv6 address without brackets in a SIP URI is invalid (RFC 3261 §25.1 hostport
// takes an IPv6reference): rejected, so the request is answered 400.
TEST(Rfc5118, UnbracketedIpv6InUriIsRejected) {
    EXPECT_EQ(verdict(register_with("sip:2001:db8::10", "<sip:alice@example.test>", "[2001:db8::9:1]",
                                    "<sip:alice@[2001:db8::1]>")),
              errc::bad_request_uri);
    EXPECT_EQ(verdict(register_with("sip:[2001:db8::10]", "sip:alice@2001:db8::10", "[2001:db8::9:1]",
                                    "<sip:alice@[2001:db8::1]>")),
              errc::bad_uri);
    EXPECT_EQ(verdict(register_with("sip:[2001:db8::10]", "<sip:alice@example.test>", "[2001:db8::9:1]",
                                    "<sip:alice@2001:db8::1>")),
              errc::bad_uri);
    // The same holds for the Via sent-by (sent-by = host [ COLON port ], host as above).
    EXPECT_EQ(verdict(register_with("sip:[2001:db8::10]", "<sip:alice@example.test>", "2001:db8::9:1",
                                    "<sip:alice@[2001:db8::1]>")),
              errc::bad_via);
}

// §4.3: "[2001:db8::10:5070]" is one address; 5070 is its last group, not a port.
TEST(Rfc5118, PortInsideTheBracketsIsPartOfTheAddress) {
    const auto bytes = register_with("sip:[2001:db8::10:5070]", "<sip:alice@example.test>", "[2001:db8::9:1]",
                                     "<sip:alice@[2001:db8::1]>");
    auto m = parse_message(bytes);
    ASSERT_TRUE(m) << m.error().what();
    EXPECT_EQ(m->request_uri().host, "[2001:db8::10:5070]");
    EXPECT_EQ(m->request_uri().port, 0);
}

// §4.4: the port after the closing bracket is the port.
TEST(Rfc5118, PortAfterTheBracketsIsThePort) {
    const auto bytes = register_with("sip:[2001:db8::10]:5070", "<sip:alice@example.test>", "[2001:db8::9:1]:6050",
                                     "<sip:alice@[2001:db8::1]:5080;transport=tcp>");
    auto m = parse_message(bytes);
    ASSERT_TRUE(m) << m.error().what();
    EXPECT_EQ(m->request_uri().host, "[2001:db8::10]");
    EXPECT_EQ(m->request_uri().port, 5070);
    EXPECT_EQ(m->vias()[0].port, 6050);
    EXPECT_EQ(m->contacts()[0].uri.port, 5080);
    EXPECT_EQ(m->contacts()[0].uri.transport(), "tcp");
}

// §4.5: received holds an IPv6address; some implementations bracket it. Both are taken, and a
// response we build writes received without brackets (RFC 3261 §20.42 via-received).
TEST(Rfc5118, ViaReceivedWithAndWithoutBrackets) {
    for (std::string_view received : {"[2001:db8::9:255]", "2001:db8::9:255"}) {
        SCOPED_TRACE(received);
        const auto bytes = lines({"BYE sip:[2001:db8::10] SIP/2.0", "To: <sip:bob@example.test>;tag=b1",
                                  "From: <sip:alice@example.test>;tag=a1",
                                  std::string("Via: SIP/2.0/UDP [2001:db8::9:1]:6050;received=") +
                                      std::string(received) + ";rport;branch=z9hG4bK5118v",
                                  "Call-ID: ipv6-torture-5@example.test", "Max-Forwards: 70", "CSeq: 2 BYE"});
        auto m = parse_message(bytes);
        ASSERT_TRUE(m) << m.error().what();
        ASSERT_TRUE(validate_request(*m));
        EXPECT_EQ(m->vias()[0].received, received);
        m->note_source("2001:db8::9:255", 40000);
        auto rsp = parse_message(response_writer(*m, 200, {}, "t").finish());
        ASSERT_TRUE(rsp) << rsp.error().what();
        EXPECT_EQ(rsp->vias()[0].text,
                  "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bK5118v;received=2001:db8::9:255;rport=40000");
    }
}

// A sent-by that is the source in another text form needs no received (RFC 3261 §18.2.1).
TEST(Rfc5118, SentByEqualToTheSourceInAnotherTextForm) {
    const auto bytes = lines({"OPTIONS sip:[::1]:5070 SIP/2.0", "To: <sip:[::1]:5070>",
                              "From: <sip:pbx@[0:0::1]>;tag=o1", "Via: SIP/2.0/UDP [0:0:0::1]:5062;branch=z9hG4bK5118s",
                              "Call-ID: ipv6-source@example.test", "Max-Forwards: 70", "CSeq: 1 OPTIONS"});
    auto m = parse_message(bytes);
    ASSERT_TRUE(m) << m.error().what();
    m->note_source("::1", 5062);
    auto rsp = parse_message(response_writer(*m, 200, {}, "t").finish());
    ASSERT_TRUE(rsp) << rsp.error().what();
    EXPECT_EQ(rsp->vias()[0].text, "SIP/2.0/UDP [0:0:0::1]:5062;branch=z9hG4bK5118s");
    m->note_source("::2", 5062);
    rsp = parse_message(response_writer(*m, 200, {}, "t").finish());
    ASSERT_TRUE(rsp);
    EXPECT_EQ(rsp->vias()[0].text, "SIP/2.0/UDP [0:0:0::1]:5062;branch=z9hG4bK5118s;received=::2");
}

// §4.6 and §4.8: IPv6 addresses in the SDP body are the endpoints' business; the message is
// accepted and the body kept octet for octet (the B2BUA passes it through).
TEST(Rfc5118, Ipv6InSdpIsAcceptedAndUntouched) {
    const std::string sdp =
        "v=0\r\no=alice 1 1 IN IP6 2001:db8::10\r\ns=-\r\nc=IN IP6 2001:db8::10\r\nc=IN IP4 192.0.2.10\r\n"
        "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";
    const auto bytes = lines({"INVITE sip:bob@[2001:db8::10] SIP/2.0", "To: <sip:bob@[2001:db8::10]>",
                              "From: <sip:alice@[2001:db8::9:1]>;tag=s1",
                              "Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK5118d",
                              "Call-ID: ipv6-sdp@example.test", "Max-Forwards: 70", "CSeq: 1 INVITE",
                              "Contact: <sip:alice@[2001:db8::9:1]>", "Content-Type: application/sdp"},
                             sdp);
    auto m = parse_message(bytes);
    ASSERT_TRUE(m) << m.error().what();
    ASSERT_TRUE(validate_request(*m));
    EXPECT_EQ(m->body(), sdp);
}

// §4.7: IPv4 and IPv6 hosts side by side in Via and Route; each keeps its kind.
TEST(Rfc5118, MixedAddressFamiliesInHeaders) {
    const auto bytes = lines({"BYE sip:[2001:db8::10]:5070 SIP/2.0", "To: <sip:bob@example.test>;tag=b2",
                              "From: <sip:alice@example.test>;tag=a2",
                              "Via: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bK5118m1",
                              "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK5118m2, SIP/2.0/TCP [2001:db8::9:ff];"
                              "branch=z9hG4bK5118m3",
                              "Route: <sip:[2001:db8::20];lr>, <sip:192.0.2.30:5062;lr>",
                              "Call-ID: ipv6-mixed@example.test", "Max-Forwards: 70", "CSeq: 3 BYE"});
    auto m = parse_message(bytes);
    ASSERT_TRUE(m) << m.error().what();
    ASSERT_TRUE(validate_request(*m));
    ASSERT_EQ(m->vias().size(), 3U);
    EXPECT_EQ(m->vias()[0].host_type, host_kind::ipv6);
    EXPECT_EQ(m->vias()[1].host_type, host_kind::ipv4);
    EXPECT_EQ(m->vias()[2].host, "[2001:db8::9:ff]");
    ASSERT_EQ(m->routes().size(), 2U);
    EXPECT_EQ(m->routes()[0].uri.host_type, host_kind::ipv6);
    EXPECT_EQ(m->routes()[1].uri.host_type, host_kind::ipv4);
}

// §4.9: an IPv4-mapped IPv6 address is an IPv6 reference, accepted as such; it is not the
// IPv4 address written in its last 32 bits.
TEST(Rfc5118, Ipv4MappedIpv6Address) {
    const auto bytes = register_with("sip:[::ffff:192.0.2.10]", "<sip:alice@[::ffff:192.0.2.10]>",
                                     "[::ffff:192.0.2.20]:5060", "<sip:alice@[::ffff:192.0.2.20]>");
    auto m = parse_message(bytes);
    ASSERT_TRUE(m) << m.error().what();
    ASSERT_TRUE(validate_request(*m));
    EXPECT_EQ(m->request_uri().host_type, host_kind::ipv6);
    EXPECT_EQ(m->vias()[0].host_type, host_kind::ipv6);
    EXPECT_FALSE(same_ip_address(m->request_uri().host, "192.0.2.10"));
    EXPECT_TRUE(same_ip_address(m->request_uri().host, "::ffff:c000:20a"));
}

// §4.10: RFC 3261's IPv6reference ABNF let "2001:db8:::192.0.2.1" (three colons) through; it
// is not an address (RFC 5954 §3) and is rejected. The two-colon form is fine.
TEST(Rfc5118, ThreeColonsBeforeAnIpv4TailAreRejected) {
    EXPECT_EQ(verdict(lines({"OPTIONS sip:[2001:db8:::192.0.2.1] SIP/2.0", "To: <sip:bob@example.test>",
                             "From: <sip:alice@example.test>;tag=c3", "Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK3c",
                             "Call-ID: ipv6-abnf-3@example.test", "Max-Forwards: 70", "CSeq: 1 OPTIONS"})),
              errc::bad_request_uri);
    EXPECT_EQ(verdict(lines({"OPTIONS sip:[2001:db8::192.0.2.1] SIP/2.0", "To: <sip:bob@example.test>",
                             "From: <sip:alice@example.test>;tag=c2", "Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK2c",
                             "Call-ID: ipv6-abnf-2@example.test", "Max-Forwards: 70", "CSeq: 1 OPTIONS"})),
              errc::ok);
}

// URI comparison (RFC 3261 §19.1.4 with RFC 5954 §4): IPv6 hosts are equal as addresses.
TEST(Rfc5118, UriComparisonUsesTheAddressNotItsText) {
    const auto eq = [](std::string_view a, std::string_view b) {
        auto x = parse_uri(a);
        auto y = parse_uri(b);
        return x && y && equivalent(*x, *y);
    };
    EXPECT_TRUE(eq("sip:alice@[::1]:5070", "sip:alice@[0:0::1]:5070"));
    EXPECT_TRUE(eq("sip:[2001:DB8::1]", "sip:[2001:db8:0:0:0:0:0:1]"));
    EXPECT_FALSE(eq("sip:[2001:db8::1]", "sip:[2001:db8::2]"));
    EXPECT_FALSE(eq("sip:[::1]:5070", "sip:[::1]:5071"));
    EXPECT_FALSE(eq("sip:[::ffff:192.0.2.1]", "sip:192.0.2.1"));
}

TEST(Rfc5118, SameIpAddress) {
    EXPECT_TRUE(same_ip_address("[::1]", "::1"));
    EXPECT_TRUE(same_ip_address("::1", "[0:0:0:0:0:0:0:1]"));
    EXPECT_TRUE(same_ip_address("2001:db8::a", "2001:DB8:0::A"));
    EXPECT_TRUE(same_ip_address("192.0.2.1", "192.0.2.1"));
    EXPECT_TRUE(same_ip_address("192.0.2.1", "192.000.002.001"));
    EXPECT_FALSE(same_ip_address("192.0.2.1", "192.0.2.2"));
    EXPECT_FALSE(same_ip_address("[192.0.2.1]", "192.0.2.1"));  // brackets hold IPv6 only
    EXPECT_FALSE(same_ip_address("host.example", "host.example"));
    EXPECT_FALSE(same_ip_address("[::1", "::1"));
    EXPECT_FALSE(same_ip_address("fe80::1%eth0", "fe80::1"));  // no zone index in SIP
    EXPECT_FALSE(same_ip_address("", ""));
}

}  // namespace
}  // namespace b2b::sip
