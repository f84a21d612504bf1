// URI parsing, equivalence (RFC 3261 §19.1.4) and unescaping.
#include "sip/message/uri.hpp"

#include <gtest/gtest.h>

#include <string>

namespace b2b::sip {
namespace {

uri must_parse(std::string_view text) {
    auto r = parse_uri(text);
    EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().what());
    return r ? *r : uri{};
}

void expect_bad(std::string_view text) {
    auto r = parse_uri(text);
    EXPECT_FALSE(r) << text << " parsed";
    if (!r) {
        EXPECT_EQ(r.error().code, errc::bad_uri);
        EXPECT_FALSE(r.error().detail.empty());
    }
}

TEST(Uri, FullSipUri) {
    const uri u = must_parse(
        "sip:alice:secret@atlanta.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent");
    EXPECT_TRUE(u.is_sip());
    EXPECT_FALSE(u.is_sips());
    EXPECT_EQ(u.scheme, "sip");
    EXPECT_EQ(u.user, "alice");
    EXPECT_EQ(u.password, "secret");
    EXPECT_TRUE(u.has_user);
    EXPECT_EQ(u.host, "atlanta.com");
    EXPECT_EQ(u.host_type, host_kind::name);
    EXPECT_EQ(u.port, 5061);
    EXPECT_EQ(u.params, ";transport=tcp;lr");
    EXPECT_EQ(u.transport(), "tcp");
    EXPECT_EQ(u.param("LR"), "");
    EXPECT_FALSE(u.param("maddr").has_value());
    EXPECT_EQ(u.headers, "subject=project%20x&priority=urgent");
    EXPECT_TRUE(u.opaque.empty());
}

TEST(Uri, SchemeIsCaseInsensitive) {
    EXPECT_TRUE(must_parse("SIP:bob@biloxi.com").is_sip());
    EXPECT_TRUE(must_parse("SiPs:bob@biloxi.com").is_sips());
    EXPECT_EQ(must_parse("SIP:bob@biloxi.com").scheme, "SIP");
}

TEST(Uri, Hosts) {
    const uri v4 = must_parse("sip:10.0.0.1:5060");
    EXPECT_EQ(v4.host_type, host_kind::ipv4);
    EXPECT_EQ(v4.host, "10.0.0.1");
    EXPECT_FALSE(v4.has_user);
    EXPECT_EQ(v4.port, 5060);

    const uri v6 = must_parse("sip:bob@[2001:db8::1]:5070;maddr=[::1]");
    EXPECT_EQ(v6.host_type, host_kind::ipv6);
    EXPECT_EQ(v6.host, "[2001:db8::1]");
    EXPECT_EQ(v6.host_without_brackets(), "2001:db8::1");
    EXPECT_EQ(v6.port, 5070);
    EXPECT_EQ(v6.param("maddr"), "[::1]");

    EXPECT_EQ(must_parse("sip:[::ffff:192.0.2.1]").host_type, host_kind::ipv6);
    EXPECT_EQ(must_parse("sip:[1:2:3:4:5:6:7:8]").host_type, host_kind::ipv6);
    EXPECT_EQ(must_parse("sip:[::]").host_type, host_kind::ipv6);
    EXPECT_EQ(must_parse("sip:[fe80::]").host_type, host_kind::ipv6);
    EXPECT_EQ(must_parse("sip:host.example.com.").host, "host.example.com.");
    EXPECT_EQ(must_parse("sip:_sip._udp.example.com").host_type, host_kind::name);
    EXPECT_EQ(must_parse("sip:bob@host").host_without_brackets(), "host");

    expect_bad("sip:[2001:db8::1");         // unclosed
    expect_bad("sip:[1:2:3:4:5:6:7:8:9]");  // too many groups
    expect_bad("sip:[1::2::3]");            // two '::'
    expect_bad("sip:[12345::1]");           // group too long
    expect_bad("sip:[1:2:3:4:5:6:7]");      // too few groups
    expect_bad("sip:[:1::2]");
    expect_bad("sip:[1::2:]");
    expect_bad("sip:[]");
    expect_bad("sip:256.1.1.1");
    expect_bad("sip:1.2.3");
    expect_bad("sip:1234");
    expect_bad("sip:a..b");
    expect_bad("sip:-a.com");
    expect_bad("sip:a-.com");
    expect_bad("sip:bob@");
    expect_bad("sip:");
}

TEST(Uri, Ports) {
    EXPECT_EQ(must_parse("sip:h:1").port, 1);
    EXPECT_EQ(must_parse("sip:h:65535").port, 65535);
    EXPECT_EQ(must_parse("sip:h:05060").port, 5060);
    EXPECT_EQ(must_parse("sip:h").port, 0);
    expect_bad("sip:h:0");
    expect_bad("sip:h:65536");
    expect_bad("sip:h:99999999999999999999999");
    expect_bad("sip:h:");
    expect_bad("sip:h:12a");
    expect_bad("sip:h:-1");
}

TEST(Uri, UserInfo) {
    // RFC 4475 §3.1.1.9: the user part may hold ';' and escapes; the first '@' ends it.
    const uri u = must_parse("sip:user;par=u%40example.net@example.com");
    EXPECT_EQ(u.user, "user;par=u%40example.net");
    EXPECT_EQ(u.host, "example.com");
    EXPECT_TRUE(u.params.empty());

    const uri tel = must_parse("sip:+1-212-555-1212:1234@gateway.com;user=phone");
    EXPECT_EQ(tel.user, "+1-212-555-1212");
    EXPECT_EQ(tel.password, "1234");
    EXPECT_EQ(tel.param("user"), "phone");

    EXPECT_EQ(must_parse("sip:*72#1000@pbx").user, "*72#1000");
    EXPECT_EQ(must_parse("sip:a?b/c&d=e+f$g,h@x").user, "a?b/c&d=e+f$g,h");
    EXPECT_TRUE(must_parse("sip:@host").has_user);  // empty userinfo kept as written
    expect_bad("sip:a%4@host");                     // truncated escape
    expect_bad("sip:a%zz@host");
    expect_bad("sip:a b@host");
    expect_bad("sip:a\"b@host");
    expect_bad("sip:user:pa;ss@host");  // ';' not allowed in password
}

TEST(Uri, ParamsAndHeaders) {
    const uri u = must_parse("sip:h;%6C%72;n%61me=v%61lue%25%34%31");
    EXPECT_EQ(u.params, ";%6C%72;n%61me=v%61lue%25%34%31");
    EXPECT_EQ(u.param("n%61me"), "v%61lue%25%34%31");
    expect_bad("sip:h;");
    expect_bad("sip:h;;lr");
    expect_bad("sip:h;a=");
    expect_bad("sip:h;a=b=c");
    expect_bad("sip:h?");
    expect_bad("sip:h?a");
    expect_bad("sip:h?=b");
    expect_bad("sip:h?a=b&");
    expect_bad("sip:h>");
    expect_bad("sip:h x");
    EXPECT_EQ(must_parse("sip:h?a=&b=c").headers, "a=&b=c");
    EXPECT_EQ(must_parse("sip:h?Route=%3Csip:x%3E").headers, "Route=%3Csip:x%3E");
}

TEST(Uri, OtherSchemes) {
    const uri tel = must_parse("tel:+1-201-555-0123;phone-context=example.com");
    EXPECT_FALSE(tel.is_sip_or_sips());
    EXPECT_EQ(tel.scheme, "tel");
    EXPECT_EQ(tel.opaque, "+1-201-555-0123;phone-context=example.com");
    EXPECT_TRUE(tel.host.empty());
    EXPECT_EQ(must_parse("nobodyKnowsThisScheme:totallyopaquecontent").opaque,
              "totallyopaquecontent");
    EXPECT_EQ(must_parse("soap.beep://192.0.2.103:3002").scheme, "soap.beep");
    EXPECT_EQ(must_parse("urn:service:sos").opaque, "service:sos");
    expect_bad("tel:");
    expect_bad("1tel:123");
    expect_bad("no-colon");
    expect_bad(":x");
    expect_bad("http://a b");
    expect_bad("http://x%");
    expect_bad("");
}

TEST(Uri, NeverReadsPastTheView) {
    // A view cut from a larger buffer: the parser must stop at its end, not at a NUL.
    const std::string buffer = "sip:bob@host;lr>trailing";
    auto r = parse_uri(std::string_view(buffer).substr(0, 15));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->params, ";lr");
    const std::string with_nul("sip:a\0b@host", 12);
    expect_bad(with_nul);
}

