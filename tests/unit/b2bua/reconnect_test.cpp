// A call over TCP whose connection is gone mid-call: the next request in the dialog opens a new
// connection to the remote target (RFC 3261 §18.1.1, §12.2.1.1), a response goes to the top
// Via's sent-by (§18.2.2), and a PBX behind NAT, reachable only over its own connection, is not
// connected to: its BYE fails and the call ends on our side (RFC 5626 §5.3).
#include "tests/unit/b2bua/call_flow.hpp"

#include "auth/client.hpp"
#include "sip/message/writer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

/// `bytes` as a peer sends them over TCP connection `connection` from `from`.
void send_tcp(b2bua_harness& h, const sip::endpoint& from, std::uint64_t connection, std::string_view bytes) {
    h.net.inject(bytes, sip::flow{sip::transport_kind::tcp, h.net.local(), from, connection}, sip::framing::stream);
}

/// The PBX actor's request as it writes it over TCP: TCP in its Via, transport=tcp in its
/// Contact, and no edge proxy (its Record-Route names a host we cannot resolve, so the dialog
/// could reach nothing once the connection is gone).
std::string over_tcp(std::string bytes, const actor& pbx) {
    const auto replace = [&](const std::string& from, const std::string& to) {
        if (auto at = bytes.find(from); at != std::string::npos) bytes.replace(at, from.size(), to);
    };
    replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    replace("<sip:200@" + pbx.host_port() + ">", "<sip:200@" + pbx.host_port() + ";transport=tcp>");
    replace("Record-Route: <sip:pbx-proxy.internal;lr>\r\n", "");
    return bytes;
}

/// The last send of the core to `to`, by its flow.
sip::flow last_flow_to(const b2bua_harness& h, const sip::endpoint& to) {
    for (auto it = h.net.sent().rbegin(); it != h.net.sent().rend(); ++it) {
        if (it->flow.remote == to) return it->flow;
    }
    ADD_FAILURE() << "nothing was sent to " << to.to_string();
    return {};
}

// ------------------------------------------------------------ a trunk's call to a PBX over TCP

constexpr const char* pbx_over_tcp = R"(
inbound_routes:
  - { prefix: "", to: "sip:127.0.0.11:5101;transport=tcp", name: office }
)";

class reconnect_to_pbx : public ::testing::Test, public b2bua_harness {
protected:
    reconnect_to_pbx() : b2bua_harness({numbered_trunk(1, "carrier", "")}, {}, pbx_over_tcp) {}
    void TearDown() override { expect_no_strays(); }

    /// The trunk's call, answered by the PBX over the connection the b2bua opened to it.
    /// Returns the trunk's To tag of the call.
    std::string answered_call(const std::string& pbx_contact) {
        trunk.send(provider_invite(trunk, *this, call));
        trunk.expect("SIP/2.0 100");
        invite = pbx.expect("INVITE");
        to_pbx = last_flow_to(*this, pbx.address());
        EXPECT_EQ(to_pbx.transport, sip::transport_kind::tcp);
        send_tcp(*this, pbx.address(), to_pbx.connection,
                 pbx.response(invite, 200, "OK", {{"Contact", pbx_contact}}, sdp_answer));
        auto ok = trunk.take_matching("SIP/2.0 200");
        EXPECT_EQ(ok.size(), 1u);
        const std::string to_tag = ok.empty() ? std::string() : std::string(ok.front().to().tag);
        trunk.send(provider_in_dialog(trunk, *this, call, "ACK", call.cseq, to_tag));
        pbx.expect("ACK");
        return to_tag;
    }

    pbx_actor& pbx = add_pbx("pbx");  // 127.0.0.11:5101, the route's target
    trunk_actor& trunk = trunk_named("carrier");
    provider_call call;
    sip::message invite;
    sip::flow to_pbx;
};

