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
// The PBX's address: nonces are issued to it and checked against it.
const boost::asio::ip::address pbx = boost::asio::ip::make_address("192.0.2.10");

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
    digest_credentials good(digest_server& server, time_point at = t0) const {
        const auto challenges = server.challenge(pbx, at);
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

    verify_result verify(digest_server& server, std::string_view value, time_point at = t0,
                         std::string_view method = "INVITE") const {
        const std::string_view values[] = {value};
        return server.verify(values, method, request_uri, pbx, at);
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
        server.challenge(pbx, t0),
        (std::vector<std::string>{
            R"(Digest realm="pbx.local", nonce="NONCE", opaque="op", algorithm=SHA-256, qop="auth")",
            R"(Digest realm="pbx.local", nonce="NONCE", opaque="op", algorithm=MD5, qop="auth")",
        }));
}

TEST_F(digest_server_test, md5_first_for_clients_that_read_only_the_first_challenge) {
    digest_server server(make_config({algorithm::md5, algorithm::sha256}), store_,
                         std::make_unique<test::fake_nonce_service>("NONCE"));
    const auto values = server.challenge(pbx, t0);
    ASSERT_EQ(values.size(), 2u);
    EXPECT_EQ(values[0],
              R"(Digest realm="pbx.local", nonce="NONCE", opaque="op", algorithm=MD5, qop="auth")");
    EXPECT_NE(values[1].find("algorithm=SHA-256"), std::string::npos);
}

TEST_F(digest_server_test, stale_challenge_carries_stale_true) {
    digest_server server(make_config({algorithm::md5}), store_,
                         std::make_unique<test::fake_nonce_service>("NONCE"));
    EXPECT_EQ(server.challenge(pbx, t0, true),
              (std::vector<std::string>{R"(Digest realm="pbx.local", nonce="NONCE", opaque="op", )"
                                        R"(algorithm=MD5, qop="auth", stale=true)"}));
}

TEST_F(digest_server_test, real_challenges_share_one_fresh_nonce) {
    digest_server server(make_config({algorithm::sha512_256, algorithm::sha256, algorithm::md5}),
                         store_);
    const auto values = server.challenge(pbx, t0);
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
    EXPECT_NE(server.challenge(pbx, t0).front(), values.front()) << "each challenge has a new nonce";
}

TEST_F(digest_server_test, random_opaque_when_neither_it_nor_a_secret_is_configured) {
    server_config c = make_config();
    c.opaque.clear();
    c.nonce.secret.clear();
    digest_server a(c, store_);
    digest_server b(c, store_);
    EXPECT_EQ(a.opaque().size(), 32u);
    EXPECT_NE(a.opaque(), b.opaque());
}

TEST_F(digest_server_test, servers_sharing_a_secret_share_the_opaque_and_accept_each_others_nonces) {
    // The workers of one process (or a restart with nonce_secret configured).
    server_config c = make_config();
    c.opaque.clear();
    digest_server a(c, store_);
    digest_server b(c, store_);
    EXPECT_EQ(a.opaque().size(), 32u);
    EXPECT_EQ(a.opaque(), b.opaque());
    EXPECT_EQ(a.opaque().find(c.nonce.secret), std::string::npos);
    server_config other = c;
    other.nonce.secret = "another-secret-another-secret";
    EXPECT_NE(digest_server(other, store_).opaque(), a.opaque());
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
    server_config no_sources = make_config();
    no_sources.algorithms_for.push_back({{}, {algorithm::md5}});
    EXPECT_THROW(digest_server(no_sources, store_), std::invalid_argument);
    server_config no_algorithms = make_config();
    no_algorithms.algorithms_for.push_back({{*ip_network::parse("10.0.0.0/8")}, {}});
    EXPECT_THROW(digest_server(no_algorithms, store_), std::invalid_argument);
    server_config twice = make_config();
    twice.algorithms_for.push_back(
        {{*ip_network::parse("10.0.0.0/8")}, {algorithm::sha256, algorithm::sha256}});
    EXPECT_THROW(digest_server(twice, store_), std::invalid_argument);
}