TEST(Unescape, DecodesAndKeepsMalformed) {
    EXPECT_EQ(unescape("I%20have%20spaces"), "I have spaces");
    EXPECT_EQ(unescape("%41%62c"), "Abc");
    EXPECT_EQ(unescape("null-%00-null"), std::string("null-\0-null", 11));
    EXPECT_EQ(unescape("100%"), "100%");
    EXPECT_EQ(unescape("%4"), "%4");
    EXPECT_EQ(unescape("%zz%4g"), "%zz%4g");
    EXPECT_EQ(unescape("%%41"), "%A");
    EXPECT_EQ(unescape(""), "");
}

bool eq(std::string_view a, std::string_view b) {
    return equivalent(must_parse(a), must_parse(b)) && equivalent(must_parse(b), must_parse(a));
}

// The examples of RFC 3261 §19.1.4.
TEST(UriEquivalence, Rfc3261Equivalent) {
    EXPECT_TRUE(eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
    EXPECT_TRUE(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
    EXPECT_TRUE(eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
    EXPECT_TRUE(eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
    EXPECT_TRUE(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                   "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
    EXPECT_TRUE(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                   "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
}

TEST(UriEquivalence, Rfc3261NotEquivalent) {
    EXPECT_FALSE(eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
    EXPECT_FALSE(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
    EXPECT_FALSE(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
}

TEST(UriEquivalence, MoreCases) {
    EXPECT_FALSE(eq("sip:bob@biloxi.com", "sips:bob@biloxi.com"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob:pw@biloxi.com"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com;maddr=1.2.3.4", "sip:bob@biloxi.com"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com;user=phone", "sip:bob@biloxi.com"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com;ttl=1", "sip:bob@biloxi.com"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com;method=INVITE", "sip:bob@biloxi.com"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com;x=1", "sip:bob@biloxi.com;x=2"));
    EXPECT_FALSE(eq("sip:biloxi.com", "sip:@biloxi.com"));
    EXPECT_TRUE(eq("sip:bob@biloxi.com;lr", "sip:bob@biloxi.com;LR"));
    EXPECT_TRUE(eq("sip:%62ob@biloxi.com", "sip:bob@biloxi.com"));
    EXPECT_TRUE(eq("sip:[2001:DB8::1]", "sip:[2001:db8::1]"));
    // An escaped reserved character is not the character itself.
    EXPECT_FALSE(eq("sip:a%3Bb@h", "sip:a;b@h"));
    EXPECT_TRUE(eq("sip:a%3bb@h", "sip:a%3Bb@h"));
    // Other schemes: exact text.
    EXPECT_TRUE(eq("tel:+1234", "tel:+1234"));
    EXPECT_FALSE(eq("tel:+1234", "TEL:+1234"));
    EXPECT_FALSE(eq("tel:+1234", "sip:+1234@h"));
}

// Found by fuzz/uri_fuzz: a parameter written twice made a URI not equivalent to itself (the
// second value was compared with the other URI's first).
TEST(UriEquivalence, ParameterWrittenTwiceComparesAsItsListOfValues) {
    EXPECT_TRUE(eq("SIP:ALICE@AtLanTa6CoM;TranspArt=Ta6CoM;TranspArt=uudp",
                   "SIP:ALICE@AtLanTa6CoM;TranspArt=Ta6CoM;TranspArt=uudp"));
    EXPECT_TRUE(eq("sip:h;x=1;x=2", "sip:h;X=1;x=2"));
    EXPECT_FALSE(eq("sip:h;x=1;x=2", "sip:h;x=2;x=1"));
    EXPECT_FALSE(eq("sip:h;x=1;x=2", "sip:h;x=1"));
    EXPECT_FALSE(eq("sip:h;transport=tcp;transport=udp", "sip:h;transport=tcp"));
    EXPECT_TRUE(eq("sip:h;x=1;x=2", "sip:h;y=3"));
}

// Found by fuzz/uri_fuzz: an IPv6 reference whose IPv4 tail has a leading zero (RFC 3261's
// IPv4address allows 1*3DIGIT) parsed, but was not the same address as itself: inet_pton
// refuses leading zeros.
TEST(UriEquivalence, Ipv6ReferenceWithLeadingZerosInItsIpv4Tail) {
    EXPECT_TRUE(eq("sip:[::ffff:096.0.2.1]", "sip:[::ffff:096.0.2.1]"));
    EXPECT_TRUE(eq("sip:[::ffff:096.0.2.1]", "sip:[::FFFF:96.0.2.001]"));
    EXPECT_FALSE(eq("sip:[::ffff:096.0.2.1]", "sip:[::ffff:96.0.2.10]"));
    EXPECT_TRUE(same_ip_address("[::ffff:010.000.000.001]", "::ffff:10.0.0.1"));
    EXPECT_FALSE(same_ip_address("[::ffff:010.0.0.1]", "10.0.0.1"));
}

TEST(uri, escape_user_keeps_what_a_user_part_allows_and_escapes_the_rest) {
    EXPECT_EQ(escape_user("+4930123456"), "+4930123456");
    EXPECT_EQ(escape_user("*21#"), "*21%23");
    EXPECT_EQ(escape_user("a b@c:d"), "a%20b%40c%3Ad");
    EXPECT_EQ(escape_user("alice;x=y?z/1"), "alice;x=y?z/1");
    EXPECT_EQ(escape_user(std::string("\xff\0", 2)), "%FF%00");
    // What escape_user writes, unescape reads back.
    EXPECT_EQ(unescape(escape_user("x#y %z")), "x#y %z");
}

}  // namespace
}  // namespace b2b::sip
