// Registrations through the core: the PBX registering with us (digest, bindings, NAT, calls to
// its Contact), and us registering with a trunk (REGISTER on start, the Contact that makes the
// provider's calls ours, removal on drain, metrics).
#include "tests/unit/b2bua/call_flow.hpp"

#include "b2bua/auth_failure_log.hpp"

#include "registration/contact_token.hpp"
#include "sip/message/writer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

// ------------------------------------------------------------------- the PBX registers with us

constexpr const char* registered_route = R"(
inbound_routes:
  - { prefix: "", to: { registered: pbxuser }, name: office }
)";

/// A PBX's REGISTER for `user`, binding `contact` (a whole Contact value) for `expires` seconds.
struct pbx_registration {
    std::string user = "pbxuser";
    std::string contact;
    std::string call_id = "reg-1@10.0.0.1";
    std::uint32_t cseq = 1;
    std::string expires = "600";
};

std::string register_bytes(actor& pbx, const b2bua_harness& h, const pbx_registration& r,
                           const std::string& authorization = {}) {
    sip::message_writer w;
    w.request_line("REGISTER", "sip:" + h.core_host_port());
    w.header("Via", "SIP/2.0/UDP " + pbx.host_port() + ";branch=z9hG4bK-reg-" + std::to_string(r.cseq));
    w.header("From", "<sip:" + r.user + "@" + h.core_host_port() + ">;tag=regtag");
    w.header("To", "<sip:" + r.user + "@" + h.core_host_port() + ">");
    w.header("Call-ID", r.call_id);
    w.header("CSeq", std::to_string(r.cseq) + " REGISTER");
    if (!r.contact.empty()) w.header("Contact", r.contact);
    if (!r.expires.empty()) w.header("Expires", r.expires);
    w.header("Max-Forwards", "70");
    if (!authorization.empty()) w.header("Authorization", authorization);
    return std::move(w).finish();
}

/// REGISTER, 401, REGISTER with credentials: the final response.
sip::message register_with_us(actor& pbx, b2bua_harness& h, pbx_registration& r,
                              const std::string& password = "pbxpass") {
    pbx.send(register_bytes(pbx, h, r));
    auto challenge = pbx.expect("SIP/2.0 401");
    auto chosen = auth::select_challenge(challenge.values(sip::header_id::www_authenticate));
    EXPECT_TRUE(chosen.has_value());
    if (!chosen) return challenge;
    ++r.cseq;
    pbx.send(register_bytes(pbx, h, r,
                            auth::make_authorization(*chosen, {r.user, password}, "REGISTER",
                                                     "sip:" + h.core_host_port(), 1, "0a4f113b")));
    auto got = pbx.take();
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? sip::message{} : std::move(got.front());
}

class registrar_flow : public ::testing::Test, public b2bua_harness {
protected:
    registrar_flow()
        : b2bua_harness({numbered_trunk(1, "carrier", "")}, {}, registered_route,
                        "  registrar: { min_expires: 60, max_expires: 3600, default_expires: 600, keepalive_s: 30 }\n") {}
    void TearDown() override { expect_no_strays(); }

    pbx_actor& pbx = add_pbx("pbx");
    trunk_actor& trunk = trunk_named("carrier");
};

TEST_F(registrar_flow, a_register_is_challenged_with_401_and_binds_the_contact) {
    pbx_registration r{.contact = "<sip:pbxuser@" + pbx.host_port() + ">"};
    pbx.send(register_bytes(pbx, *this, r));
    auto challenge = pbx.expect("SIP/2.0 401");
    // A registrar challenges with WWW-Authenticate (RFC 3261 §22.1), even though calls get 407.
    EXPECT_FALSE(challenge.values(sip::header_id::www_authenticate).empty());
    EXPECT_TRUE(challenge.values(sip::header_id::proxy_authenticate).empty());

    r.cseq = 1;
    auto ok = register_with_us(pbx, *this, r);
    ASSERT_EQ(ok.status(), 200) << ok.wire();
    ASSERT_EQ(ok.contacts().size(), 1u);
    EXPECT_EQ(ok.contacts().front().uri.text, "sip:pbxuser@" + pbx.host_port());
    EXPECT_NE(std::string(header(ok, sip::header_id::contact)).find("expires=600"), std::string::npos);
    EXPECT_EQ(counter("b2bua_downstream_registrations", {}), 1);
    EXPECT_EQ(counter("b2bua_auth_successes_total", {{"direction", "downstream"}}), 1);
}

