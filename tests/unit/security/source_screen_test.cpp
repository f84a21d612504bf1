// The pre-parse screen: bans, the flood limit, scanners, exemptions, emergency calls.
#include "security/source_screen.hpp"

#include <gtest/gtest.h>

#include <string>

namespace b2b::security {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::make_address;
const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

std::string request(std::string_view method, std::string_view user, std::string_view call_id,
                    std::string_view user_agent = "PBX 1.0") {
    std::string m(method);
    m += " sip:";
    m += user;
    m += "@sbc.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.66;branch=z9hG4bK1\r\nCall-ID: ";
    m += call_id;
    m += "\r\nUser-Agent: ";
    m += user_agent;
    m += "\r\nContent-Length: 0\r\n\r\n";
    return m;
}

std::string response(std::string_view call_id) {
    return "SIP/2.0 200 OK\r\nCall-ID: " + std::string(call_id) + "\r\nContent-Length: 0\r\n\r\n";
}

screen_settings settings() {
    screen_settings s;
    s.trusted = {*auth::ip_network::parse("10.0.0.0/8")};
    s.max_requests_per_second = 5;
    s.scanner_user_agents = {"friendly-scanner", "sipvicious"};
    s.emergency_numbers = {"112"};
    return s;
}

const auto attacker = make_address("192.0.2.66");

TEST(source_screen, a_banned_source_is_dropped_requests_and_responses_alike) {
    source_screen s(settings());
    s.bans().add(attacker, 60s, t0);
    EXPECT_EQ(s.screen(request("REGISTER", "100", "c1"), attacker, 5060, t0), verdict::banned);
    EXPECT_EQ(s.screen(response("c1"), attacker, 5060, t0), verdict::banned);
    EXPECT_EQ(s.screen(request("REGISTER", "100", "c1"), make_address("192.0.2.67"), 5060, t0), verdict::pass);
    EXPECT_FALSE(s.admit_connection(attacker, 40000, t0));
    EXPECT_EQ(s.screen(request("REGISTER", "100", "c1"), attacker, 5060, t0 + 61s), verdict::pass);
    EXPECT_TRUE(s.admit_connection(attacker, 40000, t0 + 61s));
}

TEST(source_screen, requests_over_the_rate_are_dropped_responses_are_not) {
    source_screen s(settings());
    for (int i = 0; i < 5; ++i) EXPECT_EQ(s.screen(request("OPTIONS", "", "c"), attacker, 5060, t0), verdict::pass);
    EXPECT_EQ(s.screen(request("OPTIONS", "", "c"), attacker, 5060, t0), verdict::rate_limit);
    EXPECT_EQ(s.screen(response("c"), attacker, 5060, t0), verdict::pass);
    EXPECT_EQ(s.screen(request("OPTIONS", "", "c"), attacker, 5060, t0 + 1s), verdict::pass);
}

TEST(source_screen, a_scanner_user_agent_is_dropped_in_any_case) {
    source_screen s(settings());
    EXPECT_EQ(s.screen(request("OPTIONS", "100", "c", "Friendly-Scanner"), attacker, 5060, t0), verdict::scanner);
    EXPECT_EQ(s.screen(request("OPTIONS", "100", "c", "SIPVicious 0.3"), attacker, 5060, t0), verdict::scanner);
    EXPECT_EQ(s.screen(request("OPTIONS", "100", "c", "Asterisk"), attacker, 5060, t0), verdict::pass);
}

TEST(source_screen, trusted_networks_and_trunks_are_never_dropped_nor_banned) {
    const auto trunk = make_address("203.0.113.5");
    source_screen s(settings(), [&](const boost::asio::ip::address& a, std::uint16_t) { return a == trunk; });
    for (const auto& who : {make_address("10.1.2.3"), make_address("::ffff:10.1.2.3"), trunk}) {
        for (int i = 0; i < 50; ++i) {
            ASSERT_EQ(s.screen(request("INVITE", "100", "c", "sipvicious"), who, 5060, t0), verdict::pass);
        }
        for (int i = 0; i < 20; ++i) EXPECT_FALSE(s.auth_failure(who, 5060, "pbxuser", t0));
        s.bans().add(who, 60s, t0);  // an operator's ban of a trusted address does not cut it off
        EXPECT_EQ(s.screen(request("INVITE", "100", "c"), who, 5060, t0), verdict::pass);
        EXPECT_TRUE(s.admit_connection(who, 5060, t0));
    }
}

TEST(source_screen, brute_force_bans_within_the_configured_failures) {
    source_screen s(settings());
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(s.auth_failure(attacker, 5060, "pbxuser", t0 + i * 1s));
    auto b = s.auth_failure(attacker, 5060, "pbxuser", t0 + 4s);
    ASSERT_TRUE(b);
    EXPECT_EQ(s.screen(request("REGISTER", "pbxuser", "c"), attacker, 5060, t0 + 5s), verdict::banned);
}

TEST(source_screen, an_emergency_call_passes_bans_and_the_rate_limit_with_its_whole_dialog) {
    source_screen s(settings());
    s.bans().add(attacker, 60s, t0);
    EXPECT_EQ(s.screen(request("INVITE", "112", "sos-1"), attacker, 5060, t0), verdict::pass);
    EXPECT_EQ(s.screen(request("ACK", "caller", "sos-1"), attacker, 5060, t0), verdict::pass);
    EXPECT_EQ(s.screen(response("sos-1"), attacker, 5060, t0), verdict::pass);
    EXPECT_EQ(s.screen(request("BYE", "caller", "sos-1"), attacker, 5060, t0), verdict::pass);
    EXPECT_EQ(s.screen(request("BYE", "caller", "other"), attacker, 5060, t0), verdict::banned);
    EXPECT_EQ(s.screen(request("INVITE", "1120", "x"), attacker, 5060, t0), verdict::banned);
    EXPECT_EQ(s.screen(request("INVITE", "%31%312", "sos-3"), attacker, 5060, t0), verdict::pass);  // escaped
    s.bans().remove(attacker, t0);
    const auto pbx = make_address("192.0.2.8");
    for (int i = 0; i < 5; ++i) s.screen(request("OPTIONS", "", "o"), pbx, 5060, t0);
    EXPECT_EQ(s.screen(request("OPTIONS", "", "o"), pbx, 5060, t0), verdict::rate_limit);
    EXPECT_EQ(s.screen(request("INVITE", "112", "sos-2"), pbx, 5060, t0), verdict::pass);
}

TEST(source_screen, without_emergency_numbers_nothing_is_an_emergency) {
    auto cfg = settings();
    cfg.emergency_numbers.clear();
    source_screen s(cfg);
    s.bans().add(attacker, 60s, t0);
    EXPECT_EQ(s.screen(request("INVITE", "112", "sos"), attacker, 5060, t0), verdict::banned);
}

}  // namespace
}  // namespace b2b::security