TEST_F(digest_server_test, default_offer_is_md5_only) {
    // baresip 1.0.0 and SIPp 3.6.1 give up silently when SHA-256 is offered at all.
    server_config cfg;
    cfg.realm = "pbx.local";
    digest_server server(cfg, store_);
    const auto values = server.challenge(pbx, t0);
    ASSERT_EQ(values.size(), 1u);
    EXPECT_EQ(parse_challenge(values.front()).value().algorithm_token, "MD5");
}

// --- per-source algorithms ------------------------------------------------------------------

class algorithms_for_test : public digest_server_test {
  protected:
    server_config config() const {
        server_config cfg = make_config({algorithm::md5});
        cfg.algorithms_for.push_back({{*ip_network::parse("10.0.0.0/8"), *ip_network::parse("::1")},
                                      {algorithm::sha256, algorithm::md5}});
        cfg.algorithms_for.push_back({{*ip_network::parse("10.1.0.0/16")}, {algorithm::sha512_256}});
        return cfg;
    }
    static std::vector<std::string> offered(const std::vector<std::string>& values) {
        std::vector<std::string> out;
        for (const auto& v : values) out.push_back(parse_challenge(v).value().algorithm_token);
        return out;
    }
};

TEST_F(algorithms_for_test, first_matching_rule_picks_the_offer) {
    digest_server server(config(), store_);
    using names = std::vector<std::string>;
    const auto at = [](const char* a) { return boost::asio::ip::make_address(a); };
    EXPECT_EQ(offered(server.challenge(at("10.9.9.9"), t0)), (names{"SHA-256", "MD5"}));
    // 10.1.2.3 is in both rules: the first one listed wins.
    EXPECT_EQ(offered(server.challenge(at("10.1.2.3"), t0)), (names{"SHA-256", "MD5"}));
    EXPECT_EQ(offered(server.challenge(at("::1"), t0)), (names{"SHA-256", "MD5"}));
    EXPECT_EQ(offered(server.challenge(at("::ffff:10.0.0.1"), t0)), (names{"SHA-256", "MD5"}));
    EXPECT_EQ(offered(server.challenge(at("192.0.2.10"), t0)), (names{"MD5"}));
    EXPECT_EQ(offered(server.challenge(at("::2"), t0)), (names{"MD5"}));
}

TEST_F(algorithms_for_test, verify_accepts_only_what_was_offered_to_the_source) {
    digest_server server(config(), store_);
    const auto lan = boost::asio::ip::make_address("10.2.3.4");
    // SHA-256 answers from a source offered SHA-256 pass, from one offered MD5 only they do not.
    digest_credentials c = good(server);  // issued to pbx (192.0.2.10), SHA-256
    expect_failure(verify(server, sign(c, password)), failure::unsupported_algorithm,
                   "was not offered to 192.0.2.10 (offered: MD5)");
    const auto lan_challenge = parse_challenge(server.challenge(lan, t0).front()).value();
    c.nonce = lan_challenge.nonce;
    const std::string answer = sign(c, password);
    const std::string_view value[] = {answer};
    const auto r = server.verify(value, "INVITE", request_uri, lan, t0);
    EXPECT_TRUE(r.authenticated()) << r.detail;
    EXPECT_EQ(r.alg, algorithm::sha256);
}

// --- replays and nonce counts (RFC 7616 §3.4, §5.5) ---------------------------------------

TEST_F(digest_server_test, the_same_answer_twice_is_a_replay) {
    digest_server server(make_config(), store_);
    const std::string value = sign(good(server), password);
    EXPECT_TRUE(verify(server, value).authenticated());
    const auto again = verify(server, value, t0 + seconds{5});
    expect_failure(again, failure::replayed_nonce, "nc 00000001 is not above");
    EXPECT_FALSE(again.stale()) << "a replay must not be invited to retry silently";
    EXPECT_TRUE(again.answered_our_nonce);
}