TEST_F(registrar_flow, an_unknown_user_gets_the_same_challenge_and_then_403) {
    pbx_registration r{.user = "nobody", .contact = "<sip:nobody@" + pbx.host_port() + ">"};
    auto answer = register_with_us(pbx, *this, r, "guess");
    EXPECT_EQ(answer.status(), 403);
    EXPECT_EQ(counter("b2bua_downstream_registrations", {}), 0);
}

TEST_F(registrar_flow, another_account_cannot_bind_a_users_address_of_record) {
    // Authenticated as pbxuser, but the To names someone else: §10.3 step 3-4.
    pbx_registration r{.user = "pbxuser", .contact = "<sip:x@" + pbx.host_port() + ">"};
    pbx.send(register_bytes(pbx, *this, r));
    auto challenge = pbx.expect("SIP/2.0 401");
    auto chosen = auth::select_challenge(challenge.values(sip::header_id::www_authenticate));
    ASSERT_TRUE(chosen.has_value());
    sip::message_writer w;
    w.request_line("REGISTER", "sip:" + core_host_port());
    w.header("Via", "SIP/2.0/UDP " + pbx.host_port() + ";branch=z9hG4bK-reg-other");
    w.header("From", "<sip:reception@" + core_host_port() + ">;tag=regtag");
    w.header("To", "<sip:reception@" + core_host_port() + ">");
    w.header("Call-ID", r.call_id);
    w.header("CSeq", "2 REGISTER");
    w.header("Contact", r.contact);
    w.header("Max-Forwards", "70");
    w.header("Authorization", auth::make_authorization(*chosen, {"pbxuser", "pbxpass"}, "REGISTER",
                                                       "sip:" + core_host_port(), 1, "0a4f113b"));
    pbx.send(std::move(w).finish());
    EXPECT_EQ(pbx.expect("SIP/2.0 403").status(), 403);
    EXPECT_EQ(counter("b2bua_downstream_registrations", {}), 0);
}

TEST_F(registrar_flow, too_brief_an_interval_gets_423_with_min_expires) {
    pbx_registration r{.contact = "<sip:pbxuser@" + pbx.host_port() + ">", .expires = "30"};
    auto answer = register_with_us(pbx, *this, r);
    ASSERT_EQ(answer.status(), 423);
    EXPECT_NE(answer.wire().find("Min-Expires: 60"), std::string::npos) << answer.wire();
    EXPECT_EQ(counter("b2bua_downstream_registrations", {}), 0);
}

TEST_F(registrar_flow, a_call_for_the_account_goes_to_its_registered_contact) {
    pbx_registration r{.contact = "<sip:pbxuser@" + pbx.host_port() + ";line=7>"};
    ASSERT_EQ(register_with_us(pbx, *this, r).status(), 200);

    provider_call pc;
    trunk.send(provider_invite(trunk, *this, pc));
    auto invite = pbx.expect("INVITE");
    // §8.1.1.1: the Request-URI is the Contact as registered, parameters included.
    EXPECT_EQ(invite.request_uri().text, "sip:pbxuser@" + pbx.host_port() + ";line=7");
    // The dialled number travels in To.
    EXPECT_EQ(invite.to().uri.user, "+4930111");
    pbx.send(pbx_ok(pbx, invite));
    EXPECT_EQ(trunk.take_matching("SIP/2.0 200").size(), 1u);
    EXPECT_EQ(counter("b2bua_calls_total", {{"direction", "inbound"}, {"result", "answered"}}), 1);
}

TEST_F(registrar_flow, without_a_binding_the_call_gets_480_counted_as_not_registered) {
    provider_call pc;
    trunk.send(provider_invite(trunk, *this, pc));
    EXPECT_EQ(trunk.expect("SIP/2.0 480").status(), 480);
    EXPECT_EQ(counter("b2bua_calls_total",
                      {{"direction", "inbound"}, {"trunk", "carrier"}, {"result", "not_registered"}}),
              1);
    pbx.expect_nothing();
}

