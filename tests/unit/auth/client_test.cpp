// Client side: challenge selection, Authorization values, and the request_authenticator machine.
#include "auth/client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "auth/server.hpp"

namespace b2b::auth {
namespace {

using std::chrono::seconds;
using views = std::vector<std::string_view>;

constexpr std::string_view uri = "sip:+4930123@trunk.example";
const client_credentials account{"trunkuser", "trunkpass"};

std::string challenge(std::string_view alg, std::string_view extra = R"(, qop="auth")",
                      std::string_view nonce = "n1") {
    std::string v =
        R"(Digest realm="trunk.example", nonce=")" + std::string(nonce) + R"(", opaque="xyz")";
    if (!alg.empty()) v += ", algorithm=" + std::string(alg);
    v += extra;
    return v;
}

// --- select_challenge ---------------------------------------------------------------------

TEST(select_challenge, strongest_algorithm_wins_regardless_of_order) {
    const std::string md5 = challenge("MD5"), sha256 = challenge("SHA-256"),
                      sha512 = challenge("SHA-512-256");
    for (const auto& list :
         {views{md5, sha256, sha512}, views{sha512, md5, sha256}, views{sha256, sha512, md5}}) {
        const auto r = select_challenge(list);
        ASSERT_TRUE(r);
        EXPECT_EQ(r.value().alg, algorithm::sha512_256);
        EXPECT_TRUE(r.value().qop_auth);
    }
    const auto two = select_challenge(views{md5, sha256});
    ASSERT_TRUE(two);
    EXPECT_EQ(two.value().alg, algorithm::sha256);
}

TEST(select_challenge, prefers_qop_auth_at_equal_strength) {
    const std::string without = challenge("SHA-256", "", "plain");
    const std::string with = challenge("SHA-256", R"(, qop="auth-int,auth")", "withqop");
    for (const auto& list : {views{without, with}, views{with, without}}) {
        const auto r = select_challenge(list);
        ASSERT_TRUE(r);
        EXPECT_EQ(r.value().challenge.nonce, "withqop");
        EXPECT_TRUE(r.value().qop_auth);
    }
    // But algorithm strength comes first.
    const std::string md5_qop = challenge("MD5");
    const auto r = select_challenge(views{md5_qop, without});
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().alg, algorithm::sha256);
    EXPECT_FALSE(r.value().qop_auth);
}

TEST(select_challenge, first_wins_on_a_tie) {
    const std::string a = challenge("MD5", R"(, qop="auth")", "first");
    const std::string b = challenge("MD5", R"(, qop="auth")", "second");
    EXPECT_EQ(select_challenge(views{a, b}).value().challenge.nonce, "first");
}

TEST(select_challenge, missing_algorithm_means_md5) {
    const auto r = select_challenge(views{challenge("")});
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().alg, algorithm::md5);
}

TEST(select_challenge, skips_unusable_challenges) {
    const std::string sess = challenge("SHA-256-sess");
    const std::string good = challenge("MD5");
    const auto r = select_challenge(views{"Basic realm=\"x\"", sess, "Digest nonsense", good});
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().alg, algorithm::md5);
}

TEST(select_challenge, nothing_usable_is_unsupported_algorithm_with_reasons) {
    auto expect_unsupported = [](const views& list, std::string_view part) {
        const auto r = select_challenge(list);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().reason, failure::unsupported_algorithm);
        EXPECT_NE(r.error().detail.find(part), std::string::npos) << r.error().detail;
    };
    expect_unsupported({}, "no challenge");
    const std::string sha1 = challenge("SHA-1");
    expect_unsupported({sha1}, "unknown algorithm 'SHA-1'");
    const std::string sess = challenge("MD5-sess");
    expect_unsupported({sess}, "MD5-sess not supported");
    const std::string auth_int = challenge("MD5", R"(, qop="auth-int")");
    expect_unsupported({auth_int}, "qop");
    expect_unsupported({"Basic realm=\"x\""}, "non-Digest");
    expect_unsupported({"Digest realm=\"x\""}, "unparseable");
    expect_unsupported({"Digest realm=\"x"}, "unparseable");
    const std::vector<std::string> many(10, sha1);
    const auto r = select_challenge(std::vector<std::string_view>(many.begin(), many.end()));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("and 6 more"), std::string::npos) << r.error().detail;
}

