// Internals: base64url, constant-time compare, hex, and the digest-uri comparison.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "auth/detail/address_key.hpp"
#include "auth/detail/crypto.hpp"
#include "auth/detail/text.hpp"
#include "auth/detail/uri_match.hpp"

namespace b2b::auth::detail {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

// RFC 4648 §10 test vectors, without padding.
TEST(base64url, rfc4648_vectors) {
    const std::pair<const char*, const char*> cases[] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
    };
    for (auto [plain, encoded] : cases) {
        EXPECT_EQ(base64url_encode(bytes(plain)), encoded);
        const auto back = base64url_decode(encoded);
        ASSERT_TRUE(back) << encoded;
        EXPECT_EQ(*back, bytes(plain));
    }
}

TEST(base64url, uses_the_url_safe_alphabet) {
    const std::vector<std::uint8_t> b{0xfb, 0xff};
    EXPECT_EQ(base64url_encode(b), "-_8");
    EXPECT_EQ(base64url_decode("-_8"), b);
}

TEST(base64url, strict_decoding) {
    EXPECT_FALSE(base64url_decode("Zg=="));  // padding
    EXPECT_FALSE(base64url_decode("Z"));     // impossible length
    EXPECT_FALSE(base64url_decode("Zh"));    // non-zero trailing bits
    EXPECT_FALSE(base64url_decode("+/8"));   // standard alphabet
    EXPECT_FALSE(base64url_decode("Zm 9v"));
    EXPECT_TRUE(base64url_decode(""));
}

TEST(crypto, constant_time_equality) {
    EXPECT_TRUE(equal_constant_time("abc", "abc"));
    EXPECT_FALSE(equal_constant_time("abc", "abd"));
    EXPECT_FALSE(equal_constant_time("abc", "ab"));
    EXPECT_TRUE(equal_constant_time("", ""));
    EXPECT_FALSE(equal_constant_time("", "a"));
}

TEST(crypto, hmac_sha256_rfc4231_case_2) {
    const auto mac = hmac_sha256("Jefe", bytes("what do ya want for nothing?"));
    EXPECT_EQ(to_hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(crypto, random_hex_has_the_requested_length_and_varies) {
    const std::string a = random_hex(8);
    const std::string b = random_hex(8);
    EXPECT_EQ(a.size(), 16u);
    EXPECT_NE(a, b);
    for (char c : a) EXPECT_TRUE(is_hex_digit(c));
}

TEST(text, helpers) {
    EXPECT_TRUE(iequals("Digest", "dIGEST"));
    EXPECT_FALSE(iequals("Digest", "Digests"));
    EXPECT_EQ(to_lower("AbC-1"), "abc-1");
    EXPECT_EQ(trim_lws(" \t\r\nx y\r\n "), "x y");
    EXPECT_TRUE(is_token("SHA-512-256"));
    EXPECT_FALSE(is_token("a b"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("a\"b"));
}

TEST(text, printable_neutralises_control_bytes_and_bounds_length) {
    EXPECT_EQ(printable("ok \xC3\xA4"), "ok \xC3\xA4");
    EXPECT_EQ(printable(std::string("a\x1b[31m\0b", 8)), "a?[31m?b");
    EXPECT_EQ(printable(std::string(150, 'x')), std::string(100, 'x') + "...");
    EXPECT_EQ(printable("abcdef", 3), "abc...");
}

TEST(uri_match, identical_and_trimmed) {
    EXPECT_TRUE(uri_matches("sip:1000@127.0.0.1:5070", "sip:1000@127.0.0.1:5070"));
    EXPECT_TRUE(uri_matches(" sip:1000@127.0.0.1:5070 ", "sip:1000@127.0.0.1:5070"));
    EXPECT_TRUE(uri_matches("/dir/index.html", "/dir/index.html"));
    EXPECT_FALSE(uri_matches("", ""));
}

TEST(uri_match, scheme_and_host_case_is_ignored) {
    EXPECT_TRUE(uri_matches("SIP:1000@PBX.Local:5070", "sip:1000@pbx.local:5070"));
    EXPECT_TRUE(uri_matches("sips:1000@[2001:DB8::1]:5061", "SIPS:1000@[2001:db8::1]:5061"));
    EXPECT_TRUE(uri_matches("sip:Example.COM", "sip:example.com"));
    EXPECT_TRUE(uri_matches("sip:a@HOST;transport=udp", "sip:a@host;transport=udp"));
    // IPv6 hosts are the same address in any text form (RFC 5954 §4); different ones are not.
    EXPECT_TRUE(uri_matches("sip:1000@[0:0::1]:5070", "sip:1000@[::1]:5070"));
    EXPECT_FALSE(uri_matches("sip:1000@[::2]:5070", "sip:1000@[::1]:5070"));
}

TEST(uri_match, everything_else_must_match) {
    EXPECT_FALSE(uri_matches("sip:1000@127.0.0.1:5070", "sip:1001@127.0.0.1:5070"));
    EXPECT_FALSE(uri_matches("sip:ALICE@host", "sip:alice@host"));  // user part is case-sensitive
    EXPECT_FALSE(uri_matches("sip:127.0.0.1:5070", "sip:1000@127.0.0.1:5070"));  // SIPp default
    EXPECT_FALSE(uri_matches("sip:1000@127.0.0.1", "sip:1000@127.0.0.1:5070"));
    EXPECT_FALSE(uri_matches("sip:a@host;transport=tcp", "sip:a@host;transport=udp"));
    EXPECT_FALSE(uri_matches("sips:a@host", "sip:a@host"));
    EXPECT_FALSE(uri_matches("tel:+123", "TEL:+123"));  // only SIP URIs get case folding
    EXPECT_FALSE(uri_matches("sip:", "SIP:"));
    EXPECT_FALSE(uri_matches("sip:a@[::1", "SIP:a@[::1"));
}

TEST(address_key, round_trips_and_keeps_families_apart) {
    for (const char* a : {"10.0.0.1", "0.0.0.0", "::1", "::", "2001:db8::1", "::10.0.0.1"}) {
        const auto addr = boost::asio::ip::make_address(a);
        EXPECT_EQ(address_of(key_of(addr)), addr) << a;
    }
    const auto key = [](const char* a) { return key_of(boost::asio::ip::make_address(a)); };
    EXPECT_NE(key("::10.0.0.1"), key("10.0.0.1"));
    EXPECT_NE(key("::"), key("0.0.0.0"));
}

TEST(address_key, ipv4_mapped_is_the_ipv4_address_and_scope_is_ignored) {
    const auto key = [](const char* a) { return key_of(boost::asio::ip::make_address(a)); };
    EXPECT_EQ(key("::ffff:10.0.0.1"), key("10.0.0.1"));
    EXPECT_EQ(key("fe80::1%1"), key("fe80::1"));
}

}  // namespace
}  // namespace b2b::auth::detail