TEST_F(registrar_flow, an_expired_binding_takes_no_more_calls) {
    pbx_registration r{.contact = "<sip:pbxuser@" + pbx.host_port() + ">", .expires = "60"};
    ASSERT_EQ(register_with_us(pbx, *this, r).status(), 200);
    clock.advance(59s);
    EXPECT_EQ(counter("b2bua_downstream_registrations", {}), 1);
    clock.advance(2s);
    EXPECT_EQ(counter("b2bua_downstream_registrations", {}), 0);
    provider_call pc;
    trunk.send(provider_invite(trunk, *this, pc));
    EXPECT_EQ(trunk.expect("SIP/2.0 480").status(), 480);
}

TEST_F(registrar_flow, expires_zero_removes_the_binding) {
    pbx_registration r{.contact = "<sip:pbxuser@" + pbx.host_port() + ">"};
    ASSERT_EQ(register_with_us(pbx, *this, r).status(), 200);
    ++r.cseq;
    r.expires = "0";
    r.call_id = "reg-1@10.0.0.1";
    // The nonce is still good: the PBX answers with the next nc, as a real one does; here a
    // fresh challenge round is simpler and just as valid.
    auto ok = register_with_us(pbx, *this, r);
    ASSERT_EQ(ok.status(), 200) << ok.wire();
    EXPECT_TRUE(ok.contacts().empty());
    EXPECT_EQ(counter("b2bua_downstream_registrations", {}), 0);
}

TEST_F(registrar_flow, behind_nat_the_call_and_keepalives_go_to_the_source) {
    // The Contact names the PBX's LAN address; the REGISTER came from its NAT's public one.
    pbx_registration r{.contact = "<sip:pbxuser@192.168.1.50:5060>"};
    ASSERT_EQ(register_with_us(pbx, *this, r).status(), 200);

    clock.advance(30s);
    collect();
    EXPECT_EQ(pbx.keepalives(), 1u);
    clock.advance(30s);
    collect();
    EXPECT_EQ(pbx.keepalives(), 2u);

    provider_call pc;
    trunk.send(provider_invite(trunk, *this, pc));
    auto invite = pbx.expect("INVITE");  // at the source address: nothing went to 192.168.1.50
    EXPECT_EQ(invite.request_uri().text, "sip:pbxuser@192.168.1.50:5060");
    // Its 200 names the LAN Contact again: the BYE still goes to the source.
    pbx.send(pbx.response(invite, 200, "OK", {{"Contact", "<sip:pbxuser@192.168.1.50:5060>"}},
                          b2bua_harness::sdp_answer));
    auto ok = trunk.take_matching("SIP/2.0 200");
    ASSERT_EQ(ok.size(), 1u);
    const std::string to_tag(ok.front().to().tag);
    trunk.send(provider_in_dialog(trunk, *this, pc, "ACK", pc.cseq, to_tag));
    pbx.expect("ACK");
    trunk.send(provider_in_dialog(trunk, *this, pc, "BYE", pc.cseq + 1, to_tag));
    auto bye = pbx.expect("BYE");
    EXPECT_EQ(bye.request_uri().text, "sip:pbxuser@192.168.1.50:5060");
    pbx.respond(bye, 200, "OK");
    EXPECT_EQ(trunk.take_matching("SIP/2.0 200").size(), 1u);
}

TEST_F(registrar_flow, a_binding_at_its_own_source_gets_no_keepalives) {
    pbx_registration r{.contact = "<sip:pbxuser@" + pbx.host_port() + ">"};
    ASSERT_EQ(register_with_us(pbx, *this, r).status(), 200);
    clock.advance(90s);
    collect();
    EXPECT_EQ(pbx.keepalives(), 0u);
}