// --- make_authorization -------------------------------------------------------------------

TEST(make_authorization, qop_auth_form) {
    const auto chosen = select_challenge(views{challenge("SHA-256")}).value();
    const std::string v = make_authorization(chosen, account, "INVITE", uri, 1, "cafebabe");
    const auto c = parse_credentials(v).value();
    EXPECT_EQ(c.username, "trunkuser");
    EXPECT_EQ(c.realm, "trunk.example");
    EXPECT_EQ(c.nonce, "n1");
    EXPECT_EQ(c.uri, uri);
    EXPECT_EQ(c.algorithm_token, "SHA-256");
    EXPECT_EQ(c.qop, "auth");
    EXPECT_EQ(c.nc, "00000001");
    EXPECT_EQ(c.cnonce, "cafebabe");
    EXPECT_EQ(c.opaque, "xyz");
    const std::string ha1 =
        compute_ha1(algorithm::sha256, "trunkuser", "trunk.example", "trunkpass");
    const std::string ha2 = compute_ha2(algorithm::sha256, "INVITE", uri);
    EXPECT_EQ(c.response, compute_response(algorithm::sha256, {.ha1 = ha1,
                                                               .nonce = "n1",
                                                               .nc = "00000001",
                                                               .cnonce = "cafebabe",
                                                               .qop = "auth",
                                                               .ha2 = ha2}));
    EXPECT_NE(v.find("nc=00000001"), std::string::npos);
    EXPECT_NE(v.find("qop=auth"), std::string::npos);
}

TEST(make_authorization, nc_is_eight_hex_digits) {
    const auto chosen = select_challenge(views{challenge("MD5")}).value();
    EXPECT_EQ(
        parse_credentials(make_authorization(chosen, account, "INVITE", uri, 0x1a, "c")).value().nc,
        "0000001a");
    EXPECT_EQ(parse_credentials(make_authorization(chosen, account, "INVITE", uri, 0xffffffff, "c"))
                  .value()
                  .nc,
              "ffffffff");
}

TEST(make_authorization, rfc2069_form_without_qop) {
    const auto chosen = select_challenge(views{challenge("", "")}).value();
    EXPECT_FALSE(chosen.qop_auth);
    const std::string v = make_authorization(chosen, account, "BYE", uri, 1, "unused");
    const auto c = parse_credentials(v).value();
    EXPECT_FALSE(c.qop);
    EXPECT_TRUE(c.nc.empty());
    EXPECT_TRUE(c.cnonce.empty());
    EXPECT_TRUE(c.algorithm_token.empty()) << "challenge had no algorithm, answer has none";
    const std::string ha1 = compute_ha1(algorithm::md5, "trunkuser", "trunk.example", "trunkpass");
    EXPECT_EQ(c.response,
              hash_hex(algorithm::md5, ha1 + ":n1:" + compute_ha2(algorithm::md5, "BYE", uri)));
}

TEST(make_authorization, no_opaque_when_challenge_had_none) {
    const auto chosen =
        select_challenge(views{R"(Digest realm="r", nonce="n", algorithm=MD5, qop="auth")"})
            .value();
    EXPECT_FALSE(parse_credentials(make_authorization(chosen, account, "INVITE", uri, 1, "c"))
                     .value()
                     .opaque);
}