TEST_F(digest_server_test, increasing_nc_on_one_nonce_is_accepted) {
    digest_server server(make_config(), store_);
    digest_credentials c = good(server);
    for (const char* nc : {"00000001", "00000002", "0000000a", "0000000B"}) {
        c.nc = nc;
        EXPECT_TRUE(verify(server, sign(c, password)).authenticated()) << nc;
    }
    c.nc = "00000009";
    expect_failure(verify(server, sign(c, password)), failure::replayed_nonce);
}

TEST_F(digest_server_test, a_wrong_password_is_never_a_replay_and_does_not_burn_the_nc) {
    digest_server server(make_config(), store_);
    const digest_credentials c = good(server);
    expect_failure(verify(server, sign(c, "wrong")), failure::wrong_password);
    // The attacker's failed try did not use up nc 1 of the real client.
    EXPECT_TRUE(verify(server, sign(c, password)).authenticated());
    expect_failure(verify(server, sign(c, "wrong")), failure::wrong_password);
}

TEST_F(digest_server_test, without_qop_a_nonce_is_single_use) {
    server_config config = make_config({algorithm::md5});
    config.allow_rfc2069 = true;
    digest_server server(std::move(config), store_);
    digest_credentials c = good(server);
    c.algorithm_token.clear();
    c.qop.reset();
    c.cnonce.clear();
    c.nc.clear();
    const std::string value = sign(c, password);
    EXPECT_TRUE(verify(server, value).authenticated());
    expect_failure(verify(server, value), failure::replayed_nonce, "without qop");
}

TEST_F(digest_server_test, an_answer_from_another_address_is_a_replay_naming_both) {
    digest_server server(make_config(), store_);
    const std::string value = sign(good(server), password);  // nonce issued to pbx
    const std::string_view values[] = {value};
    const auto thief = boost::asio::ip::make_address("198.51.100.7");
    const auto r = server.verify(values, "INVITE", request_uri, thief, t0);
    expect_failure(r, failure::replayed_nonce, "issued to 192.0.2.10 presented from 198.51.100.7");
    EXPECT_FALSE(r.stale());
    // Not even its first use: the rightful client still can.
    EXPECT_TRUE(verify(server, value).authenticated());
    // Another port from the same address is the same source (NAT, TCP reconnects).
    const std::string wrong = sign(good(server), "guess");
    const std::string_view wrong_values[] = {wrong};
    expect_failure(server.verify(wrong_values, "INVITE", request_uri, thief, t0),
                   failure::wrong_password);
}

TEST_F(digest_server_test, an_evicted_nonce_is_stale_for_the_right_password_only) {
    server_config cfg = make_config();
    cfg.nonce.tracked_nonces = 2;
    digest_server server(cfg, store_);
    const digest_credentials c = good(server);
    server.challenge(pbx, t0);
    server.challenge(pbx, t0);  // c's nonce lost its slot
    expect_failure(verify(server, sign(c, "wrong")), failure::wrong_password);
    const auto r = verify(server, sign(c, password));
    expect_failure(r, failure::stale_nonce, "no longer tracked");
    EXPECT_TRUE(r.stale());
}

TEST_F(digest_server_test, an_expired_nonce_with_a_wrong_password_is_a_wrong_password) {
    digest_server server(make_config(), store_);
    const digest_credentials c = good(server);
    const auto wrong = verify(server, sign(c, "wrong"), t0 + seconds{1000});
    expect_failure(wrong, failure::wrong_password);
    EXPECT_FALSE(wrong.stale());
    EXPECT_TRUE(verify(server, sign(c, password), t0 + seconds{1000}).stale());
}

TEST_F(digest_server_test, answered_our_nonce_tells_answers_from_other_requests) {
    digest_server server(make_config(), store_);
    EXPECT_FALSE(
        server.verify(std::span<const std::string_view>{}, "INVITE", request_uri, pbx, t0)
            .answered_our_nonce);
    digest_credentials forged = good(server);
    forged.nonce = "forged";
    EXPECT_FALSE(verify(server, sign(forged, password)).answered_our_nonce);
    EXPECT_TRUE(verify(server, sign(good(server), "wrong")).answered_our_nonce);
    EXPECT_TRUE(verify(server, sign(good(server), password)).answered_our_nonce);
    EXPECT_TRUE(verify(server, sign(good(server), password), t0 + seconds{1000}).answered_our_nonce);
}