TEST_F(registrar_flow, bindings_another_node_took_place_calls_here_from_our_own_address_and_their_removal_too) {
    // Node 3 of a cluster took the PBX's REGISTER (through the balancer): from behind NAT, so
    // calls go to its source, pinned to node 3's socket there. Here they go from ours.
    registration::binding b;
    b.user = "pbxuser";
    b.contact = "sip:pbxuser@192.168.1.50:5060";
    b.call_id = "reg-9@10.0.0.1";
    b.cseq = 4;
    b.source = {sip::transport_kind::udp, ep("127.0.0.13", 5060), pbx.address(), 0};
    b.behind_nat = true;
    b.destination = pbx.address();
    const auto kept = b2b.adopt_pbx_bindings("pbxuser", {{b, b2b.wall_now() + 300s}}, "node3");
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept[0].first.source.local, net.local());
    EXPECT_EQ(counter("b2bua_downstream_registrations", {}), 1);

    provider_call pc;
    trunk.send(provider_invite(trunk, *this, pc));
    auto invite = pbx.expect("INVITE");
    EXPECT_EQ(invite.request_uri().text, "sip:pbxuser@192.168.1.50:5060");
    EXPECT_EQ(std::string(invite.vias().front().host) + ":" + std::to_string(invite.vias().front().port),
              core_host_port())
        << invite.wire();
    pbx.respond(invite, 486, "Busy Here");
    pbx.expect("ACK");
    EXPECT_EQ(trunk.take_matching("SIP/2.0 486").size(), 1u);

    // §10.3 step 7 across nodes: the PBX's next REGISTER here goes on from node 3's CSeq.
    pbx_registration stale{.contact = "<sip:pbxuser@192.168.1.50:5060>", .call_id = "reg-9@10.0.0.1", .cseq = 2};
    EXPECT_EQ(register_with_us(pbx, *this, stale).status(), 400);

    // One already expired is left out; none left on node 3 means none here.
    EXPECT_TRUE(b2b.adopt_pbx_bindings("pbxuser", {{b, b2b.wall_now() - 1s}}, "node3").empty());
    EXPECT_EQ(counter("b2bua_downstream_registrations", {}), 0);
    provider_call again{.call_id = "prov-call-2@sbc.carrier.example", .from_tag = "provtag2", .branch = "z9hG4bK-prov-2"};
    trunk.send(provider_invite(trunk, *this, again));
    EXPECT_EQ(trunk.take_matching("SIP/2.0 480").size(), 1u);
}

TEST_F(registrar_flow, a_call_to_a_binding_with_a_path_goes_through_it_as_a_preloaded_route) {
    // The REGISTER came through a proxy that added a Path (RFC 3327), as the cluster's
    // dispatcher does: the call goes to that proxy, which takes it on to the PBX.
    actor& proxy = add_actor("proxy", ep("127.0.0.10", 5060));
    const std::string path = "<sip:127.0.0.10:5060;lr;received=sip:" + pbx.host_port() + ">";
    registration::binding b;
    b.user = "pbxuser";
    b.contact = "sip:pbxuser@192.168.1.50:5060";
    b.call_id = "reg-p@10.0.0.1";
    b.cseq = 2;
    b.source = {sip::transport_kind::udp, net.local(), proxy.address(), 0};
    b.destination = proxy.address();
    b.path = {path};
    ASSERT_EQ(b2b.adopt_pbx_bindings("pbxuser", {{b, b2b.wall_now() + 300s}}, "node3").size(), 1u);

    provider_call pc;
    trunk.send(provider_invite(trunk, *this, pc));
    auto invite = proxy.expect("INVITE");
    EXPECT_EQ(invite.request_uri().text, "sip:pbxuser@192.168.1.50:5060");
    ASSERT_EQ(invite.routes().size(), 1u) << invite.wire();
    EXPECT_EQ(invite.routes()[0].text, path);
    pbx.expect_nothing();
    // A refusal's ACK goes the INVITE's way, with its Route (RFC 3261 §17.1.1.3).
    proxy.respond(invite, 486, "Busy Here");
    auto ack = proxy.expect("ACK");
    ASSERT_EQ(ack.routes().size(), 1u) << ack.wire();
    EXPECT_EQ(ack.routes()[0].text, path);
    EXPECT_EQ(trunk.take_matching("SIP/2.0 486").size(), 1u);
}

TEST_F(registrar_flow, a_trunk_may_not_register) {
    pbx_registration r{.user = "carrier", .contact = "<sip:x@" + trunk.host_port() + ">"};
    trunk.send(register_bytes(trunk, *this, r));
    EXPECT_EQ(trunk.expect("SIP/2.0 403").status(), 403);
}