TEST(make_authorization, userhash_sends_hashed_name) {
    const auto chosen =
        select_challenge(views{challenge("SHA-256", R"(, qop="auth", userhash=true)")}).value();
    const auto c =
        parse_credentials(make_authorization(chosen, account, "INVITE", uri, 1, "c")).value();
    EXPECT_TRUE(c.userhash);
    EXPECT_EQ(c.username, compute_userhash(algorithm::sha256, "trunkuser", "trunk.example"));
}

// --- request_authenticator ----------------------------------------------------------------

request_authenticator_options fixed_cnonces() {
    request_authenticator_options o;
    o.make_cnonce = [n = 0]() mutable { return "cnonce" + std::to_string(++n); };
    return o;
}

TEST(request_authenticator, success_path_407_then_200) {
    request_authenticator a(account, "INVITE", std::string(uri), fixed_cnonces());
    EXPECT_EQ(a.current_state(), request_authenticator::state::initial);
    EXPECT_EQ(a.on_response(180, views{}).what, client_action::kind::deliver);

    const auto act = a.on_response(407, views{challenge("MD5"), challenge("SHA-256")});
    ASSERT_EQ(act.what, client_action::kind::resend) << act.detail;
    EXPECT_TRUE(act.proxy);
    EXPECT_FALSE(act.reason);
    EXPECT_EQ(a.current_state(), request_authenticator::state::credentials_sent);
    const auto c = parse_credentials(act.header_value).value();
    EXPECT_EQ(c.algorithm_token, "SHA-256");
    EXPECT_EQ(c.cnonce, "cnonce1");
    EXPECT_EQ(c.nc, "00000001");

    EXPECT_EQ(a.on_response(200, views{}).what, client_action::kind::deliver);
    EXPECT_EQ(a.on_response(486, views{}).what, client_action::kind::deliver);
}

TEST(request_authenticator, answer_to_401_goes_in_authorization) {
    request_authenticator a(account, "REGISTER", "sip:trunk.example");
    const auto act = a.on_response(401, views{challenge("MD5")});
    ASSERT_EQ(act.what, client_action::kind::resend);
    EXPECT_FALSE(act.proxy);
    // Random cnonce by default: 16 hex characters.
    EXPECT_EQ(parse_credentials(act.header_value).value().cnonce.size(), 16u);
}

TEST(request_authenticator, non_challenges_before_credentials_are_delivered) {
    request_authenticator a(account, "INVITE", std::string(uri));
    EXPECT_EQ(a.on_response(403, views{}).what, client_action::kind::deliver);
    EXPECT_EQ(a.on_response(404, views{}).what, client_action::kind::deliver);
    EXPECT_EQ(a.current_state(), request_authenticator::state::initial);
}

TEST(request_authenticator, second_challenge_is_rejected) {
    request_authenticator a(account, "INVITE", std::string(uri), fixed_cnonces());
    ASSERT_EQ(a.on_response(407, views{challenge("MD5")}).what, client_action::kind::resend);
    const auto act = a.on_response(407, views{challenge("MD5", R"(, qop="auth")", "n2")});
    EXPECT_EQ(act.what, client_action::kind::fail);
    EXPECT_EQ(act.reason, failure::rejected);
    EXPECT_TRUE(act.header_value.empty());
    EXPECT_NE(act.detail.find("trunkuser"), std::string::npos);
    EXPECT_EQ(a.current_state(), request_authenticator::state::failed);
    EXPECT_EQ(a.failure_reason(), failure::rejected);
}

TEST(request_authenticator, unusable_second_challenge_is_rejected) {
    request_authenticator a(account, "INVITE", std::string(uri));
    ASSERT_EQ(a.on_response(401, views{challenge("MD5")}).what, client_action::kind::resend);
    EXPECT_EQ(a.on_response(401, views{"Digest broken"}).reason, failure::rejected);
}