// --- success paths ------------------------------------------------------------------------

TEST_F(digest_server_test, accepts_client_answers_for_every_offered_algorithm) {
    digest_server server(make_config({algorithm::sha512_256, algorithm::sha256, algorithm::md5}),
                         store_);
    // The challenges share one nonce, so the client counts on across them (RFC 7616 §3.4).
    std::uint32_t nc = 0;
    for (const std::string& challenge : server.challenge(pbx, t0)) {
        const std::string_view one[] = {challenge};
        const auto chosen = select_challenge(one);
        ASSERT_TRUE(chosen);
        const std::string value = make_authorization(
            chosen.value(), {"pbxuser", std::string(password)}, "INVITE", request_uri, ++nc,
            "c0ffee");
        const auto r = verify(server, value, t0 + seconds{10});
        EXPECT_TRUE(r.authenticated()) << challenge << " -> " << r.detail;
        EXPECT_EQ(r.status, verify_status::authenticated);
        EXPECT_EQ(r.username, "pbxuser");
        EXPECT_EQ(r.alg, chosen.value().alg);
        EXPECT_FALSE(r.reason);
        EXPECT_FALSE(r.stale());
    }
}

TEST_F(digest_server_test, refuses_rfc2069_form_without_qop_by_default) {
    digest_server server(make_config({algorithm::md5}), store_);
    digest_credentials c = good(server);
    c.algorithm_token.clear();
    c.qop.reset();
    c.cnonce.clear();
    c.nc.clear();
    // The right password does not help: the answer has no nc, so nothing but single use stops
    // a capture of it, and we offered qop=auth.
    const auto r = verify(server, sign(c, password));
    expect_failure(r, failure::qop_missing, "without qop (RFC 2069)");
    EXPECT_FALSE(r.stale());
    EXPECT_TRUE(r.answered_our_nonce);
    // Refused before the user is looked up: an unknown user gets the same verdict.
    c.username = "nobody";
    expect_failure(verify(server, sign(c, password)), failure::qop_missing);
}

TEST_F(digest_server_test, accepts_rfc2069_form_without_qop_when_allowed) {
    server_config config = make_config({algorithm::md5});
    config.allow_rfc2069 = true;
    digest_server server(std::move(config), store_);
    digest_credentials c = good(server);
    c.algorithm_token.clear();  // absent means MD5
    c.qop.reset();
    c.cnonce.clear();
    c.nc.clear();
    const auto r = verify(server, sign(c, password));
    EXPECT_TRUE(r.authenticated()) << r.detail;
    EXPECT_EQ(r.alg, algorithm::md5);
}

// A flood of challenges (each issues a nonce and takes a slot of the nc table) between a
// PBX's challenge and its answer cannot make the PBX fail: its answer is stale at worst (the
// RFC 7616 §3.3 silent retry), and the answer to the next challenge succeeds, however long the
// flood goes on.
TEST_F(digest_server_test, a_challenge_flood_filling_the_nonce_table_cannot_make_a_right_answer_fail) {
    server_config config = make_config({algorithm::md5});
    config.nonce.tracked_nonces = 64;
    digest_server server(std::move(config), store_);
    const auto attacker = boost::asio::ip::make_address("203.0.113.66");
    const auto challenged = [&] {
        digest_credentials c = good(server);
        c.algorithm_token = "MD5";
        return c;
    };
    std::size_t stale_rounds = 0;
    for (int round = 0; round < 20; ++round) {
        digest_credentials c = challenged();  // the PBX's challenge
        // Between challenge and answer, from 0 to 10x the table's size of spoofed challenges.
        for (int i = 0; i < round * 32; ++i) (void)server.challenge(attacker, t0);
        auto r = verify(server, sign(c, password));
        if (!r.authenticated()) {
            // The only failure the flood may cause: stale, so the PBX retries silently.
            ASSERT_EQ(r.reason, failure::stale_nonce) << "round " << round << ": " << r.detail;
            ASSERT_TRUE(r.stale());
            ++stale_rounds;
            c = challenged();  // the stale=true re-challenge, answered at once
            r = verify(server, sign(c, password));
        }
        ASSERT_TRUE(r.authenticated()) << "round " << round << ": " << r.detail;
    }
    // The flood did evict the PBX's slot: in every round with 64 or more challenges between.
    EXPECT_EQ(stale_rounds, 18U);
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
    EXPECT_TRUE(server.verify(values, "INVITE", request_uri, pbx, t0).authenticated());
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
    const auto none = server.verify(std::span<const std::string_view>{}, "INVITE", request_uri, pbx, t0);
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
    EXPECT_EQ(r.realm, "other.example");  // the realm the client answered for, for hints
    // Realms compare exactly.
    c.realm = "PBX.local";
    expect_failure(verify(server, sign(c, password)), failure::realm_mismatch);
}

