// Digest header parsing and serialisation: grammar, leniency, edge cases, SIPp's exact form.
#include "auth/digest_header.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>

namespace b2b::auth {
namespace {

using namespace std::string_literals;

parse_errc challenge_error(std::string_view v) {
    auto r = parse_challenge(v);
    EXPECT_FALSE(r) << v;
    return r ? parse_errc::ok : r.error().code;
}

parse_errc credentials_error(std::string_view v) {
    auto r = parse_credentials(v);
    EXPECT_FALSE(r) << v;
    return r ? parse_errc::ok : r.error().code;
}

// Exactly what SIPp 3.6.1 sends (captured on the wire): no spaces after commas, nc and qop bare.
TEST(digest_header, parses_sipp_credentials_verbatim) {
    const std::string_view v =
        R"(Digest username="pbxuser",realm="pbx.local",cnonce="6b8b4567",nc=00000001,qop=auth,)"
        R"(uri="sip:1000@127.0.0.1:5070",nonce="abc-_123",response="a6e565d4c54ea5aecab4890f09b83548",)"
        R"(algorithm=MD5,opaque="op")";
    auto r = parse_credentials(v);
    ASSERT_TRUE(r) << r.error().what();
    const digest_credentials& c = r.value();
    EXPECT_EQ(c.username, "pbxuser");
    EXPECT_EQ(c.realm, "pbx.local");
    EXPECT_EQ(c.cnonce, "6b8b4567");
    EXPECT_EQ(c.nc, "00000001");
    EXPECT_EQ(c.qop, "auth");
    EXPECT_EQ(c.uri, "sip:1000@127.0.0.1:5070");
    EXPECT_EQ(c.nonce, "abc-_123");
    EXPECT_EQ(c.response, "a6e565d4c54ea5aecab4890f09b83548");
    EXPECT_EQ(c.algorithm_token, "MD5");
    EXPECT_EQ(c.opaque, "op");
    EXPECT_FALSE(c.userhash);
}

// RFC 2617 §3.5's challenge, folded over several lines as printed.
TEST(digest_header, parses_folded_rfc2617_challenge) {
    const std::string v =
        "Digest\r\n"
        "                 realm=\"testrealm@host.com\",\r\n"
        "                 qop=\"auth,auth-int\",\r\n"
        "                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
        "                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
    auto r = parse_challenge(v);
    ASSERT_TRUE(r) << r.error().what();
    const digest_challenge& c = r.value();
    EXPECT_EQ(c.realm, "testrealm@host.com");
    EXPECT_EQ(c.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
    EXPECT_EQ(c.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
    EXPECT_EQ(c.qop, (std::vector<std::string>{"auth", "auth-int"}));
    EXPECT_TRUE(c.offers_qop_auth());
    EXPECT_TRUE(c.algorithm_token.empty());
    EXPECT_FALSE(c.stale);
}

TEST(digest_header, parses_rfc7616_challenge_with_all_fields) {
    auto r = parse_challenge(
        R"(Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, )"
        R"(nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", )"
        R"(opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true, )"
        R"(domain="/ sip:a.example", stale=TRUE)");
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r.value().algorithm_token, "SHA-512-256");
    EXPECT_EQ(r.value().nonce, "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK");
    EXPECT_EQ(r.value().charset, "UTF-8");
    EXPECT_TRUE(r.value().userhash);
    EXPECT_TRUE(r.value().stale);
    EXPECT_EQ(r.value().domain, "/ sip:a.example");
}

TEST(digest_header, scheme_and_names_are_case_insensitive) {
    for (const char* v : {R"(digest REALM="r", Nonce="n")", R"(DIGEST realm="r", NONCE="n")",
                          R"(DiGeSt rEaLm="r", nOnCe="n")"}) {
        auto r = parse_challenge(v);
        ASSERT_TRUE(r) << v;
        EXPECT_EQ(r.value().realm, "r");
        EXPECT_EQ(r.value().nonce, "n");
    }
}

TEST(digest_header, whitespace_and_folding_around_separators) {
    const std::string v =
        "  Digest \t realm \t= \"r\"\r\n\t, nonce=\r\n \"n\" ,\n opaque = op  \r\n";
    auto r = parse_challenge(v);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r.value().realm, "r");
    EXPECT_EQ(r.value().nonce, "n");
    EXPECT_EQ(r.value().opaque, "op");
}

TEST(digest_header, quoted_strings_unescape) {
    auto r = parse_challenge(R"(Digest realm="a\"b\\c\d", nonce="x,y=z")");
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r.value().realm, R"(a"b\cd)");
    EXPECT_EQ(r.value().nonce, "x,y=z");  // separators inside quotes are data
}