TEST(request_authenticator, forbidden_after_credentials_is_rejected) {
    request_authenticator a(account, "INVITE", std::string(uri));
    ASSERT_EQ(a.on_response(407, views{challenge("MD5")}).what, client_action::kind::resend);
    const auto act = a.on_response(403, views{});
    EXPECT_EQ(act.what, client_action::kind::fail);
    EXPECT_EQ(act.reason, failure::rejected);
    EXPECT_NE(act.detail.find("403"), std::string::npos);
}

TEST(request_authenticator, stale_challenge_is_retried_with_the_new_nonce) {
    request_authenticator a(account, "INVITE", std::string(uri), fixed_cnonces());
    ASSERT_EQ(a.on_response(407, views{challenge("MD5", R"(, qop="auth")", "old")}).what,
              client_action::kind::resend);
    const auto act =
        a.on_response(407, views{challenge("MD5", R"(, qop="auth", stale=true)", "new")});
    ASSERT_EQ(act.what, client_action::kind::resend) << act.detail;
    const auto c = parse_credentials(act.header_value).value();
    EXPECT_EQ(c.nonce, "new");
    EXPECT_EQ(c.nc, "00000001") << "nc restarts for a new nonce";
    EXPECT_EQ(c.cnonce, "cnonce2");
    EXPECT_EQ(a.stale_retries(), 1u);
    EXPECT_EQ(a.on_response(200, views{}).what, client_action::kind::deliver);
}

TEST(request_authenticator, nc_increments_when_the_nonce_repeats) {
    request_authenticator a(account, "INVITE", std::string(uri), fixed_cnonces());
    ASSERT_EQ(a.on_response(407, views{challenge("MD5")}).what, client_action::kind::resend);
    const auto act = a.on_response(407, views{challenge("MD5", R"(, qop="auth", stale=true)")});
    ASSERT_EQ(act.what, client_action::kind::resend);
    EXPECT_EQ(parse_credentials(act.header_value).value().nc, "00000002");
    // What a sender needs to use that nonce again (RFC 7616 §3.4).
    ASSERT_TRUE(a.last_answer());
    EXPECT_EQ(a.last_answer()->nc, 2u);
    EXPECT_TRUE(a.last_answer()->proxy);
    EXPECT_EQ(a.last_answer()->chosen.alg, algorithm::md5);
}

TEST(request_authenticator, no_answer_before_a_challenge) {
    request_authenticator a(account, "INVITE", std::string(uri), fixed_cnonces());
    EXPECT_FALSE(a.last_answer());
    a.on_response(401, views{challenge("MD5")});
    ASSERT_TRUE(a.last_answer());
    EXPECT_FALSE(a.last_answer()->proxy);
    EXPECT_EQ(a.last_answer()->nc, 1u);
}

TEST(request_authenticator, stale_loop_ends_in_challenge_loop) {
    request_authenticator a(account, "INVITE", std::string(uri), fixed_cnonces());
    const std::string stale = challenge("MD5", R"(, qop="auth", stale=true)");
    int resends = 0;
    client_action last;
    for (int i = 0; i < 100; ++i) {
        last = a.on_response(407, views{stale});
        if (last.what == client_action::kind::resend) ++resends;
    }
    EXPECT_EQ(resends, 3) << "first answer + max_stale_retries (2)";
    EXPECT_EQ(last.what, client_action::kind::fail);
    EXPECT_EQ(last.reason, failure::challenge_loop);
    EXPECT_EQ(a.failure_reason(), failure::challenge_loop);
    EXPECT_EQ(a.stale_retries(), 2u);
}

TEST(request_authenticator, max_stale_retries_is_configurable) {
    request_authenticator_options none;
    none.max_stale_retries = 0;
    request_authenticator a(account, "INVITE", std::string(uri), none);
    const std::string stale = challenge("MD5", R"(, qop="auth", stale=true)");
    EXPECT_EQ(a.on_response(407, views{stale}).what, client_action::kind::resend)
        << "stale=true on the first challenge is just a challenge";
    EXPECT_EQ(a.on_response(407, views{stale}).reason, failure::challenge_loop);
}

