// Trunks named by host (RFC 3263) through the actors harness, with a scripted DNS: calls go to
// the resolved targets in order, a failed target hands the call to the next one, and requests
// from any resolved address are the trunk's.
#include "call_flow.hpp"

#include "tests/fakes/scripted_dns.hpp"

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

struct dns_holder {
    sip::resolver::test::scripted_dns dns;
    std::uint32_t ttl = 60;  ///< of the A records `resolve` gives
};

/// Trunk carrier is `sip:carrier.test:5201`: its A records are 127.0.0.21 (the carrier actor)
/// and 127.0.0.22 (a second gateway of the same provider).
class dns_flow : protected dns_holder, public ::testing::Test, public b2bua_harness {
protected:
    dns_flow()
        : b2bua_harness({carrier_spec()}, {}, {}, {}, {}, &dns) {}
    void TearDown() override { expect_no_strays(); }

    static trunk_spec carrier_spec() {
        auto spec = numbered_trunk(1, "carrier", "", "invite_timeout_ms: 1000");
        spec.uri = "sip:carrier.test:5201";
        return spec;
    }

    void resolve(std::vector<const char*> ips) {
        dns.hosts["carrier.test"] = sip::resolver::test::a_records(ips, ttl);
        dns.run();
    }

    pbx_actor& pbx = add_pbx("pbx");
    trunk_actor& carrier = trunk_named("carrier");
    actor& second = add_actor("second", ep("127.0.0.22", 5201));
};

TEST_F(dns_flow, before_dns_answers_a_call_gets_503) {
    pbx_call c = pbx.new_call();
    pbx.invite(c);
    pbx.authenticate(c, pbx.expect("SIP/2.0 407"), "pbxuser", "pbxpass");
    auto got = pbx.take();
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back().status(), 503);
    carrier.expect_nothing();
    EXPECT_EQ(dns.asked, (std::vector<std::string>{"A carrier.test"}));  // a port: no NAPTR, no SRV
}

TEST_F(dns_flow, a_503_from_a_target_moves_the_call_to_the_trunks_next_target) {
    resolve({"127.0.0.21", "127.0.0.22"});
    pbx_call c = pbx.new_call();
    auto first = authenticated_invite(pbx, c, carrier);
    EXPECT_EQ(first.request_uri().host, "carrier.test");  // the uri's host stays (RFC 3263 §4)
    carrier.respond(first, 503, "Service Unavailable");
    carrier.expect("ACK");
    auto again = second.expect("INVITE");
    EXPECT_NE(again.call_id(), first.call_id());  // a new dialog
    EXPECT_EQ(again.request_uri().host, "carrier.test");
    pbx.expect_nothing();
    // The second target's own answer is the trunk's: relayed, no further try.
    second.respond(again, 486, "Busy Here");
    second.expect("ACK");
    pbx.ack_failure(c, pbx.expect("SIP/2.0 486"));
    EXPECT_EQ(counter("b2bua_trunk_failovers_total", {}), 0);  // not another trunk

    // The failed target is passed over for the next call.
    pbx_call c2 = pbx.new_call();
    pbx.invite(c2);
    pbx.authenticate(c2, pbx.expect("SIP/2.0 407"), "pbxuser", "pbxpass");
    pbx.take();
    auto next = second.expect("INVITE");
    carrier.expect_nothing();
    second.respond(next, 486, "Busy Here");
    second.expect("ACK");
    pbx.ack_failure(c2, pbx.expect("SIP/2.0 486"));
}

TEST_F(dns_flow, a_silent_target_is_given_up_after_invite_timeout_and_the_next_one_tried) {
    resolve({"127.0.0.21", "127.0.0.22"});
    pbx_call c = pbx.new_call();
    authenticated_invite(pbx, c, carrier);
    clock.advance(1001ms);
    carrier.take();  // retransmissions
    auto again = second.expect("INVITE");
    second.respond(again, 486, "Busy Here");
    second.expect("ACK");
    pbx.ack_failure(c, pbx.expect("SIP/2.0 486"));
}

TEST_F(dns_flow, targets_follow_the_ttl) {
    ttl = 30;
    resolve({"127.0.0.22"});
    dns.hosts["carrier.test"] = sip::resolver::test::a_records({"127.0.0.21"}, ttl);
    clock.advance(29s);
    dns.run();
    EXPECT_EQ(dns.asked.size(), 1u);
    clock.advance(2s);
    dns.run();
    EXPECT_EQ(dns.asked.size(), 2u);
    pbx_call c = pbx.new_call();
    auto invite = authenticated_invite(pbx, c, carrier);  // now at 127.0.0.21
    carrier.respond(invite, 486, "Busy Here");
    carrier.expect("ACK");
    pbx.ack_failure(c, pbx.expect("SIP/2.0 486"));
}

TEST_F(dns_flow, a_request_from_any_resolved_address_is_the_trunks) {
    // Before DNS answers, 127.0.0.22 is nobody's: a PBX's REGISTER gets a challenge.
    const auto register_from = [&](actor& from, int n) {
        sip::message_writer w;
        w.request_line("REGISTER", "sip:" + core_host_port());
        w.header("Via", "SIP/2.0/UDP " + from.host_port() + ";branch=z9hG4bK-reg-" + std::to_string(n));
        w.header("From", "<sip:pbxuser@" + core_host_port() + ">;tag=regtag");
        w.header("To", "<sip:pbxuser@" + core_host_port() + ">");
        w.header("Call-ID", "reg-" + std::to_string(n) + "@10.0.0.1");
        w.header("CSeq", std::to_string(n) + " REGISTER");
        w.header("Contact", "<sip:pbxuser@" + from.host_port() + ">");
        w.header("Max-Forwards", "70");
        from.send(std::move(w).finish());
    };
    register_from(second, 1);
    second.expect("SIP/2.0 401");
    resolve({"127.0.0.21", "127.0.0.22"});
    // Now it is the trunk's: trunks do not register with us (403, no challenge).
    register_from(second, 2);
    second.expect("SIP/2.0 403");
}

}  // namespace
}  // namespace b2b::b2bua::test