TEST(digest_header, folding_inside_quoted_string_is_one_space) {
    auto r = parse_challenge("Digest realm=\"a\r\n   b\", nonce=n");
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r.value().realm, "a b");
}

TEST(digest_header, utf8_in_quoted_strings_is_kept) {
    auto r = parse_credentials("Digest username=\"J\xC3\xA4s\xC3\xB8n Doe\", realm=\"r\"");
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().username, "J\xC3\xA4s\xC3\xB8n Doe");
}

TEST(digest_header, token_params_may_be_quoted_and_vice_versa) {
    auto r =
        parse_credentials(R"(Digest username=bob, nc="00000002", qop="auth", algorithm="SHA-256")");
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().username, "bob");
    EXPECT_EQ(r.value().nc, "00000002");
    EXPECT_EQ(r.value().qop, "auth");
    EXPECT_EQ(r.value().algorithm_token, "SHA-256");
}

TEST(digest_header, unknown_params_are_ignored_even_repeated) {
    auto r = parse_challenge(R"(Digest foo=bar, realm="r", x-y="1", nonce="n", foo="again")");
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().realm, "r");
}

TEST(digest_header, qop_list_tolerates_spaces_and_case) {
    auto r = parse_challenge(R"(Digest realm="r", nonce="n", qop=" Auth-Int , AUTH ,")");
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().qop, (std::vector<std::string>{"auth-int", "auth"}));
    EXPECT_TRUE(r.value().offers_qop_auth());
    auto only_int = parse_challenge(R"(Digest realm="r", nonce="n", qop="auth-int")");
    ASSERT_TRUE(only_int);
    EXPECT_FALSE(only_int.value().offers_qop_auth());
}

TEST(digest_header, stale_and_userhash_values) {
    EXPECT_TRUE(parse_challenge(R"(Digest realm="r", nonce="n", stale=true)").value().stale);
    EXPECT_TRUE(parse_challenge(R"(Digest realm="r", nonce="n", stale="TRUE")").value().stale);
    EXPECT_FALSE(parse_challenge(R"(Digest realm="r", nonce="n", stale=false)").value().stale);
    EXPECT_FALSE(parse_challenge(R"(Digest realm="r", nonce="n", stale=yes)").value().stale);
    EXPECT_TRUE(parse_credentials(R"(Digest username="u", userhash=true)").value().userhash);
}

TEST(digest_header, empty_and_foreign_schemes) {
    EXPECT_EQ(challenge_error(""), parse_errc::empty);
    EXPECT_EQ(challenge_error(" \t\r\n "), parse_errc::empty);
    EXPECT_EQ(challenge_error(R"(Basic realm="r")"), parse_errc::not_digest);
    EXPECT_EQ(credentials_error("Bearer abc.def"), parse_errc::not_digest);
    EXPECT_EQ(credentials_error("Digestive username=x"), parse_errc::not_digest);
    EXPECT_EQ(credentials_error(R"("Digest" username=x)"), parse_errc::bad_syntax);
}