TEST(registrar_sources, a_register_from_outside_allowed_sources_gets_403_before_any_challenge) {
    b2bua_harness h({b2bua_harness::numbered_trunk(1, "carrier", "")}, {}, {}, "  allowed_sources: [ \"10.0.0.0/8\" ]\n");
    pbx_actor& pbx = h.add_pbx("pbx");  // 127.0.0.11: outside 10.0.0.0/8
    pbx_registration r{.contact = "<sip:pbxuser@" + pbx.host_port() + ">"};
    pbx.send(register_bytes(pbx, h, r));
    EXPECT_EQ(pbx.expect("SIP/2.0 403").status(), 403);
    EXPECT_EQ(h.counter("b2bua_auth_failures_total", {{"direction", "downstream"}, {"reason", "source_not_allowed"}}), 1);
    EXPECT_EQ(h.counter("b2bua_auth_challenges_total", {{"direction", "downstream"}}), 0);
    h.expect_no_strays();
}

// --------------------------------------------------------------------- we register with a trunk

class trunk_registration : public ::testing::Test, public b2bua_harness {
protected:
    trunk_registration()
        : b2bua_harness({numbered_trunk(1, "carrier", "", "register: true, register_expires: 120, identify_by: none")},
                        {},
                        "inbound_routes:\n  - { prefix: \"\", to: \"sip:127.0.0.11:5101\", name: office }\n") {}
    void TearDown() override { expect_no_strays(); }

    std::string token() const { return registration::contact_user("carrier", "carrier-user", "carrier-pass"); }

    /// An INVITE from `from` to `user` at our address, dialling +4930111 in To, as a provider
    /// sends one to a registered Contact.
    std::string invite_to(const actor& from, const std::string& user) const {
        sip::message_writer w;
        w.request_line("INVITE", "sip:" + user + "@" + core_host_port());
        w.header("Via", "SIP/2.0/UDP " + from.host_port() + ";branch=z9hG4bK-" + from.name() + "-1");
        w.header("From", "<sip:+4989555@carrier.example>;tag=" + from.name() + "1");
        w.header("To", "<sip:+4930111@carrier.example>");
        w.header("Call-ID", from.name() + "-call-1");
        w.header("CSeq", "1 INVITE");
        w.header("Contact", "<sip:gw@" + from.host_port() + ">");
        w.header("Max-Forwards", "70");
        return std::move(w).finish(b2bua_harness::sdp_offer, "application/sdp");
    }

    /// The first REGISTER, challenged and answered, granted `granted` seconds.
    sip::message registered(const std::string& granted = "120") {
        auto first = trunk.expect("REGISTER");
        trunk.challenge(first);
        auto second = trunk.expect("REGISTER");
        EXPECT_TRUE(trunk.accepts(second));
        trunk.respond(second, 200, "OK",
                      {{"Contact", "<sip:" + token() + "@" + core_host_port() + ">;expires=" + granted}});
        return second;
    }

    pbx_actor& pbx = add_pbx("pbx");
    trunk_actor& trunk = trunk_named("carrier");
};

TEST_F(trunk_registration, registers_on_start_as_the_account_with_our_contact) {
    auto reg = trunk.expect("REGISTER");
    EXPECT_EQ(reg.request_uri().text, "sip:" + trunk.host_port());
    EXPECT_EQ(reg.to().uri.text, "sip:carrier-user@" + trunk.host_port());
    EXPECT_EQ(reg.from().uri.text, "sip:carrier-user@" + trunk.host_port());
    ASSERT_EQ(reg.contacts().size(), 1u);
    EXPECT_EQ(reg.contacts().front().uri.text, "sip:" + token() + "@" + core_host_port());
    EXPECT_EQ(header(reg, sip::header_id::expires), "120");
    EXPECT_EQ(counter("b2bua_upstream_registration_state", {{"trunk", "carrier"}, {"state", "registering"}}), 1);
    EXPECT_EQ(counter("b2bua_upstream_registration_attempts_total", {{"trunk", "carrier"}, {"outcome", "forbidden"}}),
              0);
}

TEST_F(trunk_registration, registered_is_counted_and_exported) {
    registered("90");
    EXPECT_EQ(counter("b2bua_upstream_registration_state", {{"trunk", "carrier"}, {"state", "registered"}}), 1);
    EXPECT_EQ(counter("b2bua_upstream_registration_state", {{"trunk", "carrier"}, {"state", "registering"}}), 0);
    EXPECT_EQ(counter("b2bua_upstream_registration_attempts_total", {{"trunk", "carrier"}, {"outcome", "registered"}}),
              1);
    EXPECT_EQ(counter("b2bua_upstream_registration_expires_seconds", {{"trunk", "carrier"}}), 90);
    const double next = counter("b2bua_upstream_registration_next_attempt_seconds", {{"trunk", "carrier"}});
    EXPECT_GE(next, 0.5 * 90 - 1);
    EXPECT_LE(next, 0.8 * 90 + 1);
    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "upstream"}, {"peer", "carrier"}}), 1);
}

