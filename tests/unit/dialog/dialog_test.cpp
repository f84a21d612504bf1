// Dialog state and the requests we write on a leg.
#include "dialog/dialog.hpp"

#include "sip/message/message.hpp"

#include <gtest/gtest.h>

#include <set>

namespace b2b::dialog {
namespace {

sip::flow udp_flow() {
    return {sip::transport_kind::udp, {boost::asio::ip::make_address("127.0.0.1"), 5070},
            {boost::asio::ip::make_address("127.0.0.1"), 5080}, 0};
}

TEST(dialog, identity_uses_the_flow_or_the_advertised_host) {
    auto id = make_identity(udp_flow(), "");
    EXPECT_EQ(id.host_port, "127.0.0.1:5070");
    EXPECT_EQ(id.contact(), "<sip:b2bua@127.0.0.1:5070>");
    auto f = udp_flow();
    f.transport = sip::transport_kind::tcp;
    auto pub = make_identity(f, "sbc.example.net");
    EXPECT_EQ(pub.host_port, "sbc.example.net:5070");
    EXPECT_EQ(pub.contact(), "<sip:b2bua@sbc.example.net:5070;transport=tcp>");
    EXPECT_EQ(pub.transport, sip::transport_kind::tcp);
}

TEST(dialog, advertised_port_replaces_the_flows_and_ipv6_is_bracketed) {
    auto f = udp_flow();
    EXPECT_EQ(make_identity(f, "sbc.example.net:5062").host_port, "sbc.example.net:5062");
    EXPECT_EQ(make_identity(f, "203.0.113.7").host_port, "203.0.113.7:5070");
    EXPECT_EQ(make_identity(f, "203.0.113.7:5999").host_port, "203.0.113.7:5999");
    EXPECT_EQ(make_identity(f, "[2001:db8::1]").host_port, "[2001:db8::1]:5070");
    const auto v6 = make_identity(f, "[2001:db8::1]:5062");
    EXPECT_EQ(v6.host_port, "[2001:db8::1]:5062");
    EXPECT_EQ(v6.contact(), "<sip:b2bua@[2001:db8::1]:5062>");

    // Our own IPv6 listener: bracketed in the Via sent-by and the Contact (RFC 5118 §4.1).
    f.local = {boost::asio::ip::make_address("::1"), 5070};
    f.remote = {boost::asio::ip::make_address("::1"), 5080};
    const auto id = make_identity(f, "");
    EXPECT_EQ(id.host_port, "[::1]:5070");
    EXPECT_EQ(id.contact(), "<sip:b2bua@[::1]:5070>");
    outgoing_request r;
    r.method = "OPTIONS";
    r.request_uri = "sip:[::1]:5080";
    r.from = "<sip:b2bua@[::1]:5070>;tag=a";
    r.to = "<sip:[::1]:5080>";
    r.call_id = "v6";
    r.cseq = 1;
    r.cseq_method = "OPTIONS";
    r.branch = "z9hG4bKv6";
    auto m = sip::parse_message(make_request(r, id).wire());
    ASSERT_TRUE(m) << m.error().what();
    EXPECT_EQ(m->vias()[0].host, "[::1]");
    EXPECT_EQ(m->vias()[0].port, 5070);
    EXPECT_EQ(m->contacts()[0].uri.host, "[::1]");
}

TEST(dialog, identity_over_tls_says_transport_tls_or_sips) {
    auto f = udp_flow();
    f.transport = sip::transport_kind::tls;
    EXPECT_EQ(make_identity(f, "").contact(), "<sip:b2bua@127.0.0.1:5070;transport=tls>");
    // RFC 3261 §8.1.1.8: a sips: Request-URI asks for a sips: Contact (which implies TLS).
    EXPECT_EQ(make_identity(f, "sbc.example.net", true).contact(), "<sips:b2bua@sbc.example.net:5070>");
}

TEST(dialog, in_dialog_request_has_one_via_the_route_set_and_the_next_cseq) {
    dialog_state d;
    d.call_id = "abc";
    d.local = "<sip:200@127.0.0.1:5070>;tag=ours";
    d.remote = "<sip:1000@127.0.0.1:5080>;tag=theirs";
    d.remote_target = "sip:gw@127.0.0.1:5080";
    d.route_set = {"<sip:p1.example;lr>", "<sip:p2.example;lr>"};
    d.local_cseq = 4;
    d.self = make_identity(udp_flow(), "");
    auto built = make_in_dialog(d, "BYE", "z9hG4bKtest1");
    const std::string_view bytes = built.wire();
    auto m = sip::parse_message(bytes);
    ASSERT_TRUE(m.has_value()) << bytes;
    ASSERT_TRUE(sip::validate_request(*m).has_value()) << bytes;
    EXPECT_EQ(m->method(), sip::method::bye);
    EXPECT_EQ(m->request_uri().text, "sip:gw@127.0.0.1:5080");
    ASSERT_EQ(m->vias().size(), 1u);
    EXPECT_EQ(m->vias()[0].branch, "z9hG4bKtest1");
    EXPECT_TRUE(m->vias()[0].has_rport);
    ASSERT_EQ(m->routes().size(), 2u);
    EXPECT_EQ(m->routes()[0].uri.text, "sip:p1.example;lr");
    EXPECT_EQ(m->cseq().seq, 5u);
    EXPECT_EQ(d.local_cseq, 5u);
    EXPECT_EQ(m->from().tag, "ours");
    EXPECT_EQ(m->to().tag, "theirs");
    EXPECT_TRUE(m->contacts().empty());  // BYE is no target refresh
    EXPECT_EQ(m->max_forwards(), 70u);

    // The ACK of an INVITE keeps the INVITE's CSeq number and does not bump the counter.
    auto ack = sip::parse_message(make_in_dialog(d, "ACK", "z9hG4bKtest2", 2).wire()).value();
    EXPECT_EQ(ack.cseq().seq, 2u);
    EXPECT_EQ(ack.cseq().method, sip::method::ack);
    EXPECT_EQ(d.local_cseq, 5u);
}

TEST(dialog, uas_and_uac_dialogs_follow_section_12) {
    auto invite = sip::parse_message(
                      "INVITE sip:1000@127.0.0.1:5070 SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
                      "Record-Route: <sip:a.example;lr>, <sip:b.example;lr>\r\n"
                      "From: <sip:200@pbx.example>;tag=p1\r\n"
                      "To: <sip:1000@127.0.0.1:5070>\r\n"
                      "Call-ID: c1\r\nCSeq: 7 INVITE\r\nMax-Forwards: 70\r\n"
                      "Contact: <sip:200@10.0.0.1:5060>\r\nContent-Length: 0\r\n\r\n")
                      .value();
    auto a = uas_dialog(invite, "ours", udp_flow(), make_identity(udp_flow(), ""));
    EXPECT_EQ(a.remote_target, "sip:200@10.0.0.1:5060");
    EXPECT_EQ(a.local, "<sip:1000@127.0.0.1:5070>;tag=ours");
    EXPECT_EQ(a.remote, "<sip:200@pbx.example>;tag=p1");
    EXPECT_EQ(a.local_tag(), "ours");
    EXPECT_EQ(a.remote_tag(), "p1");
    EXPECT_EQ(a.route_set, (std::vector<std::string>{"<sip:a.example;lr>", "<sip:b.example;lr>"}));

    auto ok = sip::parse_message(
                  "SIP/2.0 200 OK\r\n"
                  "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK2\r\n"
                  "Record-Route: <sip:x.example;lr>\r\nRecord-Route: <sip:y.example;lr>\r\n"
                  "From: <sip:200@127.0.0.1>;tag=ours\r\nTo: <sip:1000@t.example>;tag=theirs\r\n"
                  "Call-ID: c2\r\nCSeq: 1 INVITE\r\nContact: <sip:gw@192.0.2.7:5062>\r\nContent-Length: 0\r\n\r\n")
                  .value();
    dialog_state b;
    update_uac_dialog(b, ok);
    EXPECT_EQ(b.remote_tag(), "theirs");
    EXPECT_EQ(b.remote, "<sip:1000@t.example>;tag=theirs");
    EXPECT_EQ(b.remote_target, "sip:gw@192.0.2.7:5062");
    EXPECT_EQ(b.route_set, (std::vector<std::string>{"<sip:y.example;lr>", "<sip:x.example;lr>"}));
}

TEST(dialog, next_hop_takes_ip_literals_only) {
    const sip::endpoint fallback{boost::asio::ip::make_address("127.0.0.1"), 5080};
    EXPECT_EQ(next_hop("sip:gw@192.0.2.7:5062", fallback).to_string(), "192.0.2.7:5062");
    EXPECT_EQ(next_hop("<sip:192.0.2.8;lr>", fallback).to_string(), "192.0.2.8:5060");
    // RFC 3261 §19.1.2: TLS defaults to 5061.
    EXPECT_EQ(next_hop("<sips:192.0.2.8;lr>", fallback).to_string(), "192.0.2.8:5061");
    EXPECT_EQ(next_hop("sip:gw@192.0.2.9;transport=TLS", fallback).to_string(), "192.0.2.9:5061");
    EXPECT_EQ(next_hop("sip:gw@[2001:db8::1]:5070", fallback).to_string(), "[2001:db8::1]:5070");
    EXPECT_EQ(next_hop("sip:gw@edge.example.net", fallback).to_string(), "127.0.0.1:5080");
    EXPECT_EQ(next_hop("garbage", fallback).to_string(), "127.0.0.1:5080");
}

// An INVITE over TCP from 192.0.2.10 (its connection's source port is 40001), with `contact`
// and optionally a Record-Route.
sip::message tcp_invite(std::string_view contact, std::string_view record_route = {}) {
    std::string m = "INVITE sip:1000@127.0.0.1:5070 SIP/2.0\r\n"
                    "Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK1\r\n";
    if (!record_route.empty()) m += "Record-Route: " + std::string(record_route) + "\r\n";
    m += "From: <sip:200@pbx.example>;tag=p1\r\nTo: <sip:1000@127.0.0.1:5070>\r\n"
         "Call-ID: c1\r\nCSeq: 7 INVITE\r\nMax-Forwards: 70\r\nContact: " +
         std::string(contact) + "\r\nContent-Length: 0\r\n\r\n";
    return sip::parse_message(m).value();
}

sip::flow tcp_from_peer() {
    return {sip::transport_kind::tcp, {boost::asio::ip::make_address("127.0.0.1"), 5070},
            {boost::asio::ip::make_address("192.0.2.10"), 40001}, 12};
}

TEST(dialog, over_tcp_the_uas_dialog_may_reconnect_to_a_contact_at_the_peers_address) {
    // §18.1.1: the connection stays as long as it lives; once gone, a new one goes to the
    // Contact (the peer connected from that address, so it listens there).
    auto d = uas_dialog(tcp_invite("<sip:200@192.0.2.10:5062;transport=tcp>"), "ours", tcp_from_peer(),
                        make_identity(tcp_from_peer(), ""));
    EXPECT_EQ(d.flow, tcp_from_peer());
    ASSERT_TRUE(d.reconnect.has_value());
    EXPECT_EQ(d.reconnect->to_string(), "192.0.2.10:5062");
    // Without a port, the default one.
    d = uas_dialog(tcp_invite("<sip:200@192.0.2.10;transport=tcp>"), "ours", tcp_from_peer(),
                   make_identity(tcp_from_peer(), ""));
    EXPECT_EQ(d.reconnect->to_string(), "192.0.2.10:5060");
}

TEST(dialog, over_tcp_a_contact_elsewhere_is_behind_nat_and_gets_no_new_connection) {
    // The PBX connected from 192.0.2.10 but names its LAN address: only its own connection
    // reached it (RFC 5626 §5.3), and a host name is no address either.
    auto d = uas_dialog(tcp_invite("<sip:200@192.168.1.50:5060;transport=tcp>"), "ours", tcp_from_peer(),
                        make_identity(tcp_from_peer(), ""));
    EXPECT_FALSE(d.reconnect.has_value());
    d = uas_dialog(tcp_invite("<sip:200@pbx.example;transport=tcp>"), "ours", tcp_from_peer(),
                   make_identity(tcp_from_peer(), ""));
    EXPECT_FALSE(d.reconnect.has_value());
    // Over UDP there is no connection to lose.
    auto u = uas_dialog(tcp_invite("<sip:200@192.0.2.10:5062>"), "ours", udp_flow(), make_identity(udp_flow(), ""));
    EXPECT_FALSE(u.reconnect.has_value());
}

TEST(dialog, over_tcp_with_a_route_set_the_new_connection_goes_to_the_first_route) {
    auto d = uas_dialog(tcp_invite("<sip:200@192.168.1.50:5060;transport=tcp>", "<sip:198.51.100.4:5070;lr;transport=tcp>"),
                        "ours", tcp_from_peer(), make_identity(tcp_from_peer(), ""));
    ASSERT_TRUE(d.reconnect.has_value());
    EXPECT_EQ(d.reconnect->to_string(), "198.51.100.4:5070");
}

TEST(dialog, aiming_over_tcp_keeps_the_connection_and_names_the_next_hop_for_a_new_one) {
    dialog_state d;
    d.flow = tcp_from_peer();
    d.remote_target = "sip:gw@192.0.2.77:5062;transport=tcp";
    const sip::endpoint fallback{boost::asio::ip::make_address("192.0.2.1"), 5060};
    aim_in_dialog(d, fallback);
    EXPECT_EQ(d.flow, tcp_from_peer());
    ASSERT_TRUE(d.reconnect.has_value());
    EXPECT_EQ(d.reconnect->to_string(), "192.0.2.77:5062");
    d.route_set = {"<sip:edge.example;lr>"};  // a name: the fallback (the trunk's address)
    aim_in_dialog(d, fallback);
    EXPECT_EQ(d.reconnect->to_string(), "192.0.2.1:5060");
    // Over UDP the flow itself is aimed, and nothing reconnects.
    dialog_state u;
    u.flow = udp_flow();
    u.remote_target = "sip:gw@192.0.2.77:5062";
    aim_in_dialog(u, fallback);
    EXPECT_EQ(u.flow.remote.to_string(), "192.0.2.77:5062");
    EXPECT_FALSE(u.reconnect.has_value());
}

TEST(dialog, target_refresh_takes_the_new_contact_and_keeps_the_route_set) {
    dialog_state d;
    d.remote_target = "sip:gw@192.0.2.1";
    d.route_set = {"<sip:p1;lr>"};
    auto reinvite = sip::parse_message(
                        "INVITE sip:b2bua@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
                        "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\nCSeq: 5 INVITE\r\n"
                        "Max-Forwards: 70\r\nContact: <sip:gw@192.0.2.77:5062>\r\nContent-Length: 0\r\n\r\n")
                        .value();
    EXPECT_TRUE(refresh_target(d, reinvite));
    EXPECT_EQ(d.remote_target, "sip:gw@192.0.2.77:5062");
    EXPECT_EQ(d.route_set.size(), 1u);  // §12.2: the route set is fixed once the dialog exists
}

TEST(dialog, remote_cseq_rejects_out_of_order_requests_only) {
    const auto request = [](std::string_view method, int seq) {
        return sip::parse_message("" + std::string(method) + " sip:b2bua@127.0.0.1 SIP/2.0\r\n"
                                  "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK" + std::to_string(seq) + "\r\n"
                                  "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\nCSeq: " +
                                  std::to_string(seq) + " " + std::string(method) +
                                  "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
            .value();
    };
    dialog_state d;  // we are the UAC: the remote number starts empty (§12.1.2)
    EXPECT_TRUE(accept_remote_cseq(d, request("INFO", 7)));
    EXPECT_TRUE(accept_remote_cseq(d, request("BYE", 9)));
    EXPECT_FALSE(accept_remote_cseq(d, request("INFO", 8)));  // lower: 500
    EXPECT_TRUE(accept_remote_cseq(d, request("ACK", 1)));    // ACK reuses its INVITE's number
    EXPECT_EQ(d.remote_cseq, 9u);
}

// A dialog's tags are the tag parameters of its From and To values (§12), wherever they stand
// among the parameters; a tag-like text in the display name or the URI is not one.
TEST(dialog_state, its_tags_are_read_from_the_header_values) {
    EXPECT_EQ(dialog_state::tag_of("<sip:a@b.example>;tag=x1"), "x1");
    EXPECT_EQ(dialog_state::tag_of("<sip:a@b.example>;tag=x1;foo=bar"), "x1");
    EXPECT_EQ(dialog_state::tag_of("<sip:a@b.example>;foo=bar;TAG=x2"), "x2");
    EXPECT_EQ(dialog_state::tag_of("\"A ;tag=no\" <sip:a@b.example;tag=no>;tag=yes"), "yes");
    EXPECT_EQ(dialog_state::tag_of("sip:a@b.example;tag=x3"), "x3");  // addr-spec: a header param
    EXPECT_EQ(dialog_state::tag_of("<sip:a@b.example;tag=uri>"), "");
    EXPECT_EQ(dialog_state::tag_of("<sip:a@b.example>"), "");
    EXPECT_EQ(dialog_state::tag_of(""), "");
    dialog_state d;
    d.local = "Alice <sip:200@127.0.0.1>;tag=abc";
    d.remote = "<sip:1000@t.example>";
    EXPECT_EQ(d.local_tag(), "abc");
    EXPECT_TRUE(d.remote_tag().empty());
}

}  // namespace
}  // namespace b2b::dialog