TEST(digest_header, syntax_errors) {
    EXPECT_EQ(credentials_error("Digest"), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error("Digest   "), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error(R"(Digest,username="u")"), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error(R"(Digest ,username="u")"), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error("Digest username"), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error("Digest username="), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error("Digest username=,realm=r"), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error(R"(Digest username="u",)"), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error(R"(Digest username="u",, realm="r")"), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error(R"(Digest username="u" realm="r")"), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error(R"(Digest username="u"x, realm="r")"), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error("Digest username=a/b"), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error("Digest username=\"a\rb\""), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error("Digest username=\"a\nb\""), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error("Digest username=\"a\x01"
                                "b\""),
              parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error("Digest username=\"a\\\r\n b\""), parse_errc::bad_syntax);
    EXPECT_EQ(credentials_error("Digest username=\"u\"\r\n, realm=\"r\""), parse_errc::bad_syntax)
        << "CRLF not followed by whitespace is not a fold";
    EXPECT_EQ(credentials_error("Digest username=\"u\", realm=\"r\"\r\nVia: x"),
              parse_errc::bad_syntax);
}

TEST(digest_header, unterminated_quotes) {
    EXPECT_EQ(credentials_error(R"(Digest username="u)"), parse_errc::unterminated_quote);
    EXPECT_EQ(credentials_error(R"(Digest username="u\")"), parse_errc::unterminated_quote);
    EXPECT_EQ(credentials_error(R"(Digest username="u\)"), parse_errc::unterminated_quote);
    EXPECT_EQ(credentials_error(R"(Digest username=")"), parse_errc::unterminated_quote);
}

TEST(digest_header, nul_bytes_are_data_errors_not_terminators) {
    const std::string v = "Digest username=\"a\0b\", realm=\"r\""s;
    EXPECT_EQ(credentials_error(v), parse_errc::bad_syntax);
    const std::string w = "Digest username=\"ab\", realm=\"r\"\0"s;
    EXPECT_EQ(credentials_error(w), parse_errc::bad_syntax);
}

TEST(digest_header, duplicates_are_malformed_whatever_the_case) {
    EXPECT_EQ(challenge_error(R"(Digest realm="a", nonce="n", Realm="a")"),
              parse_errc::duplicate_parameter);
    EXPECT_EQ(credentials_error(R"(Digest username="u", response="x", RESPONSE="y")"),
              parse_errc::duplicate_parameter);
    EXPECT_EQ(credentials_error(R"(Digest nc=00000001, nc=00000001)"),
              parse_errc::duplicate_parameter);
    auto r = parse_credentials(R"(Digest username="u", username="v")");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("username"), std::string::npos);
}

TEST(digest_header, challenge_requires_realm_and_nonce) {
    EXPECT_EQ(challenge_error(R"(Digest nonce="n", qop="auth")"), parse_errc::missing_parameter);
    EXPECT_EQ(challenge_error(R"(Digest realm="r", qop="auth")"), parse_errc::missing_parameter);
    // Credentials leave completeness to the verifier.
    auto r = parse_credentials(R"(Digest username="u")");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r.value().response.empty());
    EXPECT_FALSE(r.value().qop.has_value());
    EXPECT_FALSE(r.value().opaque.has_value());
}

TEST(digest_header, empty_quoted_values_are_present) {
    auto r = parse_credentials(R"(Digest username="u", opaque="", qop="")");
    ASSERT_TRUE(r);
    ASSERT_TRUE(r.value().opaque.has_value());
    EXPECT_EQ(*r.value().opaque, "");
    ASSERT_TRUE(r.value().qop.has_value());
}

TEST(digest_header, challenge_serialises_in_documented_order) {
    digest_challenge c;
    c.realm = "pbx.local";
    c.nonce = "N1";
    c.opaque = "op";
    c.algorithm_token = "MD5";
    c.qop = {"auth"};
    EXPECT_EQ(to_header_value(c),
              R"(Digest realm="pbx.local", nonce="N1", opaque="op", algorithm=MD5, qop="auth")");
    c.stale = true;
    c.qop = {"auth", "auth-int"};
    EXPECT_EQ(to_header_value(c), R"(Digest realm="pbx.local", nonce="N1", opaque="op", )"
                                  R"(algorithm=MD5, qop="auth,auth-int", stale=true)");
}

TEST(digest_header, serialisation_escapes_and_strips_line_breaks) {
    digest_challenge c;
    c.realm = "a\"b\\c\r\nInjected: yes";
    c.nonce = "n";
    const std::string v = to_header_value(c);
    EXPECT_EQ(v.find('\r'), std::string::npos);
    EXPECT_EQ(v.find('\n'), std::string::npos);
    auto back = parse_challenge(v);
    ASSERT_TRUE(back) << back.error().what();
    EXPECT_EQ(back.value().realm, "a\"b\\cInjected: yes");
}

TEST(digest_header, credentials_round_trip) {
    digest_credentials c;
    c.username = "J\xC3\xA4s \"quoted\"";
    c.realm = "r";
    c.nonce = "n/+=";
    c.uri = "sip:1000@127.0.0.1:5070;transport=udp";
    c.response = "abcdef";
    c.algorithm_token = "SHA-256";
    c.cnonce = "cn";
    c.nc = "0000000a";
    c.qop = "auth";
    c.opaque = "";
    c.userhash = true;
    const std::string v = to_header_value(c);
    EXPECT_NE(v.find("nc=0000000a"), std::string::npos);
    EXPECT_NE(v.find("qop=auth"), std::string::npos);
    EXPECT_NE(v.find("algorithm=SHA-256"), std::string::npos);
    auto back = parse_credentials(v);
    ASSERT_TRUE(back) << back.error().what();
    const digest_credentials& b = back.value();
    EXPECT_EQ(b.username, c.username);
    EXPECT_EQ(b.nonce, c.nonce);
    EXPECT_EQ(b.uri, c.uri);
    EXPECT_EQ(b.response, c.response);
    EXPECT_EQ(b.algorithm_token, c.algorithm_token);
    EXPECT_EQ(b.cnonce, c.cnonce);
    EXPECT_EQ(b.nc, c.nc);
    EXPECT_EQ(b.qop, c.qop);
    EXPECT_EQ(b.opaque, c.opaque);
    EXPECT_TRUE(b.userhash);
}

TEST(digest_header, error_category_and_messages) {
    const boost::system::error_code ec = parse_errc::duplicate_parameter;
    EXPECT_STREQ(ec.category().name(), "b2b.auth.parse");
    EXPECT_FALSE(ec.message().empty());
    auto r = parse_challenge("Basic x=y");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().what().find("Basic"), std::string::npos);
}

