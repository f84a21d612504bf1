// digest_server: challenge values, the verification order, and every downstream failure.
#include "auth/server.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "auth/client.hpp"
#include "auth/digest_header.hpp"
#include "tests/unit/auth/fake_nonce_service.hpp"

namespace b2b::auth {
namespace {

using std::chrono::seconds;
using time_point = std::chrono::system_clock::time_point;

const time_point t0{seconds{1'700'000'000}};
constexpr std::string_view request_uri = "sip:1000@127.0.0.1:5070";
constexpr std::string_view password = "Secret-42";

server_config make_config(std::vector<algorithm> algs = {algorithm::sha256, algorithm::md5}) {
    server_config c;
    c.realm = "pbx.local";
    c.algorithms = std::move(algs);
    c.nonce.secret = "fixed-test-secret-fixed-test-secret";
    c.opaque = "op";
    return c;
}

// Recomputes the response for whatever fields `c` holds, as a client knowing `pw` would.
std::string sign(digest_credentials c, std::string_view pw, std::string_view method = "INVITE") {
    const algorithm alg =
        c.algorithm_token.empty() ? algorithm::md5 : parse_algorithm(c.algorithm_token).value();
    const std::string ha1 = compute_ha1(alg, c.username, c.realm, pw);
    const std::string ha2 = compute_ha2(alg, method, c.uri);
    const std::string qop = c.qop.value_or("");
    c.response = compute_response(
        alg,
        {.ha1 = ha1, .nonce = c.nonce, .nc = c.nc, .cnonce = c.cnonce, .qop = qop, .ha2 = ha2});
    return to_header_value(c);
}

class digest_server_test : public ::testing::Test {
  protected:
    digest_server_test() {
        user_credentials u;
        u.username = "pbxuser";
        u.password = std::string(password);
        store_.set_user(u);
    }

    // Well-formed SHA-256 credentials for a fresh nonce of `server`; the response is a
    // placeholder until sign() computes the real one.
    digest_credentials good(const digest_server& server, time_point at = t0) const {
        const auto challenges = server.challenge(at);
        digest_credentials c;
        c.username = "pbxuser";
        c.realm = "pbx.local";
        c.nonce = parse_challenge(challenges.front()).value().nonce;
        c.uri = std::string(request_uri);
        c.response = std::string(64, '0');
        c.algorithm_token = "SHA-256";
        c.cnonce = "0a4f113b";
        c.nc = "00000001";
        c.qop = "auth";
        c.opaque = "op";
        return c;
    }

    verify_result verify(const digest_server& server, std::string_view value, time_point at = t0,
                         std::string_view method = "INVITE") const {
        const std::string_view values[] = {value};
        return server.verify(values, method, request_uri, at);
    }

    in_memory_credential_store store_;
};

void expect_failure(const verify_result& r, failure reason, std::string_view detail_part = {}) {
    EXPECT_EQ(r.status, verify_status::failed) << r.detail;
    ASSERT_TRUE(r.reason.has_value()) << r.detail;
    EXPECT_EQ(*r.reason, reason) << to_string(*r.reason) << ": " << r.detail;
    EXPECT_FALSE(r.authenticated());
    EXPECT_FALSE(r.detail.empty());
    if (!detail_part.empty()) {
        EXPECT_NE(r.detail.find(detail_part), std::string::npos) << r.detail;
    }
}

// --- challenges ---------------------------------------------------------------------------

TEST_F(digest_server_test, challenge_values_follow_configured_order) {
    digest_server server(make_config(), store_,
                         std::make_unique<test::fake_nonce_service>("NONCE"));
    EXPECT_EQ(
        server.challenge(t0),
        (std::vector<std::string>{
            R"(Digest realm="pbx.local", nonce="NONCE", opaque="op", algorithm=SHA-256, qop="auth")",
            R"(Digest realm="pbx.local", nonce="NONCE", opaque="op", algorithm=MD5, qop="auth")",
        }));
}

TEST_F(digest_server_test, md5_first_for_clients_that_read_only_the_first_challenge) {
    digest_server server(make_config({algorithm::md5, algorithm::sha256}), store_,
                         std::make_unique<test::fake_nonce_service>("NONCE"));
    const auto values = server.challenge(t0);
    ASSERT_EQ(values.size(), 2u);
    EXPECT_EQ(values[0],
              R"(Digest realm="pbx.local", nonce="NONCE", opaque="op", algorithm=MD5, qop="auth")");
    EXPECT_NE(values[1].find("algorithm=SHA-256"), std::string::npos);
}

TEST_F(digest_server_test, stale_challenge_carries_stale_true) {
    digest_server server(make_config({algorithm::md5}), store_,
                         std::make_unique<test::fake_nonce_service>("NONCE"));
    EXPECT_EQ(server.challenge(t0, true),
              (std::vector<std::string>{R"(Digest realm="pbx.local", nonce="NONCE", opaque="op", )"
                                        R"(algorithm=MD5, qop="auth", stale=true)"}));
}

TEST_F(digest_server_test, real_challenges_share_one_fresh_nonce) {
    digest_server server(make_config({algorithm::sha512_256, algorithm::sha256, algorithm::md5}),
                         store_);
    const auto values = server.challenge(t0);
    ASSERT_EQ(values.size(), 3u);
    std::set<std::string> nonces;
    for (const auto& v : values) {
        auto c = parse_challenge(v);
        ASSERT_TRUE(c) << v;
        EXPECT_EQ(c.value().realm, "pbx.local");
        EXPECT_EQ(c.value().opaque, "op");
        EXPECT_EQ(c.value().qop, (std::vector<std::string>{"auth"}));
        nonces.insert(c.value().nonce);
    }
    EXPECT_EQ(nonces.size(), 1u);
    EXPECT_NE(server.challenge(t0).front(), values.front()) << "each challenge has a new nonce";
}

TEST_F(digest_server_test, random_opaque_when_not_configured) {
    server_config c = make_config();
    c.opaque.clear();
    digest_server a(c, store_);
    digest_server b(c, store_);
    EXPECT_EQ(a.opaque().size(), 32u);
    EXPECT_NE(a.opaque(), b.opaque());
}

TEST_F(digest_server_test, bad_config_throws) {
    server_config empty_realm = make_config();
    empty_realm.realm.clear();
    EXPECT_THROW(digest_server(empty_realm, store_), std::invalid_argument);
    EXPECT_THROW(digest_server(make_config({}), store_), std::invalid_argument);
    EXPECT_THROW(digest_server(make_config({algorithm::md5, algorithm::md5}), store_),
                 std::invalid_argument);
    EXPECT_THROW(digest_server(make_config({algorithm::md5_sess}), store_), std::invalid_argument);
    server_config crlf = make_config();
    crlf.realm = "pbx\r\nX-Evil: 1";
    EXPECT_THROW(digest_server(crlf, store_), std::invalid_argument);
    server_config bad_ttl = make_config();
    bad_ttl.nonce.ttl = seconds{0};
    EXPECT_THROW(digest_server(bad_ttl, store_), std::invalid_argument);
}

// --- success paths ------------------------------------------------------------------------

TEST_F(digest_server_test, accepts_client_answers_for_every_offered_algorithm) {
    digest_server server(make_config({algorithm::sha512_256, algorithm::sha256, algorithm::md5}),
                         store_);
    for (const std::string& challenge : server.challenge(t0)) {
        const std::string_view one[] = {challenge};
        const auto chosen = select_challenge(one);
        ASSERT_TRUE(chosen);
        const std::string value = make_authorization(
            chosen.value(), {"pbxuser", std::string(password)}, "INVITE", request_uri, 1, "c0ffee");
        const auto r = verify(server, value, t0 + seconds{10});
        EXPECT_TRUE(r.authenticated()) << challenge << " -> " << r.detail;
        EXPECT_EQ(r.status, verify_status::authenticated);
        EXPECT_EQ(r.username, "pbxuser");
        EXPECT_EQ(r.alg, chosen.value().alg);
        EXPECT_FALSE(r.reason);
        EXPECT_FALSE(r.stale());
    }
}

TEST_F(digest_server_test, accepts_rfc2069_form_without_qop) {
    digest_server server(make_config({algorithm::md5}), store_);
    digest_credentials c = good(server);
    c.algorithm_token.clear();  // absent means MD5
    c.qop.reset();
    c.cnonce.clear();
    c.nc.clear();
    const auto r = verify(server, sign(c, password));
    EXPECT_TRUE(r.authenticated()) << r.detail;
    EXPECT_EQ(r.alg, algorithm::md5);
}

TEST_F(digest_server_test, accepts_upper_case_response_and_qop) {
    digest_server server(make_config(), store_);
    digest_credentials c = good(server);
    c.qop = "AUTH";
    auto parsed = parse_credentials(sign(c, password)).value();
    for (char& ch : parsed.response)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    EXPECT_TRUE(verify(server, to_header_value(parsed)).authenticated());
}

TEST_F(digest_server_test, accepts_sip_uri_differing_only_in_scheme_and_host_case) {
    digest_server server(make_config(), store_);
    digest_credentials c = good(server);
    c.uri = "SIP:1000@127.0.0.1:5070";
    EXPECT_TRUE(verify(server, sign(c, password)).authenticated());
}

TEST_F(digest_server_test, accepts_precomputed_ha1_users) {
    user_credentials u;
    u.username = "hashed";
    u.ha1[algorithm::sha256] = compute_ha1(algorithm::sha256, "hashed", "pbx.local", "pw2");
    store_.set_user(u);
    digest_server server(make_config(), store_);
    digest_credentials c = good(server);
    c.username = "hashed";
    EXPECT_TRUE(verify(server, sign(c, "pw2")).authenticated());
    expect_failure(verify(server, sign(c, "other")), failure::wrong_password);
}

TEST_F(digest_server_test, accepts_any_range_of_strings) {
    digest_server server(make_config(), store_);
    const std::vector<std::string> values{sign(good(server), password)};
    EXPECT_TRUE(server.verify(values, "INVITE", request_uri, t0).authenticated());
}

TEST_F(digest_server_test, store_changes_apply_immediately) {
    digest_server server(make_config(), store_);
    const std::string value = sign(good(server), password);
    EXPECT_TRUE(verify(server, value).authenticated());
    store_.remove_user("pbxuser");
    expect_failure(verify(server, value), failure::unknown_user);
}

// --- no credentials -----------------------------------------------------------------------

TEST_F(digest_server_test, no_digest_credentials_means_challenge) {
    digest_server server(make_config(), store_);
    const auto none = server.verify(std::span<const std::string_view>{}, "INVITE", request_uri, t0);
    EXPECT_EQ(none.status, verify_status::missing);
    EXPECT_FALSE(none.reason);
    EXPECT_FALSE(none.stale());
    const auto basic = verify(server, "Basic cGJ4dXNlcjpwdw==");
    EXPECT_EQ(basic.status, verify_status::missing);
    EXPECT_FALSE(basic.reason);
}

// --- each downstream failure --------------------------------------------------------------

TEST_F(digest_server_test, malformed_credentials) {
    digest_server server(make_config(), store_);
    const digest_credentials base = good(server);
    for (auto drop :
         {&digest_credentials::username, &digest_credentials::nonce, &digest_credentials::uri}) {
        digest_credentials c = base;
        c.*drop = "";
        expect_failure(verify(server, sign(c, password)), failure::malformed_credentials,
                       "missing");
    }
    digest_credentials no_response = base;
    no_response.response.clear();
    expect_failure(verify(server, to_header_value(no_response)), failure::malformed_credentials,
                   "missing response");
    digest_credentials no_realm = base;
    no_realm.realm.clear();
    expect_failure(verify(server, sign(no_realm, password)), failure::malformed_credentials,
                   "realm");
    digest_credentials no_cnonce = base;
    no_cnonce.cnonce.clear();
    expect_failure(verify(server, sign(no_cnonce, password)), failure::malformed_credentials,
                   "cnonce");
    digest_credentials no_nc = base;
    no_nc.nc.clear();
    expect_failure(verify(server, sign(no_nc, password)), failure::malformed_credentials, "nc");
    for (const char* nc : {"1", "0000001", "000000001", "0000000g", "0x000001"}) {
        digest_credentials c = base;
        c.nc = nc;
        expect_failure(verify(server, sign(c, password)), failure::malformed_credentials, "nc");
    }
    digest_credentials bad_qop = base;
    bad_qop.qop = "bogus";
    expect_failure(verify(server, sign(bad_qop, password)), failure::malformed_credentials, "qop");
    expect_failure(verify(server, R"(Digest username="pbxuser", realm="pbx.local)"),
                   failure::malformed_credentials);
    expect_failure(verify(server, R"(Digest username="a", username="b", realm="pbx.local")"),
                   failure::malformed_credentials, "duplicate");
    expect_failure(verify(server, "Digest"), failure::malformed_credentials);
    expect_failure(verify(server, ""), failure::malformed_credentials);
}

TEST_F(digest_server_test, realm_mismatch) {
    digest_server server(make_config(), store_);
    digest_credentials c = good(server);
    c.realm = "other.example";
    const auto r = verify(server, sign(c, password));
    expect_failure(r, failure::realm_mismatch, "'other.example'");
    EXPECT_NE(r.detail.find("'pbx.local'"), std::string::npos);
    // Realms compare exactly.
    c.realm = "PBX.local";
    expect_failure(verify(server, sign(c, password)), failure::realm_mismatch);
}

TEST_F(digest_server_test, unsupported_algorithm) {
    digest_server server(make_config(), store_);  // offers SHA-256 and MD5
    const digest_credentials base = good(server);

    digest_credentials sha1 = base;
    sha1.algorithm_token = "SHA-1";
    expect_failure(verify(server, to_header_value(sha1)), failure::unsupported_algorithm,
                   "unknown algorithm 'SHA-1'");

    digest_credentials sess = base;
    sess.algorithm_token = "MD5-sess";
    expect_failure(verify(server, sign(sess, password)), failure::unsupported_algorithm,
                   "MD5-sess");

    digest_credentials not_offered = base;
    not_offered.algorithm_token = "SHA-512-256";
    expect_failure(verify(server, sign(not_offered, password)), failure::unsupported_algorithm,
                   "not offered");

    digest_credentials auth_int = base;
    auth_int.qop = "auth-int";
    expect_failure(verify(server, sign(auth_int, password)), failure::unsupported_algorithm,
                   "auth-int");

    digest_server sha_only(make_config({algorithm::sha256}), store_);
    digest_credentials default_md5 = good(sha_only);
    default_md5.algorithm_token.clear();
    expect_failure(verify(sha_only, sign(default_md5, password)), failure::unsupported_algorithm,
                   "no algorithm parameter");
}

TEST_F(digest_server_test, unsupported_algorithm_when_user_lacks_ha1_for_it) {
    user_credentials u;
    u.username = "md5only";
    u.ha1[algorithm::md5] = compute_ha1(algorithm::md5, "md5only", "pbx.local", "pw");
    store_.set_user(u);
    digest_server server(make_config(), store_);
    digest_credentials c = good(server);
    c.username = "md5only";
    expect_failure(verify(server, sign(c, "pw")), failure::unsupported_algorithm,
                   "user md5only has neither a password nor an HA1 for SHA-256");
    c.algorithm_token = "MD5";
    EXPECT_TRUE(verify(server, sign(c, "pw")).authenticated());
}

TEST_F(digest_server_test, invalid_nonce) {
    digest_server server(make_config(), store_);
    digest_credentials tampered = good(server);
    tampered.nonce[5] = tampered.nonce[5] == 'A' ? 'B' : 'A';
    expect_failure(verify(server, sign(tampered, password)), failure::invalid_nonce);

    server_config other_secret = make_config();
    other_secret.nonce.secret = "another-secret-another-secret!!";
    digest_server other(other_secret, store_);
    expect_failure(verify(server, sign(good(other), password)), failure::invalid_nonce);

    digest_credentials made_up = good(server);
    made_up.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
    expect_failure(verify(server, sign(made_up, password)), failure::invalid_nonce);

    digest_credentials wrong_opaque = good(server);
    wrong_opaque.opaque = "not-op";
    expect_failure(verify(server, sign(wrong_opaque, password)), failure::invalid_nonce, "opaque");

    digest_credentials empty_opaque = good(server);
    empty_opaque.opaque = "";
    expect_failure(verify(server, sign(empty_opaque, password)), failure::invalid_nonce, "opaque");

    digest_credentials no_opaque = good(server);
    no_opaque.opaque.reset();  // clients may leave it out
    EXPECT_TRUE(verify(server, sign(no_opaque, password)).authenticated());
}

TEST_F(digest_server_test, stale_nonce_asks_for_stale_challenge) {
    digest_server server(make_config(), store_);
    const std::string value = sign(good(server, t0), password);
    EXPECT_TRUE(verify(server, value, t0 + seconds{300}).authenticated());
    const auto r = verify(server, value, t0 + seconds{301});
    expect_failure(r, failure::stale_nonce);
    EXPECT_TRUE(r.stale());
    EXPECT_EQ(r.username, "pbxuser");
    // Issued "in the future" (clock stepped back) beyond the allowed skew.
    const std::string future = sign(good(server, t0 + seconds{60}), password);
    const auto f = verify(server, future, t0);
    expect_failure(f, failure::stale_nonce);
    EXPECT_TRUE(f.stale());
}

TEST_F(digest_server_test, unknown_user) {
    digest_server server(make_config(), store_);
    digest_credentials c = good(server);
    c.username = "intruder";
    const auto r = verify(server, sign(c, password));
    expect_failure(r, failure::unknown_user, "'intruder'");
    EXPECT_EQ(r.username, "intruder");
    digest_credentials hashed = good(server);
    hashed.username = compute_userhash(algorithm::sha256, "pbxuser", "pbx.local");
    hashed.userhash = true;
    expect_failure(verify(server, to_header_value(hashed)), failure::unknown_user, "userhash");
}

TEST_F(digest_server_test, details_do_not_carry_control_characters) {
    digest_server server(make_config(), store_);
    // quoted-pair can smuggle any byte but CR/LF into a value (RFC 3261 §25.1).
    digest_credentials c = good(server);
    c.username = "evil\x1b[2J";
    const std::string value = sign(c, password);
    EXPECT_NE(value.find("\\\x1b"), std::string::npos) << "escaped as a quoted-pair";
    const auto r = verify(server, value);
    expect_failure(r, failure::unknown_user, "'evil?[2J'");
    EXPECT_EQ(r.detail.find('\x1b'), std::string::npos) << r.detail;
    EXPECT_EQ(r.username, "evil\x1b[2J") << "the raw claimed name is still available";
}

TEST_F(digest_server_test, uri_mismatch) {
    digest_server server(make_config(), store_);
    digest_credentials c = good(server);
    c.uri = "sip:1001@127.0.0.1:5070";
    expect_failure(verify(server, sign(c, password)), failure::uri_mismatch,
                   "'sip:1001@127.0.0.1:5070'");
    // SIPp's default digest uri (no -auth_uri) is remote_ip:port, not the Request-URI.
    c.uri = "sip:127.0.0.1:5070";
    expect_failure(verify(server, sign(c, password)), failure::uri_mismatch);
}

TEST_F(digest_server_test, wrong_password_detail_names_user_and_algorithm_only) {
    digest_server server(make_config({algorithm::md5}), store_);
    digest_credentials c = good(server);
    c.algorithm_token = "MD5";
    const auto r = verify(server, sign(c, "Secret-43"));
    expect_failure(r, failure::wrong_password);
    EXPECT_EQ(r.detail, "response mismatch for user pbxuser (algorithm MD5)");
    EXPECT_EQ(r.alg, algorithm::md5);
    EXPECT_EQ(r.detail.find(password), std::string::npos);
}

TEST_F(digest_server_test, wrong_method_or_tampered_fields_fail_the_response) {
    digest_server server(make_config(), store_);
    const std::string value = sign(good(server), password, "INVITE");
    expect_failure(verify(server, value, t0, "REGISTER"), failure::wrong_password);
    auto parsed = parse_credentials(value).value();
    parsed.cnonce = "different";
    expect_failure(verify(server, to_header_value(parsed)), failure::wrong_password);
    parsed = parse_credentials(value).value();
    parsed.nc = "00000002";
    expect_failure(verify(server, to_header_value(parsed)), failure::wrong_password);
    parsed = parse_credentials(value).value();
    parsed.response = parsed.response.substr(1);
    expect_failure(verify(server, to_header_value(parsed)), failure::wrong_password);
}

// One concrete bad answer per reason, collected: the set must be exactly the downstream set.
TEST_F(digest_server_test, every_downstream_failure_is_reachable) {
    digest_server server(make_config(), store_);
    std::set<failure> seen;
    auto record = [&](const verify_result& r) {
        ASSERT_TRUE(r.reason) << r.detail;
        seen.insert(*r.reason);
    };
    digest_credentials c = good(server);
    record(verify(server, sign(c, password), t0 + seconds{1000}));  // stale
    c = good(server);
    c.username = "nobody";
    record(verify(server, sign(c, password)));
    c = good(server);
    record(verify(server, sign(c, "nope")));
    c = good(server);
    c.nonce = "x";
    record(verify(server, sign(c, password)));
    c = good(server);
    c.realm = "elsewhere";
    record(verify(server, sign(c, password)));
    c = good(server);
    c.uri = "sip:elsewhere";
    record(verify(server, sign(c, password)));
    c = good(server);
    c.algorithm_token = "SHA-1";
    record(verify(server, to_header_value(c)));
    record(verify(server, "Digest username=\"pbxuser\""));
    const auto down = downstream_failures();
    std::set<failure> expected(down.begin(), down.end());
    // Not verify's to find: replays need nc tracking, unanswered challenges a per-source count.
    expected.erase(failure::replayed_nonce);
    expected.erase(failure::challenge_unanswered);
    EXPECT_EQ(seen, expected);
}

// --- check order --------------------------------------------------------------------------

TEST_F(digest_server_test, checks_run_in_the_documented_order) {
    digest_server server(make_config(), store_);
    // malformed before realm
    digest_credentials c = good(server);
    c.realm = "elsewhere";
    c.nc = "1";
    expect_failure(verify(server, sign(c, password)), failure::malformed_credentials);
    // realm before algorithm
    c = good(server);
    c.realm = "elsewhere";
    c.algorithm_token = "SHA-1";
    expect_failure(verify(server, to_header_value(c)), failure::realm_mismatch);
    // algorithm before nonce
    c = good(server);
    c.algorithm_token = "SHA-1";
    c.nonce = "forged";
    expect_failure(verify(server, to_header_value(c)), failure::unsupported_algorithm);
    // nonce signature before opaque before age
    c = good(server);
    c.nonce = "forged";
    c.opaque = "bad";
    expect_failure(verify(server, sign(c, password), t0 + seconds{1000}), failure::invalid_nonce,
                   "nonce was not issued");
    c = good(server);
    c.opaque = "bad";
    expect_failure(verify(server, sign(c, password), t0 + seconds{1000}), failure::invalid_nonce,
                   "opaque");
    // age before user
    c = good(server);
    c.username = "nobody";
    expect_failure(verify(server, sign(c, password), t0 + seconds{1000}), failure::stale_nonce);
    // user before uri
    c = good(server);
    c.username = "nobody";
    c.uri = "sip:elsewhere";
    expect_failure(verify(server, sign(c, password)), failure::unknown_user);
    // uri before response
    c = good(server);
    c.uri = "sip:elsewhere";
    expect_failure(verify(server, sign(c, "wrong")), failure::uri_mismatch);
}

// --- several credentials headers (RFC 3261 §22.3) -----------------------------------------

TEST_F(digest_server_test, picks_our_realm_among_several_headers) {
    digest_server server(make_config(), store_);
    digest_credentials theirs = good(server);
    theirs.realm = "upstream.example";
    const std::string other = sign(theirs, "their-password");
    const std::string ours = sign(good(server), password);
    for (const auto& values :
         {std::vector<std::string>{other, ours}, std::vector<std::string>{ours, other},
          std::vector<std::string>{"Basic abc", other, ours},
          std::vector<std::string>{"Digest garbage=\"", ours}}) {
        const auto r = server.verify(values, "INVITE", request_uri, t0);
        EXPECT_TRUE(r.authenticated()) << r.detail;
    }
}

TEST_F(digest_server_test, several_headers_none_for_our_realm) {
    digest_server server(make_config(), store_);
    digest_credentials a = good(server);
    a.realm = "one.example";
    digest_credentials b = good(server);
    b.realm = "two.example";
    const std::vector<std::string> values{sign(a, password), sign(b, password)};
    const auto r = server.verify(values, "INVITE", request_uri, t0);
    expect_failure(r, failure::realm_mismatch, "'one.example'");
    const std::vector<std::string> with_garbage{"Digest garbage=\"", sign(a, password)};
    expect_failure(server.verify(with_garbage, "INVITE", request_uri, t0),
                   failure::malformed_credentials);
}

TEST_F(digest_server_test, first_header_for_our_realm_decides) {
    digest_server server(make_config(), store_);
    const std::vector<std::string> values{sign(good(server), "wrong"),
                                          sign(good(server), password)};
    expect_failure(server.verify(values, "INVITE", request_uri, t0), failure::wrong_password);
}

}  // namespace
}  // namespace b2b::auth