TEST_F(trunk_registration, a_call_to_our_contact_is_the_trunks_from_any_address) {
    registered();
    // The provider's media gateway, at an address the trunk's configuration does not name.
    actor& gateway = add_actor("gateway", ep("127.0.0.99", 5060));
    gateway.send(invite_to(gateway, token()));
    (void)gateway.take_matching("SIP/2.0 100");
    // Not challenged (a PBX would be): the dialled number comes from To.
    auto invite = pbx.expect("INVITE");
    EXPECT_EQ(invite.request_uri().user, "+4930111");
    // Our Contact token never reaches the PBX.
    EXPECT_EQ(invite.wire().find(token()), std::string::npos);
    pbx.send(pbx_ok(pbx, invite));
    gateway.expect("SIP/2.0 200");
    EXPECT_EQ(counter("b2bua_calls_total", {{"direction", "inbound"}, {"trunk", "carrier"}, {"result", "answered"}}), 1);
}

TEST_F(trunk_registration, a_call_to_another_user_from_an_unknown_address_is_a_pbxs_and_challenged) {
    registered();
    actor& stranger = add_actor("stranger", ep("127.0.0.99", 5060));
    stranger.send(invite_to(stranger, "0123456789abcdef0123456789abcdef"));
    stranger.expect("SIP/2.0 407");
    pbx.expect_nothing();
}

TEST(trunk_registration_sources, the_providers_options_to_our_contact_is_answered_from_any_address) {
    // Only PBXs from 10.0.0.0/8 may send requests; the provider probes our Contact from elsewhere.
    b2bua_harness h({b2bua_harness::numbered_trunk(1, "carrier", "", "register: true")}, {}, {},
                    "  allowed_sources: [ \"10.0.0.0/8\" ]\n");
    (void)h.trunk_named("carrier").take();
    actor& prober = h.add_actor("prober", ep("127.0.0.99", 5060));
    const auto options = [&](const std::string& user) {
        sip::message_writer w;
        w.request_line("OPTIONS", "sip:" + user + "@" + h.core_host_port());
        w.header("Via", "SIP/2.0/UDP " + prober.host_port() + ";branch=z9hG4bK-opt-" + user.substr(0, 4));
        w.header("From", "<sip:ping@carrier.example>;tag=p1");
        w.header("To", "<sip:" + user + "@" + h.core_host_port() + ">");
        w.header("Call-ID", "opt-" + user.substr(0, 4));
        w.header("CSeq", "1 OPTIONS");
        w.header("Max-Forwards", "70");
        return std::move(w).finish();
    };
    prober.send(options(registration::contact_user("carrier", "carrier-user", "carrier-pass")));
    EXPECT_EQ(prober.expect("SIP/2.0 200").status(), 200);
    prober.send(options("someone"));
    EXPECT_EQ(prober.expect("SIP/2.0 403").status(), 403);
    h.expect_no_strays();
}

TEST_F(trunk_registration, a_drain_removes_the_registration_before_it_is_done) {
    registered();
    int done = 0;
    b2b.drain(30s, [&] { ++done; });
    auto removal = trunk.expect("REGISTER");
    EXPECT_EQ(header(removal, sip::header_id::expires), "0");
    EXPECT_EQ(done, 0);
    trunk.respond(removal, 200, "OK");
    collect();
    EXPECT_EQ(done, 1);
    EXPECT_EQ(counter("b2bua_upstream_registration_state", {{"trunk", "carrier"}, {"state", "unregistered"}}), 1);
}

TEST_F(trunk_registration, a_drain_waits_a_bounded_time_for_an_unanswered_removal) {
    registered();
    int done = 0;
    b2b.drain(30s, [&] { ++done; });
    (void)trunk.take_matching("REGISTER");
    clock.advance(b2b.drain_linger() - 1ms);
    EXPECT_EQ(done, 0);
    clock.advance(1ms);
    EXPECT_EQ(done, 1);
    (void)trunk.take();  // the removal's retransmissions
}

