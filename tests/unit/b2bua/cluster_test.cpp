// A node behind a load balancer (cluster.dispatchers): every per-source decision takes the
// address the balancer stamped, its own probes are answered, and answers go back to it.
#include "tests/unit/b2bua/call_flow.hpp"

#include <gtest/gtest.h>

namespace b2b::b2bua::test {
namespace {

constexpr const char* cluster_yaml = "cluster:\n  dispatchers: [127.0.0.10/32]\n";
constexpr const char* downstream_yaml =
    "  nonce_secret: cluster-wide-secret-0123\n  allowed_sources: [ \"127.0.0.11\", \"127.0.0.12\" ]\n";

class behind_a_dispatcher : public ::testing::Test, public b2bua_harness {
protected:
    behind_a_dispatcher()
        : b2bua_harness({numbered_trunk(1, "carrier", "")}, {},
                        std::string(cluster_yaml) +
                            "inbound_routes:\n  - { prefix: \"\", to: \"sip:127.0.0.11:5101\", name: office }\n",
                        downstream_yaml),
          pbx(add_pbx("pbx")),  // 127.0.0.11: in allowed_sources, but never reaches us directly
          dispatcher(add_actor("dispatcher", ep("127.0.0.10", 5060))) {}
    void TearDown() override { expect_no_strays(); }

    /// `bytes` as the balancer forwards them: its Via on top, the source it saw stamped.
    std::string forwarded(std::string bytes, const std::string& source) {
        const auto line_end = bytes.find("\r\n") + 2;
        bytes.insert(line_end, "Via: SIP/2.0/UDP 127.0.0.10:5060;branch=z9hG4bK-lb-" + std::to_string(++hops_) +
                                   "\r\nX-Source-Address: " + source + ";transport=udp\r\n");
        return bytes;
    }

    pbx_actor& pbx;
    actor& dispatcher;
    int hops_ = 0;
};

TEST_F(behind_a_dispatcher, its_own_probe_is_answered_although_it_is_outside_allowed_sources) {
    dispatcher.send(pbx.options_bytes());  // no stamp: the balancer's own OPTIONS
    EXPECT_EQ(dispatcher.expect("SIP/2.0 200").status(), 200);
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "downstream"}, {"reason", "source_not_allowed"}}), 0);
    pbx.expect_nothing();
}

TEST_F(behind_a_dispatcher, allowed_sources_judge_the_stamped_source) {
    dispatcher.send(forwarded(pbx.options_bytes(), "127.0.0.11:5101"));
    EXPECT_EQ(dispatcher.expect("SIP/2.0 200").status(), 200);
    dispatcher.send(forwarded(pbx.options_bytes(), "192.0.2.99:5060"));
    EXPECT_EQ(dispatcher.expect("SIP/2.0 403").status(), 403);
    pbx_call c;
    dispatcher.send(forwarded(pbx.invite_bytes(c), "192.0.2.99:5060"));
    EXPECT_EQ(dispatcher.expect("SIP/2.0 403").status(), 403);
    const auto failures = b2b.auth_failures().query({});
    ASSERT_EQ(failures.size(), 1u);
    ASSERT_TRUE(failures[0].last.source);
    EXPECT_EQ(failures[0].last.source->address, boost::asio::ip::make_address("192.0.2.99"));
    EXPECT_EQ(failures[0].count, 2u);
}

TEST_F(behind_a_dispatcher, a_pbx_is_challenged_and_its_nonce_is_bound_to_its_own_address) {
    pbx_call c;
    dispatcher.send(forwarded(pbx.invite_bytes(c), "127.0.0.11:5101"));
    auto challenge = dispatcher.expect("SIP/2.0 407");
    dispatcher.send(forwarded(pbx.ack_failure_bytes(c, challenge), "127.0.0.11:5101"));
    ++c.cseq;
    const auto answer = pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", pbx.request_uri(c));
    // The same answer stamped with another allowed address does not pass: the nonce was
    // issued to 127.0.0.11.
    dispatcher.send(forwarded(pbx.invite_bytes(c, answer), "127.0.0.12:5102"));
    auto refused = dispatcher.take_matching("SIP/2.0 4");
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_TRUE(trunk_named("carrier").take_matching("INVITE").empty());
    dispatcher.send(forwarded(pbx.ack_failure_bytes(c, refused[0]), "127.0.0.12:5102"));
    ++c.cseq;
    dispatcher.send(forwarded(pbx.invite_bytes(c, answer), "127.0.0.11:5101"));
    trunk_named("carrier").expect("INVITE");
    EXPECT_EQ(dispatcher.take_matching("SIP/2.0 100").size(), 1u);
    pbx.expect_nothing();  // every answer went back through the balancer
}