TEST_F(digest_server_test, unsupported_algorithm) {
    digest_server server(make_config(), store_);  // offers SHA-256 and MD5
    const digest_credentials base = good(server);

    digest_credentials sha1 = base;
    sha1.algorithm_token = "SHA-1";
    const auto sha1_result = verify(server, to_header_value(sha1));
    expect_failure(sha1_result, failure::unsupported_algorithm, "unknown algorithm 'SHA-1'");
    EXPECT_EQ(sha1_result.algorithm_token, "SHA-1");  // as asked, though no algorithm of ours
    EXPECT_EQ(sha1_result.realm, "pbx.local");

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
    c = good(server);
    c.qop.reset();
    c.cnonce.clear();
    c.nc.clear();
    record(verify(server, sign(c, password)));
    record(verify(server, "Digest username=\"pbxuser\""));
    const auto down = downstream_failures();
    std::set<failure> expected(down.begin(), down.end());
    // Not verify's to find: replays need nc tracking, unanswered challenges a per-source count,
    // a refused source the ingress's source policy.
    expected.erase(failure::replayed_nonce);
    expected.erase(failure::challenge_unanswered);
    expected.erase(failure::source_not_allowed);
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
    // user, uri and response before age: only a correct digest earns stale=true (RFC 7616 §3.3)
    c = good(server);
    c.username = "nobody";
    expect_failure(verify(server, sign(c, password), t0 + seconds{1000}), failure::unknown_user);
    c = good(server);
    c.uri = "sip:elsewhere";
    expect_failure(verify(server, sign(c, password), t0 + seconds{1000}), failure::uri_mismatch);
    c = good(server);
    expect_failure(verify(server, sign(c, "wrong"), t0 + seconds{1000}), failure::wrong_password);
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
    // A fresh answer each time: the same one twice would be a replay.
    auto ours = [&] { return sign(good(server), password); };
    for (const auto& values :
         {std::vector<std::string>{other, ours()}, std::vector<std::string>{ours(), other},
          std::vector<std::string>{"Basic abc", other, ours()},
          std::vector<std::string>{"Digest garbage=\"", ours()}}) {
        const auto r = server.verify(values, "INVITE", request_uri, pbx, t0);
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
    const auto r = server.verify(values, "INVITE", request_uri, pbx, t0);
    expect_failure(r, failure::realm_mismatch, "'one.example'");
    const std::vector<std::string> with_garbage{"Digest garbage=\"", sign(a, password)};
    expect_failure(server.verify(with_garbage, "INVITE", request_uri, pbx, t0),
                   failure::malformed_credentials);
}

TEST_F(digest_server_test, first_header_for_our_realm_decides) {
    digest_server server(make_config(), store_);
    const std::vector<std::string> values{sign(good(server), "wrong"),
                                          sign(good(server), password)};
    expect_failure(server.verify(values, "INVITE", request_uri, pbx, t0), failure::wrong_password);
}

}  // namespace
}  // namespace b2b::auth