TEST_F(trunk_registration, a_register_refused_again_and_again_is_recorded_with_how_often) {
    // The next REGISTER (after a refusal: the back-off, 540-660 s and growing), taken when sent.
    const auto next_register = [&]() -> sip::message {
        for (int i = 0; i < 3600; ++i) {
            clock.advance(1s);
            auto sent = trunk.take_matching("REGISTER");  // the first send, and a retransmission
            if (!sent.empty()) return std::move(sent.front());
        }
        ADD_FAILURE() << "no REGISTER within an hour";
        return {};
    };
    auth_failure_filter forbidden;
    forbidden.reason = auth::failure::forbidden;
    for (unsigned refused = 1; refused <= 3; ++refused) {
        auto first = refused == 1 ? trunk.expect("REGISTER") : next_register();
        trunk.challenge(first);
        trunk.respond(trunk.expect("REGISTER"), 403, "Forbidden");
        collect();
        const auto failures = b2b.auth_failures().query(forbidden);
        ASSERT_EQ(failures.size(), refused);  // the retries are minutes apart: one entry each
        const auto& r = failures[0].last;
        EXPECT_EQ(r.method, "REGISTER");
        EXPECT_EQ(r.trunk, "carrier");
        EXPECT_EQ(r.refused_in_a_row, refused);
        const bool says_so = hint(failures[0]).find("refused " + std::to_string(refused) + " times in a row") !=
                             std::string::npos;
        EXPECT_EQ(says_so, refused > 1) << hint(failures[0]);
    }
    // A success starts the count over: the refresh refused next is the first in a row.
    auto retry = next_register();
    trunk.challenge(retry);
    trunk.respond(trunk.expect("REGISTER"), 200, "OK",
                  {{"Contact", "<sip:" + token() + "@" + core_host_port() + ">;expires=120"}});
    auto refresh = next_register();  // at 50-80 % of 120 s
    trunk.challenge(refresh);
    trunk.respond(trunk.expect("REGISTER"), 403, "Forbidden");
    collect();
    const auto failures = b2b.auth_failures().query({});
    ASSERT_EQ(failures.size(), 4u);
    EXPECT_EQ(failures[0].last.refused_in_a_row, 1u);
}

}  // namespace
}  // namespace b2b::b2bua::test