// Every prefix of a valid value, and random bytes, must parse or fail cleanly (ASan checks the
// "never reads out of bounds" part: each prefix is copied into its own exact-size buffer).
TEST(digest_header, prefixes_and_random_bytes_never_misbehave) {
    const std::string full =
        "Digest username=\"pbx\\\"user\",realm=\"pbx.local\",\r\n nc=00000001,qop=auth,"
        "uri=\"sip:1000@127.0.0.1:5070\",nonce=\"n\",response=\"r\",algorithm=MD5,opaque=\"op\"";
    for (std::size_t n = 0; n <= full.size(); ++n) {
        const std::unique_ptr<char[]> buf(new char[n == 0 ? 1 : n]);
        std::copy_n(full.data(), n, buf.get());
        (void)parse_credentials(std::string_view(buf.get(), n));
        (void)parse_challenge(std::string_view(buf.get(), n));
    }
    std::mt19937 rng(12345);
    const std::string alphabet = "Digest =,\"\\\r\n\t abcrealmnoce0123\x80\xff";
    for (int i = 0; i < 5000; ++i) {
        std::string s = i % 2 == 0 ? "Digest " : "";
        const std::size_t len = rng() % 64;
        for (std::size_t k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
        auto r = parse_credentials(s);
        if (!r) {
            EXPECT_NE(r.error().code, parse_errc::ok);
        }
        (void)parse_challenge(s);
    }
}

}  // namespace
}  // namespace b2b::auth