TEST(request_authenticator, no_credentials_configured) {
    request_authenticator a(client_credentials{}, "INVITE", std::string(uri));
    const auto act = a.on_response(401, views{challenge("MD5")});
    EXPECT_EQ(act.what, client_action::kind::fail);
    EXPECT_EQ(act.reason, failure::no_credentials);
    EXPECT_EQ(a.current_state(), request_authenticator::state::failed);
}

TEST(request_authenticator, unsupported_algorithm_fails_at_once) {
    request_authenticator a(account, "INVITE", std::string(uri));
    const auto act = a.on_response(407, views{challenge("SHA-1"), challenge("MD5-sess")});
    EXPECT_EQ(act.what, client_action::kind::fail);
    EXPECT_EQ(act.reason, failure::unsupported_algorithm);
    EXPECT_NE(act.detail.find("SHA-1"), std::string::npos);
    const auto garbage = request_authenticator(account, "INVITE", std::string(uri))
                             .on_response(401, views{"Digest ,,,"});
    EXPECT_EQ(garbage.reason, failure::unsupported_algorithm);
    EXPECT_NE(garbage.detail.find("unparseable"), std::string::npos);
}

TEST(request_authenticator, failed_is_terminal) {
    request_authenticator a(account, "INVITE", std::string(uri));
    ASSERT_EQ(a.on_response(407, views{challenge("MD5")}).what, client_action::kind::resend);
    ASSERT_EQ(a.on_response(407, views{challenge("MD5")}).reason, failure::rejected);
    for (unsigned status : {401u, 407u, 403u}) {
        const auto act = a.on_response(status, views{challenge("MD5", R"(, stale=true)")});
        EXPECT_EQ(act.what, client_action::kind::fail);
        EXPECT_EQ(act.reason, failure::rejected);
        EXPECT_TRUE(act.header_value.empty());
    }
    EXPECT_EQ(a.on_response(200, views{}).what, client_action::kind::deliver);
    EXPECT_EQ(a.current_state(), request_authenticator::state::failed);
}

TEST(request_authenticator, state_names) {
    EXPECT_EQ(to_string(request_authenticator::state::initial), "initial");
    EXPECT_EQ(to_string(request_authenticator::state::credentials_sent), "credentials_sent");
    EXPECT_EQ(to_string(request_authenticator::state::failed), "failed");
}

// Our client against our server, including a stale round: the two halves agree.
TEST(request_authenticator, interoperates_with_digest_server) {
    in_memory_credential_store store;
    user_credentials u;
    u.username = "trunkuser";
    u.password = "trunkpass";
    store.set_user(u);
    server_config cfg;
    cfg.realm = "trunk.example";
    cfg.algorithms = {algorithm::sha256, algorithm::md5};  // opt-in; the client picks SHA-256
    digest_server server(cfg, store);
    const std::chrono::system_clock::time_point t0{seconds{1'700'000'000}};
    const auto from = boost::asio::ip::make_address("192.0.2.20");

    request_authenticator a(account, "INVITE", std::string(uri));
    auto act = a.on_response(407, server.challenge(from, t0));
    ASSERT_EQ(act.what, client_action::kind::resend);
    // Too late: the server answers stale, the client retries, and the retry passes.
    auto r = server.verify(views{act.header_value}, "INVITE", uri, from, t0 + seconds{400});
    ASSERT_TRUE(r.stale()) << r.detail;
    act = a.on_response(407, server.challenge(from, t0 + seconds{400}, r.stale()));
    ASSERT_EQ(act.what, client_action::kind::resend) << act.detail;
    r = server.verify(views{act.header_value}, "INVITE", uri, from, t0 + seconds{401});
    EXPECT_TRUE(r.authenticated()) << r.detail;
    EXPECT_EQ(r.alg, algorithm::sha256);
}

}  // namespace
}  // namespace b2b::auth
