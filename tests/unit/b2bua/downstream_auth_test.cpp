// The downstream authentication policy: replays, stale nonces, per-source offers and PBXs that
// leave challenges unanswered, driven request by request with the time passed in.
#include "b2bua/downstream_auth.hpp"

#include "auth/nonce.hpp"

#include "auth/client.hpp"
#include "auth/digest_header.hpp"
#include "sip/message/writer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace b2b::b2bua {
namespace {

using namespace std::chrono_literals;
using time_point = std::chrono::system_clock::time_point;

const time_point t0{std::chrono::seconds{1'700'000'000}};
constexpr const char* request_uri = "sip:1000@127.0.0.1:5070";

sip::endpoint at(const char* ip, std::uint16_t port = 5060) { return {boost::asio::ip::make_address(ip), port}; }

config::downstream_section section() {
    config::downstream_section d;
    d.realm = "pbx.local";
    d.users.push_back({"pbxuser", "pbxpass", "", "", {}});
    d.nonce_ttl = 60s;
    return d;
}

class downstream_auth_test : public ::testing::Test {
protected:
    /// A brand-new INVITE (own Call-ID, branch and From tag), with credentials if given.
    sip::message invite(const std::string& credentials = {}) {
        const auto n = std::to_string(++calls_);
        sip::message_writer w;
        w.request_line("INVITE", request_uri);
        w.header("Via", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-" + n);
        w.header("From", "<sip:200@pbx.local>;tag=from-" + n);
        w.header("To", "<sip:1000@127.0.0.1:5070>");
        w.header("Call-ID", "call-" + n + "@10.0.0.1");
        w.header("CSeq", "1 INVITE");
        w.header("Contact", "<sip:200@10.0.0.1:5060>");
        w.header("Max-Forwards", "70");
        if (!credentials.empty()) w.header("Proxy-Authorization", credentials);
        auto m = sip::parse_message(std::move(w).finish());
        EXPECT_TRUE(m.has_value());
        return m ? std::move(*m) : sip::message{};
    }

    /// What the PBX answers to `challenge` (a decision), with nonce count `nc`.
    static std::string answer(const auth_decision& challenge, const std::string& password = "pbxpass",
                              std::uint32_t nc = 1) {
        std::vector<std::string_view> values(challenge.challenges.begin(), challenge.challenges.end());
        const auto chosen = auth::select_challenge(values);
        EXPECT_TRUE(chosen.has_value());
        if (!chosen) return {};
        return auth::make_authorization(*chosen, {"pbxuser", password}, "INVITE", request_uri, nc, "0a4f113b");
    }

    static std::vector<std::string> algorithms(const auth_decision& d) {
        std::vector<std::string> out;
        for (const auto& v : d.challenges) out.push_back(auth::parse_challenge(v).value().algorithm_token);
        return out;
    }

    static void expect_challenge(const auth_decision& d, std::optional<auth::failure> failure, bool stale = false) {
        EXPECT_EQ(d.action, auth_decision::kind::challenge) << d.detail;
        EXPECT_EQ(d.status, 407);
        ASSERT_FALSE(d.challenges.empty());
        EXPECT_EQ(d.challenges.front().find("stale=true") != std::string::npos, stale) << d.challenges.front();
        EXPECT_EQ(d.failure, failure) << (d.failure ? auth::to_string(*d.failure) : "none") << ": " << d.detail;
    }

    const sip::endpoint pbx = at("10.0.0.1");
    int calls_ = 0;
};

TEST_F(downstream_auth_test, challenge_then_answer_is_accepted) {
    downstream_auth auth(section());
    const auto first = auth.check(invite(), pbx, t0);
    expect_challenge(first, std::nullopt);
    EXPECT_EQ(first.challenge_header, "Proxy-Authenticate");
    const auto second = auth.check(invite(answer(first)), pbx, t0 + 1s);
    EXPECT_EQ(second.action, auth_decision::kind::accept) << second.detail;
    EXPECT_FALSE(second.failure);
    EXPECT_EQ(second.username, "pbxuser");
}

TEST_F(downstream_auth_test, the_nonces_of_a_worker_name_it_and_another_worker_rechallenges_stale) {
    auto shared = section();
    shared.nonce_secret = "one secret for every worker";  // the process gives them one
    downstream_auth third(shared, false, 3);
    downstream_auth first(shared, false, 0);
    const auto challenge = third.check(invite(), pbx, t0);
    for (const auto& v : challenge.challenges) EXPECT_EQ(auth::nonce_worker(auth::parse_challenge(v).value().nonce), 3);
    // The dispatcher takes the answer to worker 3; had it gone astray, the PBX would be asked again
    // with stale=true (it has no count for that nonce), never refused.
    expect_challenge(first.check(invite(answer(challenge)), pbx, t0 + 1s), auth::failure::stale_nonce, true);
    EXPECT_EQ(third.check(invite(answer(challenge)), pbx, t0 + 1s).action, auth_decision::kind::accept);
}

TEST_F(downstream_auth_test, default_offer_is_md5_only) {
    downstream_auth auth(section());
    EXPECT_EQ(algorithms(auth.check(invite(), pbx, t0)), (std::vector<std::string>{"MD5"}));
}

TEST_F(downstream_auth_test, captured_answer_on_a_new_call_from_the_same_source_is_rechallenged) {
    downstream_auth auth(section());
    const auto captured = answer(auth.check(invite(), pbx, t0));
    ASSERT_EQ(auth.check(invite(captured), pbx, t0 + 1s).action, auth_decision::kind::accept);
    // New Call-ID, branch and tag, even a new port: the same answer is a replay.
    const auto replay = auth.check(invite(captured), at("10.0.0.1", 40000), t0 + 2s);
    expect_challenge(replay, auth::failure::replayed_nonce);
    EXPECT_NE(replay.detail.find("nc 00000001"), std::string::npos) << replay.detail;
    EXPECT_EQ(replay.username, "pbxuser");
}

TEST_F(downstream_auth_test, captured_answer_from_another_source_is_rechallenged_naming_both) {
    downstream_auth auth(section());
    const auto captured = answer(auth.check(invite(), pbx, t0));
    const auto replay = auth.check(invite(captured), at("192.0.2.66"), t0 + 1s);
    expect_challenge(replay, auth::failure::replayed_nonce);
    EXPECT_NE(replay.detail.find("issued to 10.0.0.1 presented from 192.0.2.66"), std::string::npos) << replay.detail;
    // The answer was not used up by the replay: the real PBX still gets in with it.
    EXPECT_EQ(auth.check(invite(captured), pbx, t0 + 2s).action, auth_decision::kind::accept);
}

TEST_F(downstream_auth_test, ipv6_sources_are_bound_too) {
    downstream_auth auth(section());
    const auto v6 = at("2001:db8::1");
    const auto captured = answer(auth.check(invite(), v6, t0));
    expect_challenge(auth.check(invite(captured), at("2001:db8::2"), t0 + 1s), auth::failure::replayed_nonce);
    EXPECT_EQ(auth.check(invite(captured), at("2001:db8::1", 5090), t0 + 1s).action, auth_decision::kind::accept);
}

TEST_F(downstream_auth_test, increasing_nc_on_new_calls_is_accepted) {
    downstream_auth auth(section());
    const auto challenge = auth.check(invite(), pbx, t0);
    for (std::uint32_t nc = 1; nc <= 3; ++nc) {
        const auto d = auth.check(invite(answer(challenge, "pbxpass", nc)), pbx, t0 + std::chrono::seconds{nc});
        EXPECT_EQ(d.action, auth_decision::kind::accept) << nc << ": " << d.detail;
    }
    expect_challenge(auth.check(invite(answer(challenge, "pbxpass", 2)), pbx, t0 + 5s), auth::failure::replayed_nonce);
}

TEST_F(downstream_auth_test, evicted_nonce_gets_a_stale_challenge_and_the_retry_passes) {
    auto cfg = section();
    cfg.nonce_table_size = 1024;
    downstream_auth auth(cfg);
    const auto old = auth.check(invite(), pbx, t0);
    // 1024 newer challenges (to other PBXs) take every slot, old's included.
    for (int i = 0; i < 1024; ++i) auth.check(invite(), at("10.0.1.1"), t0);
    const auto stale = auth.check(invite(answer(old)), pbx, t0 + 1s);
    expect_challenge(stale, auth::failure::stale_nonce, true);
    EXPECT_EQ(auth.check(invite(answer(stale)), pbx, t0 + 2s).action, auth_decision::kind::accept);
}

TEST_F(downstream_auth_test, wrong_password_with_an_expired_nonce_is_wrong_password) {
    downstream_auth auth(section());
    const auto challenge = auth.check(invite(), pbx, t0);
    const auto d = auth.check(invite(answer(challenge, "guess")), pbx, t0 + 61s);  // past nonce_ttl
    EXPECT_EQ(d.action, auth_decision::kind::reject);
    EXPECT_EQ(d.status, 403);
    EXPECT_EQ(d.failure, auth::failure::wrong_password) << d.detail;
    // The right password with the same expired nonce is stale: a silent retry.
    expect_challenge(auth.check(invite(answer(challenge)), pbx, t0 + 61s), auth::failure::stale_nonce, true);
}

TEST_F(downstream_auth_test, wrong_password_replayed_from_elsewhere_is_wrong_password) {
    downstream_auth auth(section());
    const auto challenge = auth.check(invite(), pbx, t0);
    const auto d = auth.check(invite(answer(challenge, "guess")), at("192.0.2.66"), t0 + 1s);
    EXPECT_EQ(d.status, 403);
    EXPECT_EQ(d.failure, auth::failure::wrong_password) << d.detail;
}

TEST_F(downstream_auth_test, algorithms_for_picks_the_offer_by_source) {
    auto cfg = section();
    cfg.algorithms_for.push_back({{*auth::ip_network::parse("10.0.0.0/8"), *auth::ip_network::parse("::1")},
                                  {"SHA-256", "MD5"}});
    downstream_auth auth(cfg);
    using names = std::vector<std::string>;
    const auto lan = auth.check(invite(), pbx, t0);
    EXPECT_EQ(algorithms(lan), (names{"SHA-256", "MD5"}));
    EXPECT_EQ(algorithms(auth.check(invite(), at("::1"), t0)), (names{"SHA-256", "MD5"}));
    const auto other = auth.check(invite(), at("192.0.2.1"), t0);
    EXPECT_EQ(algorithms(other), (names{"MD5"}));
    // Our client picks SHA-256 from the LAN offer, and that is accepted from the LAN ...
    const auto sha = answer(lan);
    EXPECT_NE(sha.find("algorithm=SHA-256"), std::string::npos);
    EXPECT_EQ(auth.check(invite(sha), pbx, t0 + 1s).action, auth_decision::kind::accept);
    // ... but SHA-256 is not accepted from a source that was only offered MD5.
    auto forged = auth::parse_challenge(other.challenges.front()).value();
    forged.algorithm_token = "SHA-256";
    const std::string sha_offer = auth::to_header_value(forged);
    const std::string_view offer[] = {sha_offer};
    const auto chosen = auth::select_challenge(offer);
    ASSERT_TRUE(chosen.has_value());
    const auto d = auth.check(
        invite(auth::make_authorization(*chosen, {"pbxuser", "pbxpass"}, "INVITE", request_uri, 1, "c")),
        at("192.0.2.1"), t0 + 1s);
    EXPECT_EQ(d.status, 403);
    EXPECT_EQ(d.failure, auth::failure::unsupported_algorithm) << d.detail;
    // The facts a hint needs: what it asked, what that source is offered, for which realm.
    EXPECT_EQ(d.algorithm_asked, "SHA-256");
    EXPECT_EQ(d.algorithms_offered, (names{"MD5"}));
    EXPECT_EQ(d.realm_seen, "pbx.local");
}

TEST_F(downstream_auth_test, three_unanswered_challenges_count_once) {
    auto cfg = section();
    cfg.algorithms = {"SHA-256"};
    downstream_auth auth(cfg);
    expect_challenge(auth.check(invite(), pbx, t0), std::nullopt);
    expect_challenge(auth.check(invite(), pbx, t0 + 60s), std::nullopt);
    const auto third = auth.check(invite(), pbx, t0 + 120s);
    expect_challenge(third, auth::failure::challenge_unanswered);
    EXPECT_NE(third.detail.find("3 challenges offering SHA-256 left unanswered in 300 s"), std::string::npos)
        << third.detail;
    EXPECT_EQ(third.algorithms_offered, std::vector<std::string>{"SHA-256"});
    // Not again within the window, however many more go unanswered ...
    for (int i = 0; i < 4; ++i) expect_challenge(auth.check(invite(), pbx, t0 + 160s + i * 40s), std::nullopt);
    // ... but once more after it restarts and three more go unanswered.
    expect_challenge(auth.check(invite(), pbx, t0 + 300s), std::nullopt);
    expect_challenge(auth.check(invite(), pbx, t0 + 340s), std::nullopt);
    expect_challenge(auth.check(invite(), pbx, t0 + 380s), auth::failure::challenge_unanswered);
}

TEST_F(downstream_auth_test, a_busy_pbx_with_calls_in_flight_is_not_counted) {
    downstream_auth auth(section());
    // Ten calls challenged within a second, answered as the answers come in.
    std::vector<auth_decision> challenges;
    for (int i = 0; i < 10; ++i) {
        challenges.push_back(auth.check(invite(), pbx, t0 + std::chrono::milliseconds{100 * i}));
        expect_challenge(challenges.back(), std::nullopt);
    }
    for (const auto& c : challenges) {
        EXPECT_EQ(auth.check(invite(answer(c)), pbx, t0 + 2s).action, auth_decision::kind::accept);
    }
}

TEST_F(downstream_auth_test, an_answer_clears_the_count) {
    downstream_auth auth(section());
    auth.check(invite(), pbx, t0);
    const auto second = auth.check(invite(), pbx, t0 + 40s);
    // Even a wrong password shows the PBX can answer what we offer.
    EXPECT_EQ(auth.check(invite(answer(second, "guess")), pbx, t0 + 41s).failure, auth::failure::wrong_password);
    expect_challenge(auth.check(invite(), pbx, t0 + 42s), std::nullopt);
    expect_challenge(auth.check(invite(), pbx, t0 + 80s), std::nullopt);
    expect_challenge(auth.check(invite(), pbx, t0 + 120s), auth::failure::challenge_unanswered);
}

TEST_F(downstream_auth_test, credentials_for_a_nonce_not_ours_do_not_clear_the_count) {
    downstream_auth auth(section());
    auth.check(invite(), pbx, t0);
    auth.check(invite(), pbx, t0 + 40s);
    auto forged = auth::parse_challenge(auth.check(invite(), at("10.9.9.9"), t0).challenges.front()).value();
    forged.nonce = "not-one-of-ours";
    const std::string value = auth::to_header_value(forged);
    const std::string_view offer[] = {value};
    const auto chosen = auth::select_challenge(offer);
    ASSERT_TRUE(chosen.has_value());
    const auto d = auth.check(
        invite(auth::make_authorization(*chosen, {"pbxuser", "pbxpass"}, "INVITE", request_uri, 1, "c")), pbx,
        t0 + 41s);
    expect_challenge(d, auth::failure::invalid_nonce);
    expect_challenge(auth.check(invite(), pbx, t0 + 80s), auth::failure::challenge_unanswered);
}

TEST_F(downstream_auth_test, spoofed_one_off_sources_never_count) {
    downstream_auth auth(section());
    // 20000 sources, one challenge each: far more than the table holds, none reaches 3.
    for (std::uint32_t i = 0; i < 20000; ++i) {
        const boost::asio::ip::address_v4 spoofed(0xac100000u + i);  // 172.16.0.0 onwards
        const auto d = auth.check(invite(), {spoofed, 5060}, t0 + std::chrono::milliseconds{i});
        ASSERT_EQ(d.failure, std::nullopt) << spoofed.to_string() << ": " << d.detail;
    }
    // A real PBX silently failing is still noticed afterwards.
    auth.check(invite(), pbx, t0 + 30s);
    auth.check(invite(), pbx, t0 + 70s);
    expect_challenge(auth.check(invite(), pbx, t0 + 110s), auth::failure::challenge_unanswered);
}

}  // namespace
}  // namespace b2b::b2bua