namespace b2b::b2bua::test {
namespace {

// The operator rotates the trunk's password (the admin API's PATCH): a new REGISTER goes out at
// once with the new credentials and the Contact they make; the old binding is removed, and a
// call the provider still sends to the old Contact is the trunk's until that binding would lapse.
TEST_F(trunk_registration, a_rotated_password_registers_again_at_once_with_the_new_contact) {
    registered("120");
    const auto old_token = token();
    auto next = parse_config(make_config({numbered_trunk(1, "carrier", "", "register: true, register_expires: 120, "
                                                                          "identify_by: none")},
                                         {}, {}) +
                             "inbound_routes:\n  - { prefix: \"\", to: \"sip:127.0.0.11:5101\", name: office }\n");
    next.upstream.trunks[0].password = "rotated";
    trunk.set_password("rotated");
    b2b.reconfigure(next.upstream.trunks, next.routes, next.inbound_routes);
    const auto new_token = registration::contact_user("carrier", "carrier-user", "rotated");
    ASSERT_NE(new_token, old_token);

    // Two REGISTERs now: the old binding removed (Expires: 0, old Contact) and the new one.
    auto regs = trunk.take_matching("REGISTER");
    ASSERT_EQ(regs.size(), 2u);
    const auto& fresh = regs[0].contacts().front().uri.text.find(new_token) != std::string::npos ? regs[0] : regs[1];
    const auto& removal = &fresh == &regs[0] ? regs[1] : regs[0];
    EXPECT_EQ(fresh.contacts().front().uri.text, "sip:" + new_token + "@" + core_host_port());
    EXPECT_NE(removal.contacts().front().uri.text.find(old_token), std::string::npos);
    trunk.challenge(fresh);
    auto answered = trunk.expect("REGISTER");
    EXPECT_TRUE(trunk.accepts(answered)) << "the new REGISTER answers with the new password";
    trunk.respond(answered, 200, "OK", {{"Contact", "<sip:" + new_token + "@" + core_host_port() + ">;expires=120"}});
    trunk.respond(removal, 200, "OK");

    // The provider still delivers a call to the old Contact: it is the trunk's, to the PBX.
    trunk.send(invite_to(trunk, old_token));
    trunk.take_matching("SIP/2.0 100");
    auto at_pbx = pbx.expect("INVITE");
    pbx.respond(at_pbx, 486, "Busy Here");
    pbx.take();
    trunk.take();
}

// ------------------------------------------------------ one node of a cluster registers a trunk

// cluster.redis: the trunk's registration runs only while this node holds its lease (the
// lease itself is cluster_node's, against a real Redis in e2e.cluster); here the core is told.
class shared_trunk_registration : public ::testing::Test, public b2bua_harness {
protected:
    shared_trunk_registration()
        : b2bua_harness({numbered_trunk(1, "carrier", "", "register: true, register_expires: 120, identify_by: none")},
                        {},
                        "cluster:\n  dispatchers: [127.0.0.10/32]\n  contact: '127.0.0.10:5060'\n  node_id: node-a\n"
                        "  redis: '127.0.0.1:6379'\n",
                        "  nonce_secret: cluster-wide-secret-0123\n") {}
    void TearDown() override { expect_no_strays(); }
    std::string token() const { return registration::contact_user("carrier", "carrier-user", "carrier-pass"); }
    trunk_actor& trunk = trunk_named("carrier");
};

TEST_F(shared_trunk_registration, only_the_lease_holder_registers_and_letting_go_removes_nothing) {
    EXPECT_EQ(b2b.registering_trunks(), std::vector<std::string>{"carrier"});
    clock.advance(5s);
    trunk.expect_nothing();  // no lease, no REGISTER
    b2b.own_trunk_registration("carrier", true);
    auto first = trunk.expect("REGISTER");
    // The balancer's address in Contact: the provider's calls reach any node.
    EXPECT_EQ(first.contacts().front().uri.text, "sip:" + token() + "@127.0.0.10:5060");
    trunk.challenge(first);
    auto second = trunk.expect("REGISTER");
    trunk.respond(second, 200, "OK", {{"Contact", "<sip:" + token() + "@127.0.0.10:5060>;expires=120"}});
    collect();
    EXPECT_EQ(counter("b2bua_upstream_registration_state", {{"trunk", "carrier"}, {"state", "registered"}}), 1);
    // Another node has the lease now: this one stops refreshing, and removes nothing.
    b2b.own_trunk_registration("carrier", false);
    clock.advance(200s);
    trunk.expect_nothing();
    // A token call still reaches this node through the balancer and is the trunk's.
    b2b.own_trunk_registration("carrier", true);
    trunk.expect("REGISTER");  // at once, not at the old refresh point
    int done = 0;
    b2b.drain(30s, [&] { ++done; });
    clock.advance(1s);
    EXPECT_EQ(done, 1);  // the binding is the cluster's: no Expires: 0 on drain
    trunk.take();        // the REGISTER's retransmissions, if any; no removal among them
    for (const auto& text : trunk.received()) EXPECT_EQ(text.find("Expires: 0"), std::string::npos) << text;
}

TEST_F(shared_trunk_registration, a_node_without_the_lease_names_the_one_that_registers) {
    std::string holder = "node-b";
    b2b.set_registration_holder([&](std::string_view name) { return name == "carrier" ? holder : std::string(); });
    auto status = b2b.trunks();
    ASSERT_EQ(status.size(), 1u);
    ASSERT_TRUE(status[0].registration);
    EXPECT_EQ(status[0].registered_by, std::optional<std::string>("node-b"));
    EXPECT_EQ(b2b.registered_elsewhere("carrier"), std::optional<std::string>("node-b"));
    EXPECT_EQ(b2b.registered_elsewhere("nonesuch"), std::nullopt);
    holder.clear();  // the lease just lapsed: nobody known yet
    EXPECT_EQ(b2b.trunks()[0].registered_by, std::optional<std::string>(""));

    b2b.own_trunk_registration("carrier", true);
    trunk.expect("REGISTER");
    EXPECT_EQ(b2b.trunks()[0].registered_by, std::nullopt) << "this node registers it: its own status counts";
    EXPECT_EQ(b2b.registered_elsewhere("carrier"), std::nullopt);
    trunk.take();
}

}  // namespace
}  // namespace b2b::b2bua::test