TEST_F(reconnect_to_pbx, the_trunks_bye_goes_on_a_new_connection_to_the_pbxs_contact) {
    const std::string to_tag = answered_call("<sip:ext100@" + pbx.host_port() + ";transport=tcp>");
    // The PBX closed the connection (or its idle timeout did) while the call went on.
    net.close_flow(to_pbx);
    trunk.send(provider_in_dialog(trunk, *this, call, "BYE", call.cseq + 1, to_tag));
    trunk.expect("SIP/2.0 200");
    auto bye = pbx.expect("BYE");
    EXPECT_EQ(bye.request_uri().text, "sip:ext100@" + pbx.host_port() + ";transport=tcp");
    const sip::flow fresh = last_flow_to(*this, pbx.address());
    EXPECT_EQ(fresh.transport, sip::transport_kind::tcp);
    EXPECT_NE(fresh.connection, to_pbx.connection);
    EXPECT_EQ(b2b.active_calls(), 1u);  // until the PBX answers the BYE
    send_tcp(*this, pbx.address(), fresh.connection, pbx.response(bye, 200, "OK"));
    clock.advance(0ms);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(reconnect_to_pbx, a_new_connection_goes_to_the_contact_not_to_the_routes_address) {
    // §12.2.1.1: the remote target is the PBX's Contact from its 200; it listens on another port.
    actor& ext = add_actor("ext100", ep("127.0.0.11", 5999));
    const std::string to_tag = answered_call("<sip:ext100@127.0.0.11:5999;transport=tcp>");
    net.close_flow(to_pbx);
    trunk.send(provider_in_dialog(trunk, *this, call, "BYE", call.cseq + 1, to_tag));
    trunk.expect("SIP/2.0 200");
    auto bye = ext.expect("BYE");
    pbx.expect_nothing();
    const sip::flow fresh = last_flow_to(*this, ext.address());
    EXPECT_NE(fresh.connection, to_pbx.connection);
    send_tcp(*this, ext.address(), fresh.connection, ext.response(bye, 200, "OK"));
    clock.advance(0ms);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(reconnect_to_pbx, while_the_connection_lives_it_is_used_as_it_is) {
    const std::string to_tag = answered_call("<sip:ext100@" + pbx.host_port() + ";transport=tcp>");
    trunk.send(provider_in_dialog(trunk, *this, call, "BYE", call.cseq + 1, to_tag));
    trunk.expect("SIP/2.0 200");
    auto bye = pbx.expect("BYE");
    EXPECT_EQ(last_flow_to(*this, pbx.address()), to_pbx);
    send_tcp(*this, pbx.address(), to_pbx.connection, pbx.response(bye, 200, "OK"));
    EXPECT_EQ(b2b.active_calls(), 0u);
}

// ------------------------------------------------------------ a PBX's call over its own TCP connection

/// The PBX connects to us from an ephemeral port (40001) of its address; it listens on 5101,
/// its Contact. What goes back on its connection reaches the `conn` actor; what goes on a new
/// connection to its Contact reaches `pbx`.
class reconnect_from_pbx : public call_flow {
protected:
    void send_on_connection(const std::string& bytes) { send_tcp(*this, conn.address(), connection, over_tcp(bytes, pbx)); }

    /// INVITE, 407, ACK, INVITE with credentials, all on the PBX's connection: returns the
    /// trunk's INVITE.
    sip::message invite_over_tcp(pbx_call& c) {
        send_on_connection(pbx.invite_bytes(c));
        auto challenge = conn.expect("SIP/2.0 407");
        send_on_connection(pbx.ack_failure_bytes(c, challenge));
        ++c.cseq;
        send_on_connection(pbx.invite_bytes(
            c, pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass", pbx.request_uri(c))));
        conn.expect("SIP/2.0 100");
        auto invite = trunk.expect("INVITE");
        trunk.challenge(invite);
        auto retries = trunk.take_matching("INVITE");
        EXPECT_EQ(retries.size(), 1u);
        return retries.empty() ? sip::message{} : std::move(retries.front());
    }

    /// The whole call up to the trunk's ACK; returns the trunk's INVITE.
    sip::message confirmed_over_tcp(pbx_call& c) {
        auto invite = invite_over_tcp(c);
        trunk.ok(invite);
        auto ok = conn.expect("SIP/2.0 200");
        c.to_tag = std::string(ok.to().tag);
        send_on_connection(pbx.in_dialog_bytes(c, "ACK", c.cseq));
        trunk.expect("ACK");
        return invite;
    }

    sip::flow pbx_connection() const {
        return {sip::transport_kind::tcp, net.local(), conn.address(), connection};
    }

    actor& conn = add_actor("pbx-connection", ep("127.0.0.11", 40001));
    std::uint64_t connection = 500;
};

TEST_F(reconnect_from_pbx, the_trunks_bye_goes_on_a_new_connection_to_the_pbxs_contact) {
    pbx_call c;
    auto invite = confirmed_over_tcp(c);
    net.close_flow(pbx_connection());
    trunk.bye(invite);
    trunk.expect("SIP/2.0 200");
    auto bye = pbx.expect("BYE");  // at 127.0.0.11:5101, its Contact, not its old source port
    EXPECT_EQ(bye.request_uri().text, "sip:200@" + pbx.host_port() + ";transport=tcp");
    EXPECT_EQ(bye.call_id(), c.call_id);
    EXPECT_EQ(bye.to().tag, c.from_tag);
    const sip::flow fresh = last_flow_to(*this, pbx.address());
    EXPECT_EQ(fresh.transport, sip::transport_kind::tcp);
    EXPECT_NE(fresh.connection, connection);
    send_tcp(*this, pbx.address(), fresh.connection, pbx.response(bye, 200, "OK"));
    clock.advance(0ms);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(reconnect_from_pbx, the_answer_goes_to_the_via_when_the_connection_closed_while_ringing) {
    // §18.2.2: the PBX's connection dropped before the far end answered; the 200 goes on a new
    // connection to the top Via's sent-by (127.0.0.11:5101), and the PBX's ACK confirms the call.
    pbx_call c;
    auto invite = invite_over_tcp(c);
    net.close_flow(pbx_connection());
    trunk.ok(invite);
    auto ok = pbx.expect("SIP/2.0 200");
    conn.expect_nothing();
    const sip::flow fresh = last_flow_to(*this, pbx.address());
    EXPECT_NE(fresh.connection, connection);
    c.to_tag = std::string(ok.to().tag);
    send_tcp(*this, pbx.address(), fresh.connection, over_tcp(pbx.in_dialog_bytes(c, "ACK", c.cseq), pbx));
    trunk.expect("ACK");
    EXPECT_EQ(b2b.active_calls(), 1u);
}

TEST_F(reconnect_from_pbx, the_answer_to_a_relayed_request_goes_to_the_via_once_the_connection_closed) {
    pbx_call c;
    confirmed_over_tcp(c);
    // The PBX's INFO goes on to the trunk; its connection drops before the trunk's answer,
    // which then reaches the PBX on a new connection to its Via's sent-by (§18.2.2).
    send_on_connection(pbx.in_dialog_bytes(c, "INFO", c.cseq + 1));
    auto info = trunk.expect("INFO");
    net.close_flow(pbx_connection());
    trunk.respond(info, 200, "OK");
    auto ok = pbx.expect("SIP/2.0 200");
    EXPECT_EQ(ok.cseq().seq, c.cseq + 1);
    conn.expect_nothing();
    EXPECT_NE(last_flow_to(*this, pbx.address()).connection, connection);
    EXPECT_EQ(b2b.active_calls(), 1u);
}

TEST_F(reconnect_from_pbx, behind_nat_the_bye_fails_and_the_call_ends_on_our_side) {
    // The PBX's Contact names its LAN address: we cannot connect to it (RFC 5626 §5.3).
    pbx_call c;
    std::string first = pbx.invite_bytes(c);
    const auto lan = [&](std::string bytes) {
        const std::string from = "<sip:200@" + pbx.host_port() + ">";
        if (auto at = bytes.find(from); at != std::string::npos) {
            bytes.replace(at, from.size(), "<sip:200@192.168.1.50:5060;transport=tcp>");
        }
        return bytes;
    };
    send_on_connection(lan(first));
    auto challenge = conn.expect("SIP/2.0 407");
    send_on_connection(pbx.ack_failure_bytes(c, challenge));
    ++c.cseq;
    send_on_connection(lan(pbx.invite_bytes(c, pbx_actor::answer_challenge(challenge, "pbxuser", "pbxpass",
                                                                           pbx.request_uri(c)))));
    conn.expect("SIP/2.0 100");
    auto invite = trunk.expect("INVITE");
    trunk.ok(invite);
    c.to_tag = std::string(conn.expect("SIP/2.0 200").to().tag);
    send_on_connection(pbx.in_dialog_bytes(c, "ACK", c.cseq));
    trunk.expect("ACK");

    net.close_flow(pbx_connection());
    const std::size_t sends = net.sent().size();
    trunk.bye(invite);
    trunk.expect("SIP/2.0 200");
    clock.advance(0ms);
    // Nothing went to the PBX (no stray to 192.168.1.50 either: TearDown checks), and the call
    // is over on our side.
    pbx.expect_nothing();
    conn.expect_nothing();
    EXPECT_EQ(net.sent().size(), sends + 1);  // the 200 to the trunk only
    EXPECT_EQ(b2b.active_calls(), 0u);
}

// ------------------------------------------------------------ a registered PBX over TCP

constexpr const char* registered_route = R"(
inbound_routes:
  - { prefix: "", to: { registered: pbxuser }, name: office }
)";

/// The PBX registered over a TCP connection it opened from port 40001 of its address; the
/// trunk's calls to the account go on that connection while it lives (the binding pins it).
class reconnect_to_registered : public ::testing::Test, public b2bua_harness {
protected:
    reconnect_to_registered() : b2bua_harness({numbered_trunk(1, "carrier", "")}, {}, registered_route) {}
    void TearDown() override { expect_no_strays(); }

    std::string register_bytes(const std::string& contact, std::uint32_t cseq, const std::string& authorization) {
        sip::message_writer w;
        w.request_line("REGISTER", "sip:" + core_host_port());
        w.header("Via", "SIP/2.0/TCP " + pbx.host_port() + ";branch=z9hG4bK-reg-" + std::to_string(cseq));
        w.header("From", "<sip:pbxuser@" + core_host_port() + ">;tag=regtag");
        w.header("To", "<sip:pbxuser@" + core_host_port() + ">");
        w.header("Call-ID", "reg-1@10.0.0.1");
        w.header("CSeq", std::to_string(cseq) + " REGISTER");
        w.header("Contact", contact);
        w.header("Expires", "600");
        w.header("Max-Forwards", "70");
        if (!authorization.empty()) w.header("Authorization", authorization);
        return std::move(w).finish();
    }

    /// REGISTER, 401, REGISTER with credentials, on the PBX's connection: true when bound.
    bool register_over_tcp(const std::string& contact) {
        send_tcp(*this, conn.address(), connection, register_bytes(contact, 1, {}));
        auto challenge = conn.expect("SIP/2.0 401");
        auto chosen = auth::select_challenge(challenge.values(sip::header_id::www_authenticate));
        if (!chosen) return false;
        send_tcp(*this, conn.address(), connection,
                 register_bytes(contact, 2,
                                auth::make_authorization(*chosen, {"pbxuser", "pbxpass"}, "REGISTER",
                                                         "sip:" + core_host_port(), 1, "0a4f113b")));
        return conn.expect("SIP/2.0 200").status() == 200;
    }

    sip::flow pbx_connection() const { return {sip::transport_kind::tcp, net.local(), conn.address(), connection}; }

    pbx_actor& pbx = add_pbx("pbx");  // 127.0.0.11:5101, where it listens
    actor& conn = add_actor("pbx-connection", ep("127.0.0.11", 40001));
    trunk_actor& trunk = trunk_named("carrier");
    std::uint64_t connection = 700;
};

TEST_F(reconnect_to_registered, while_its_connection_lives_the_call_goes_on_it) {
    ASSERT_TRUE(register_over_tcp("<sip:pbxuser@" + pbx.host_port() + ";transport=tcp>"));
    provider_call pc;
    trunk.send(provider_invite(trunk, *this, pc));
    conn.expect("INVITE");
    pbx.expect_nothing();
}

TEST_F(reconnect_to_registered, once_its_connection_is_gone_the_call_opens_one_to_its_contact) {
    // The binding's connection closed (the PBX restarted its TCP stack, an idle timeout): the
    // Contact names the address it registered from, so it listens there (§18.1.1).
    ASSERT_TRUE(register_over_tcp("<sip:pbxuser@" + pbx.host_port() + ";transport=tcp>"));
    net.close_flow(pbx_connection());
    provider_call pc;
    trunk.send(provider_invite(trunk, *this, pc));
    auto invite = pbx.expect("INVITE");
    conn.expect_nothing();
    EXPECT_EQ(invite.request_uri().text, "sip:pbxuser@" + pbx.host_port() + ";transport=tcp");
    const sip::flow fresh = last_flow_to(*this, pbx.address());
    EXPECT_NE(fresh.connection, connection);
    send_tcp(*this, pbx.address(), fresh.connection, pbx_ok(pbx, invite));
    EXPECT_EQ(trunk.take_matching("SIP/2.0 200").size(), 1u);
}

TEST_F(reconnect_to_registered, behind_nat_a_gone_connection_fails_the_call_without_connecting_anywhere) {
    // RFC 5626 §5.3: its Contact is a LAN address; only its own connection reached it.
    ASSERT_TRUE(register_over_tcp("<sip:pbxuser@192.168.1.50:5060;transport=tcp>"));
    net.close_flow(pbx_connection());
    const std::size_t sends = net.sent().size();
    provider_call pc;
    trunk.send(provider_invite(trunk, *this, pc));
    clock.advance(0ms);
    pbx.expect_nothing();
    conn.expect_nothing();
    auto answers = trunk.take();
    ASSERT_FALSE(answers.empty());
    EXPECT_GE(answers.back().status(), 500) << answers.back().wire();
    for (std::size_t i = sends; i < net.sent().size(); ++i) {
        EXPECT_EQ(net.sent()[i].flow.remote, trunk.address()) << net.sent()[i].bytes;
    }
    EXPECT_EQ(b2b.active_calls(), 0u);
}

}  // namespace
}  // namespace b2b::b2bua::test