TEST_F(behind_a_dispatcher, a_trunk_is_recognised_by_the_stamped_address) {
    trunk_actor& trunk = trunk_named("carrier");
    provider_call pc;
    dispatcher.send(forwarded(provider_invite(trunk, *this, pc), trunk.host_port()));
    auto invite = pbx.expect("INVITE");  // an inbound call, never challenged
    EXPECT_EQ(invite.find("X-Source-Address"), nullptr);  // nothing of the balancer's passes
    EXPECT_TRUE(dispatcher.take_matching("SIP/2.0 407").empty());
    pbx.respond(invite, 486, "Busy Here");
    pbx.take();
    EXPECT_EQ(dispatcher.take_matching("SIP/2.0 486").size(), 1u);
}

TEST_F(behind_a_dispatcher, a_failure_the_far_end_caused_is_final_for_the_balancer_and_only_then) {
    trunk_actor& trunk = trunk_named("carrier");
    // Through the balancer: the trunk's 503 would be every node's, so it says "final".
    pbx_call c;
    dispatcher.send(forwarded(pbx.invite_bytes(c), "127.0.0.11:5101"));
    auto challenge = dispatcher.expect("SIP/2.0 407");
    EXPECT_EQ(challenge.find("X-Cluster-Final"), nullptr) << "a 4xx never fails over: nothing to say";
    dispatcher.send(forwarded(pbx.ack_failure_bytes(c, challenge), "127.0.0.11:5101"));
    ++c.cseq;
    const auto answer = pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", pbx.request_uri(c));
    dispatcher.send(forwarded(pbx.invite_bytes(c, answer), "127.0.0.11:5101"));
    auto invite = trunk.expect("INVITE");
    trunk.respond(invite, 503, "Service Unavailable");
    trunk.expect("ACK");
    auto refused = dispatcher.take_matching("SIP/2.0 503");
    ASSERT_EQ(refused.size(), 1u);
    const auto* final_mark = refused[0].find("X-Cluster-Final");
    ASSERT_NE(final_mark, nullptr) << refused[0].wire();
    EXPECT_EQ(final_mark->value, "far-end");

    // The same call straight from the PBX (no balancer in between): nobody to tell.
    pbx_call direct;
    direct.call_id = "direct-1@127.0.0.11";
    direct.from_tag = "pbxtag2";
    auto invite2 = authenticated_invite(pbx, direct, trunk);
    trunk.respond(invite2, 503, "Service Unavailable");
    trunk.expect("ACK");
    auto plain = pbx.take_matching("SIP/2.0 503");
    ASSERT_EQ(plain.size(), 1u);
    EXPECT_EQ(plain[0].find("X-Cluster-Final"), nullptr) << plain[0].wire();
}

TEST_F(behind_a_dispatcher, a_stamp_that_is_no_address_gets_400) {
    dispatcher.send(forwarded(pbx.options_bytes(), "pbx.example.com"));
    auto bad = dispatcher.expect("SIP/2.0 400");
    EXPECT_EQ(bad.reason(), "Bad X-Source-Address");
}

TEST(cluster_unstamped, a_stamp_from_a_pbx_itself_changes_nothing) {
    b2bua_harness h({b2bua_harness::numbered_trunk(1, "carrier", "")}, {}, cluster_yaml,
                    "  nonce_secret: cluster-wide-secret-0123\n  allowed_sources: [ \"127.0.0.21\" ]\n");
    pbx_actor& pbx = h.add_pbx("pbx");  // 127.0.0.11: not allowed, and not a balancer
    std::string bytes = pbx.options_bytes();
    bytes.insert(bytes.find("\r\n") + 2, "X-Source-Address: 127.0.0.21:5201\r\n");
    pbx.send(bytes);
    EXPECT_EQ(pbx.expect("SIP/2.0 403").status(), 403);
    h.expect_no_strays();
}

}  // namespace
}  // namespace b2b::b2bua::test
