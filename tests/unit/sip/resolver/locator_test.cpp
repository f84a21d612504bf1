#include "sip/resolver/locator.hpp"

#include "tests/fakes/scripted_dns.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>

namespace b2b::sip::resolver {
namespace {

using test::a_records;
using fake_dns = test::scripted_dns;

using addr = boost::asio::ip::address;


target t(transport_kind k, const char* ip, std::uint16_t port) { return {k, {boost::asio::ip::make_address(ip), port}}; }

location run_locate(fake_dns& dns, peer_name peer) {
    std::optional<location> out;
    locate(dns, peer, [](std::uint32_t) { return 0u; }, [&](location l) { out = std::move(l); });
    EXPECT_FALSE(out) << "called back from within locate";
    dns.run();
    EXPECT_TRUE(out);
    return out ? *out : location{};
}

TEST(locate, naptr_then_srv_then_addresses) {
    fake_dns dns;
    dns.naptrs["provider.test"] = {naptr_answer::status::ok,
                                   {{10, 10, "s", "SIP+D2U", "_sip._udp.provider.test"}},
                                   300};
    dns.srvs["_sip._udp.provider.test"] = {srv_answer::status::ok,
                                           {{20, 0, 5062, "b.provider.test"}, {10, 0, 5061, "a.provider.test"}},
                                           60};
    dns.hosts["a.provider.test"] = a_records({"127.0.0.2"}, 30);
    dns.hosts["b.provider.test"] = a_records({"127.0.0.3"}, 120);
    const auto l = run_locate(dns, {"provider.test", 0, std::nullopt});
    ASSERT_TRUE(l.found) << l.problem;
    EXPECT_EQ(l.found->targets, (std::vector<target>{t(transport_kind::udp, "127.0.0.2", 5061),
                                                     t(transport_kind::udp, "127.0.0.3", 5062)}));
    EXPECT_EQ(l.found->ttl, std::chrono::seconds(30));  // the smallest of every record used
    EXPECT_EQ(dns.asked, (std::vector<std::string>{"NAPTR provider.test", "SRV _sip._udp.provider.test",
                                                   "A a.provider.test", "A b.provider.test"}));
}

TEST(locate, naptr_transport_preference_is_the_providers_order) {
    fake_dns dns;
    dns.naptrs["p.test"] = {naptr_answer::status::ok,
                            {{20, 10, "s", "SIP+D2U", "_sip._udp.p.test"}, {10, 10, "s", "SIP+D2T", "_sip._tcp.p.test"}},
                            300};
    dns.srvs["_sip._tcp.p.test"] = {srv_answer::status::ok, {{10, 0, 5060, "tcp.p.test"}}, 300};
    dns.srvs["_sip._udp.p.test"] = {srv_answer::status::ok, {{10, 0, 5060, "udp.p.test"}}, 300};
    dns.hosts["tcp.p.test"] = a_records({"192.0.2.1"}, 300);
    dns.hosts["udp.p.test"] = a_records({"192.0.2.2"}, 300);
    const auto l = run_locate(dns, {"p.test", 0, std::nullopt});
    ASSERT_TRUE(l.found);
    EXPECT_EQ(l.found->targets, (std::vector<target>{t(transport_kind::tcp, "192.0.2.1", 5060),
                                                     t(transport_kind::udp, "192.0.2.2", 5060)}));
}

TEST(locate, without_naptr_srv_per_transport) {
    fake_dns dns;
    dns.srvs["_sip._tcp.p.test"] = {srv_answer::status::ok, {{10, 0, 5070, "h.p.test"}}, 100};
    dns.hosts["h.p.test"] = a_records({"192.0.2.9"}, 100);
    const auto l = run_locate(dns, {"p.test", 0, std::nullopt});
    ASSERT_TRUE(l.found);
    EXPECT_EQ(l.found->targets, (std::vector<target>{t(transport_kind::tcp, "192.0.2.9", 5070)}));
    EXPECT_EQ(dns.asked, (std::vector<std::string>{"NAPTR p.test", "SRV _sip._udp.p.test", "SRV _sip._tcp.p.test",
                                                   "A h.p.test"}));
}

TEST(locate, without_srv_the_host_on_port5060) {
    fake_dns dns;
    dns.hosts["p.test"] = a_records({"192.0.2.7", "2001:db8::7"}, 45);
    const auto l = run_locate(dns, {"p.test", 0, std::nullopt});
    ASSERT_TRUE(l.found);
    EXPECT_EQ(l.found->targets, (std::vector<target>{t(transport_kind::udp, "192.0.2.7", 5060),
                                                     t(transport_kind::udp, "2001:db8::7", 5060)}));
    EXPECT_EQ(l.found->ttl, std::chrono::seconds(45));
}

TEST(locate, explicit_port_or_transport_skips_naptr_and_srv) {
    fake_dns dns;
    dns.hosts["p.test"] = a_records({"192.0.2.7"}, 45);
    auto l = run_locate(dns, {"p.test", 5080, std::nullopt});
    ASSERT_TRUE(l.found);
    EXPECT_EQ(l.found->targets, (std::vector<target>{t(transport_kind::udp, "192.0.2.7", 5080)}));
    l = run_locate(dns, {"p.test", 0, transport_kind::tcp});
    ASSERT_TRUE(l.found);
    EXPECT_EQ(l.found->targets, (std::vector<target>{t(transport_kind::tcp, "192.0.2.7", 5060)}));
    l = run_locate(dns, {"p.test", 0, transport_kind::tls});
    ASSERT_TRUE(l.found);
    EXPECT_EQ(l.found->targets, (std::vector<target>{t(transport_kind::tls, "192.0.2.7", 5061)}))
        << "RFC 3261 §19.1.2: 5061 for TLS";
    EXPECT_EQ(dns.asked, (std::vector<std::string>{"A p.test", "A p.test", "A p.test"}));
}

TEST(locate, nothing_found_says_why) {
    fake_dns dns;
    dns.hosts["p.test"].result = address_answer::status::failed;
    const auto l = run_locate(dns, {"p.test", 5060, std::nullopt});
    EXPECT_FALSE(l.found);
    EXPECT_NE(l.problem.find("p.test"), std::string::npos);
}

TEST(locate, no_answer_to_naptr_fails_at_once) {
    fake_dns dns;
    dns.naptrs["p.test"].result = naptr_answer::status::failed;
    dns.hosts["p.test"] = a_records({"192.0.2.7"}, 45);
    const auto l = run_locate(dns, {"p.test", 0, std::nullopt});
    EXPECT_FALSE(l.found);
    EXPECT_NE(l.problem.find("NAPTR"), std::string::npos);
    EXPECT_EQ(dns.asked, (std::vector<std::string>{"NAPTR p.test"}));
}

TEST(locate, srv_target_without_address_is_skipped) {
    fake_dns dns;
    dns.srvs["_sip._udp.p.test"] = {srv_answer::status::ok, {{10, 0, 5060, "gone.p.test"}, {20, 0, 5061, "h.p.test"}}, 100};
    dns.hosts["h.p.test"] = a_records({"192.0.2.9"}, 100);
    const auto l = run_locate(dns, {"p.test", 0, std::nullopt});
    ASSERT_TRUE(l.found);
    EXPECT_EQ(l.found->targets, (std::vector<target>{t(transport_kind::udp, "192.0.2.9", 5061)}));
}

}  // namespace
}  // namespace b2b::sip::resolver
