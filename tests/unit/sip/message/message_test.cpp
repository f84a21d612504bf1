// The message parser: start lines, header lines, eagerly parsed headers, body framing, validation.
#include "sip/message/message.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace b2b::sip {
namespace {

// A minimal valid request around the given extra header lines (each ending in CRLF).
std::string request(std::string_view extra = {},
                    std::string_view start = "INVITE sip:bob@biloxi.com SIP/2.0",
                    std::string_view body = {}) {
    std::string s(start);
    s += "\r\n";
    s += "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
         "Max-Forwards: 70\r\n"
         "To: Bob <sip:bob@biloxi.com>\r\n"
         "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
         "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
         "CSeq: 314159 INVITE\r\n";
    s += extra;
    s += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    s += body;
    return s;
}

// Replaces the first header line starting with `prefix` by `line` (or removes it if empty).
std::string replace_line(std::string msg, std::string_view prefix, std::string_view line) {
    const auto p = msg.find(std::string("\r\n") + std::string(prefix));
    EXPECT_NE(p, std::string::npos) << prefix;
    const auto e = msg.find("\r\n", p + 2);
    msg.replace(p + 2, e + 2 - (p + 2), line.empty() ? std::string() : std::string(line) + "\r\n");
    return msg;
}

errc parse_code(std::string_view bytes, framing f = framing::datagram) {
    auto r = parse_message(bytes, f);
    return r ? errc::ok : r.error().code;
}

errc validate_code(std::string_view bytes) {
    auto r = parse_message(bytes);
    if (!r) return r.error().code;
    auto v = r->is_request() ? validate_request(*r) : validate_response(*r);
    return v ? errc::ok : v.error().code;
}

TEST(Parser, TypicalInvite) {
    const std::string sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
    const std::string bytes =
        request("Contact: <sip:alice@pc33.atlanta.com>\r\nContent-Type: application/sdp\r\n",
                "INVITE sip:bob@biloxi.com SIP/2.0", sdp);
    auto r = parse_message(bytes);
    ASSERT_TRUE(r) << r.error().what();
    const message& m = *r;
    EXPECT_TRUE(m.is_request());
    EXPECT_FALSE(m.is_response());
    EXPECT_EQ(m.method(), method::invite);
    EXPECT_EQ(m.method_text(), "INVITE");
    EXPECT_EQ(m.request_uri().text, "sip:bob@biloxi.com");
    EXPECT_EQ(m.version(), "SIP/2.0");
    ASSERT_EQ(m.vias().size(), 1U);
    EXPECT_EQ(m.vias()[0].host, "pc33.atlanta.com");
    EXPECT_EQ(m.vias()[0].port, 0);
    EXPECT_EQ(m.vias()[0].branch, "z9hG4bK776asdhds");
    EXPECT_EQ(m.vias()[0].params, ";branch=z9hG4bK776asdhds");
    EXPECT_EQ(m.vias()[0].text, "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds");
    EXPECT_EQ(m.to().display_name, "Bob");
    EXPECT_EQ(m.to().uri.user, "bob");
    EXPECT_TRUE(m.to().bracketed);
    EXPECT_TRUE(m.to().tag.empty());
    EXPECT_EQ(m.from().tag, "1928301774");
    EXPECT_EQ(m.from().params, ";tag=1928301774");
    EXPECT_EQ(m.from().text, "Alice <sip:alice@atlanta.com>;tag=1928301774");
    EXPECT_EQ(m.call_id(), "a84b4c76e66710@pc33.atlanta.com");
    EXPECT_EQ(m.cseq().seq, 314159U);
    EXPECT_EQ(m.cseq().method, method::invite);
    EXPECT_EQ(m.max_forwards(), 70U);
    EXPECT_EQ(m.content_length(), sdp.size());
    EXPECT_EQ(m.body(), sdp);
    ASSERT_EQ(m.contacts().size(), 1U);
    EXPECT_EQ(m.headers().size(), 9U);
    EXPECT_EQ(m.count(header_id::via), 1U);
    EXPECT_EQ(m.find("content-type")->value, "application/sdp");
    EXPECT_EQ(m.find("c")->value, "application/sdp");
    EXPECT_EQ(m.find(header_id::cseq)->raw, "CSeq: 314159 INVITE\r\n");
    EXPECT_EQ(m.find("X-Nothing"), nullptr);
    EXPECT_EQ(m.wire(), bytes);
    EXPECT_TRUE(validate_request(m));
    EXPECT_EQ(serialize(m), bytes);
}

TEST(Parser, ViewsSurviveMoveAndInputDestruction) {
    message moved;
    {
        std::string bytes = request();
        auto r = parse_message(bytes);
        ASSERT_TRUE(r);
        message m = std::move(*r);
        bytes.assign(bytes.size(), 'x');  // the parser must not keep views of the input
        moved = std::move(m);
    }
    EXPECT_EQ(moved.call_id(), "a84b4c76e66710@pc33.atlanta.com");
    EXPECT_EQ(moved.from().tag, "1928301774");
    EXPECT_EQ(moved.vias()[0].branch, "z9hG4bK776asdhds");
    EXPECT_EQ(moved.request_uri().host, "biloxi.com");
}

TEST(Parser, DefaultMessageIsEmpty) {
    const message m;
    EXPECT_TRUE(m.wire().empty());
    EXPECT_TRUE(m.headers().empty());
    EXPECT_EQ(m.find(header_id::via), nullptr);
    EXPECT_EQ(serialize(m), "");
    EXPECT_FALSE(validate_request(m));
    EXPECT_FALSE(validate_response(m));
}

TEST(Parser, Response) {
    const std::string bytes =
        "SIP/2.0 180 Ringing\r\n"
        "Via: SIP/2.0/UDP server10.biloxi.com;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.3\r\n"
        "Via: SIP/2.0/UDP "
        "bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.2\r\n"
        "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1;rport=5066\r\n"
        "Record-Route: <sip:server10.biloxi.com;lr>, <sip:bigbox3.site3.atlanta.com;lr>\r\n"
        "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n"
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
        "Call-ID: a84b4c76e66710\r\n"
        "Contact: <sip:bob@192.0.2.4>\r\n"
        "CSeq: 314159 INVITE\r\n"
        "Content-Length: 0\r\n\r\n";
    auto r = parse_message(bytes);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_TRUE(r->is_response());
    EXPECT_EQ(r->status(), 180);
    EXPECT_EQ(r->reason(), "Ringing");
    ASSERT_EQ(r->vias().size(), 3U);
    EXPECT_EQ(r->vias()[0].received, "192.0.2.3");
    EXPECT_TRUE(r->vias()[2].has_rport);
    EXPECT_EQ(r->vias()[2].rport, 5066);
    EXPECT_FALSE(r->vias()[0].has_rport);
    ASSERT_EQ(r->record_routes().size(), 2U);
    EXPECT_EQ(r->record_routes()[1].uri.host, "bigbox3.site3.atlanta.com");
    EXPECT_EQ(r->to().tag, "a6c85cf");
    EXPECT_TRUE(validate_response(*r));
    EXPECT_FALSE(validate_request(*r));
}

TEST(Parser, StatusLine) {
    const auto with = [](std::string_view line) {
        return std::string(line) +
               "\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: "
               "<sip:b@h>\r\n"
               "Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    };
    EXPECT_EQ(parse_code(with("SIP/2.0 200 OK")), errc::ok);
    EXPECT_EQ(parse_code(with("sip/2.0 200 OK")), errc::ok);
    EXPECT_EQ(parse_code(with("SIP/2.0 100 ")), errc::ok);
    EXPECT_EQ(parse_code(with("SIP/2.0 100")), errc::ok);  // liberal: missing SP, empty reason
    EXPECT_EQ(parse_code(with("SIP/2.0 699 Whatever \t tab")), errc::ok);
    EXPECT_EQ(parse_code(with("SIP/2.0 099 Low")), errc::bad_status_code);
    EXPECT_EQ(parse_code(with("SIP/2.0 700 High")), errc::bad_status_code);
    EXPECT_EQ(parse_code(with("SIP/2.0 20 Short")), errc::bad_status_code);
    EXPECT_EQ(parse_code(with("SIP/2.0 2000 Long")), errc::bad_status_code);
    EXPECT_EQ(parse_code(with("SIP/2.0 200OK")), errc::bad_status_code);
    EXPECT_EQ(parse_code(with("SIP/2.0 abc OK")), errc::bad_status_code);
    EXPECT_EQ(parse_code(with("SIP/2.0")), errc::bad_start_line);
    EXPECT_EQ(parse_code(with(std::string("SIP/2.0 200 O\x01K"))), errc::bad_reason_phrase);
    EXPECT_EQ(parse_code(with(std::string("SIP/2.0 200 O\x7FK"))), errc::bad_reason_phrase);
    EXPECT_EQ(parse_code(with("SIP/3.0 200 OK")), errc::version_not_supported);
    EXPECT_EQ(parse_code(with("SIP/2.x 200 OK")), errc::bad_version);
    EXPECT_EQ(parse_code(with("SIP/ 200 OK")), errc::bad_version);
    auto r = parse_message(with("SIP/2.0 200 \xD0\xBE\xD0\xBA"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->reason(), "\xD0\xBE\xD0\xBA");
}

TEST(Parser, RequestLine) {
    EXPECT_EQ(parse_code(request({}, "INVITE sip:bob@biloxi.com SIP/2.0")), errc::ok);
    EXPECT_EQ(parse_code(request({}, "INVITE sip:bob@biloxi.com sip/2.0")), errc::ok);
    EXPECT_EQ(parse_code(request({}, "INVITE  sip:bob@biloxi.com SIP/2.0")), errc::bad_start_line);
    EXPECT_EQ(parse_code(request({}, "INVITE sip:bob@biloxi.com  SIP/2.0")), errc::bad_start_line);
    EXPECT_EQ(parse_code(request({}, "INVITE sip:bob@biloxi.com SIP/2.0 ")), errc::bad_start_line);
    EXPECT_EQ(parse_code(request({}, " INVITE sip:bob@biloxi.com SIP/2.0")), errc::bad_start_line);
    EXPECT_EQ(parse_code(request({}, "INVITE sip:bob@biloxi.com")), errc::bad_start_line);
    EXPECT_EQ(parse_code(request({}, "INVITE")), errc::bad_start_line);
    EXPECT_EQ(parse_code(request({}, "INV@TE sip:bob@biloxi.com SIP/2.0")), errc::bad_method);
    EXPECT_EQ(parse_code(request({}, "INVITE sip:bob@biloxi.com HTTP/1.1")), errc::bad_version);
    EXPECT_EQ(parse_code(request({}, "INVITE sip:bob@biloxi.com SIP/2.1")),
              errc::version_not_supported);
    EXPECT_EQ(parse_code(request({}, "INVITE <sip:bob@biloxi.com> SIP/2.0")),
              errc::bad_request_uri);
    EXPECT_EQ(parse_code(request({}, "INVITE sip:bob@biloxi.com;\tlr SIP/2.0")),
              errc::bad_request_uri);
    EXPECT_EQ(parse_code(request({}, "INVITE sip:bob@biloxi.com; lr SIP/2.0")),
              errc::bad_request_uri);
    EXPECT_EQ(parse_code(request({}, "INVITE sip:bob@biloxi.com?Subject=x SIP/2.0")),
              errc::bad_request_uri);
    EXPECT_EQ(parse_code(request({}, "INVITE sips:bob@biloxi.com?Subject=x SIP/2.0")),
              errc::bad_request_uri);
    EXPECT_EQ(parse_code(request({}, "INVITE sip:bob@bi loxi.com SIP/2.0")), errc::bad_request_uri);
    EXPECT_EQ(parse_code(request({}, "INVITE bob SIP/2.0")), errc::bad_request_uri);
    // Non-SIP Request-URIs parse; the core decides (416).
    EXPECT_EQ(parse_code(request({}, "INVITE tel:+15551234;phone-context=x SIP/2.0")), errc::ok);
    // Methods are case-sensitive tokens: "invite" is an extension method.
    auto lower = parse_message(request({}, "invite sip:bob@biloxi.com SIP/2.0"));
    ASSERT_TRUE(lower);
    EXPECT_EQ(lower->method(), method::unknown);
    EXPECT_EQ(lower->method_text(), "invite");
}

TEST(Parser, LeadingCrlfAndEmptyInput) {
    EXPECT_EQ(parse_code(""), errc::empty_message);
    EXPECT_EQ(parse_code("\r\n\r\n"), errc::empty_message);
    const std::string bytes = "\r\n\r\n" + request();
    auto r = parse_message(bytes);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->wire(), std::string_view(bytes).substr(4));
}

TEST(Parser, HeaderLines) {
    const std::string base = request();
    EXPECT_EQ(parse_code(replace_line(base, "Max-Forwards", "Max-Forwards 70")),
              errc::bad_header_line);
    EXPECT_EQ(parse_code(replace_line(base, "Max-Forwards", "Max Forwards: 70")),
              errc::bad_header_name);
    EXPECT_EQ(parse_code(replace_line(base, "Max-Forwards", "Max@Forwards: 70")),
              errc::bad_header_name);
    EXPECT_EQ(parse_code(replace_line(base, "Max-Forwards", ": 70")), errc::bad_header_name);
    EXPECT_EQ(parse_code(replace_line(base, "Max-Forwards", "X-A: a\rb")), errc::bad_header_line);
    EXPECT_EQ(parse_code(replace_line(base, "Max-Forwards", "X-A: a\nb: c")),
              errc::bad_header_line);
    // Empty values of unknown headers are fine, and any octet but CR/LF may appear in them.
    EXPECT_EQ(parse_code(replace_line(base, "Max-Forwards", "Subject:")), errc::ok);
    auto odd =
        parse_message(replace_line(base, "Max-Forwards", std::string("X-Odd:  a\0b\xff  ", 14)));
    ASSERT_TRUE(odd);
    EXPECT_EQ(odd->find("x-odd")->value, std::string_view("a\0b\xff", 4));
    // A continuation line right after the start line belongs to no header.
    EXPECT_EQ(parse_code("INVITE sip:b@h SIP/2.0\r\n folded: x\r\n\r\n"), errc::bad_header_line);
    // No empty line: the header section is not terminated.
    EXPECT_EQ(parse_code("INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"),
              errc::headers_not_terminated);
    EXPECT_EQ(parse_code("INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h"),
              errc::headers_not_terminated);
    EXPECT_EQ(parse_code("INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r"),
              errc::headers_not_terminated);
    EXPECT_EQ(parse_code("INVITE sip:b@h SIP/2.0"), errc::headers_not_terminated);
    EXPECT_EQ(parse_code("INVITE sip:b@h SIP/2.0\n\n"), errc::bad_start_line);
}

TEST(Parser, FoldingAndNameForms) {
    const std::string bytes =
        "OPTIONS sip:b@h SIP/2.0\r\n"
        "v  :  SIP/2.0/TCP h1\r\n\t;branch=z9hG4bKa ,\r\n  SIP/2.0/UDP [2001:db8::9]:5070 ; "
        "received = 10.0.0.1\r\n"
        "f: \"A \\\"q\\\" B\"\r\n <sip:a@h>\r\n ; tag = x1\r\n"
        "t:<sip:b@h>\r\n"
        "i:   abc@def   \r\n"
        "CSEQ: 7\r\n  OPTIONS\r\n"
        "max-forwards: 0000000010\r\n"
        "l: 0\r\n\r\n";
    auto r = parse_message(bytes);
    ASSERT_TRUE(r) << r.error().what();
    ASSERT_EQ(r->vias().size(), 2U);
    EXPECT_EQ(r->vias()[0].branch, "z9hG4bKa");
    EXPECT_EQ(r->vias()[0].transport, "TCP");
    EXPECT_EQ(r->vias()[1].host, "[2001:db8::9]");
    EXPECT_EQ(r->vias()[1].host_type, host_kind::ipv6);
    EXPECT_EQ(r->vias()[1].port, 5070);
    EXPECT_EQ(r->vias()[1].received, "10.0.0.1");
    EXPECT_EQ(r->vias()[1].param("RECEIVED"), "10.0.0.1");
    EXPECT_EQ(r->from().tag, "x1");
    EXPECT_EQ(r->from().display_name_text(), "A \"q\" B");
    EXPECT_EQ(r->from().param("tag"), "x1");
    EXPECT_EQ(r->to().display_name, "");
    EXPECT_EQ(r->call_id(), "abc@def");
    EXPECT_EQ(r->cseq().seq, 7U);
    EXPECT_EQ(r->cseq().method, method::options);
    EXPECT_EQ(r->max_forwards(), 10U);
    EXPECT_EQ(r->find(header_id::via)->value,
              "SIP/2.0/TCP h1\r\n\t;branch=z9hG4bKa ,\r\n  SIP/2.0/UDP [2001:db8::9]:5070 ; "
              "received = 10.0.0.1");
    EXPECT_EQ(r->find(header_id::via)->name, "v");
    EXPECT_TRUE(validate_request(*r));
    EXPECT_EQ(serialize(*r), bytes);
}

TEST(Parser, Via) {
    const std::string base = request();
    const auto via = [&](std::string_view v) {
        return parse_code(replace_line(base, "Via", std::string("Via: ") + std::string(v)));
    };
    EXPECT_EQ(via("SIP/2.0/UDP h;branch=z9hG4bK1;rport;received=2001:db8::1"), errc::ok);
    EXPECT_EQ(via("SIP / 2.0 / UDP h:5060 ; branch = z9hG4bK1"), errc::ok);
    EXPECT_EQ(via("SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/TCP g;branch=z9hG4bK2"), errc::ok);
    EXPECT_EQ(via("SIP/2.0/UDP h;ttl=1;maddr=224.2.0.1;x=\"q;v\""), errc::ok);
    EXPECT_EQ(via("SIP/2.0/UDP h;;branch=z9hG4bK1"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP h;branch=z9hG4bK1;"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP h;branch=z9hG4bK1,"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP h,,SIP/2.0/UDP g"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP 192.0.2.15;;,;,,"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDPh"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0 UDP h"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP h:0"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP h:70000"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP h;branch"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP h;branch=\"x\""), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP h;rport=abc"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP h;branch="), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP h x"), errc::bad_via);
    EXPECT_EQ(via("SIP/2.0/UDP [::1"), errc::bad_via);
    EXPECT_EQ(via(""), errc::bad_via);
    auto r = parse_message(replace_line(
        base, "Via", "Via: SIP/2.0/UDP h;rport=5060;branch=z9hG4bKx;received=192.0.2.9"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->vias()[0].rport, 5060);
    EXPECT_EQ(r->vias()[0].param("rport"), "5060");
    EXPECT_FALSE(r->vias()[0].param("maddr").has_value());
}

TEST(Parser, NameAddr) {
    const std::string base = request();
    const auto to = [&](std::string_view v) {
        auto r = parse_message(replace_line(base, "To", std::string("To: ") + std::string(v)));
        return r ? errc::ok : r.error().code;
    };
    EXPECT_EQ(to("<sip:b@h>"), errc::ok);
    EXPECT_EQ(to("sip:b@h"), errc::ok);
    EXPECT_EQ(to("sip:b@h;tag=1"), errc::ok);
    EXPECT_EQ(to("Bob<sip:b@h>"), errc::ok);
    EXPECT_EQ(to("A. G. Bell <sip:b@h>;tag=1;x=\"a,b;c\""), errc::ok);
    EXPECT_EQ(to("\"Bell, Alexander\" <sip:b@h>"), errc::ok);
    EXPECT_EQ(to("\"\" <sip:b@h>"), errc::ok);
    EXPECT_EQ(to("<tel:+1234>"), errc::ok);
    EXPECT_EQ(to("<sip:b@h?Subject=x>"), errc::ok);
    EXPECT_EQ(to("Bell, Alexander <sip:b@h>"), errc::bad_header_value);
    EXPECT_EQ(to("\"Mr. B <sip:b@h>"), errc::bad_header_value);
    EXPECT_EQ(to("< sip:b@h >"), errc::bad_header_value);
    EXPECT_EQ(to("<sip:b@h"), errc::bad_header_value);
    EXPECT_EQ(to("\"Bob\" sip:b@h"), errc::bad_header_value);
    EXPECT_EQ(to("sip:b@h?Subject=x"), errc::bad_header_value);
    EXPECT_EQ(to("sip:b@h, sip:c@h"), errc::bad_header_value);
    EXPECT_EQ(to("<sip:b@h>;;;;"), errc::bad_header_value);
    EXPECT_EQ(to("<sip:b@h>;tag"), errc::bad_header_value);
    EXPECT_EQ(to("<sip:b@h>;tag="), errc::bad_header_value);
    EXPECT_EQ(to("<sip:b@h> junk"), errc::bad_header_value);
    EXPECT_EQ(to("<sip:b@h>, <sip:c@h>"), errc::bad_header_value);
    EXPECT_EQ(to(""), errc::bad_header_value);
    EXPECT_EQ(to("<sip:b@>"), errc::bad_uri);
    EXPECT_EQ(to("<>"), errc::bad_header_value);
    EXPECT_EQ(to("b@h"), errc::bad_uri);
    EXPECT_EQ(to(std::string("\"a\x01\" <sip:b@h>")), errc::bad_header_value);
    auto r = parse_message(replace_line(base, "To", "To: sip:b@h;tag=9;x=1"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->to().tag, "9");
    EXPECT_EQ(r->to().params, ";tag=9;x=1");
    EXPECT_EQ(r->to().uri.text, "sip:b@h");
    EXPECT_TRUE(r->to().uri.params.empty());
    auto bad = parse_message(replace_line(base, "From", "From: Bell, Alexander <sip:b@h>"));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().detail.find("From"), std::string::npos);
}

TEST(Parser, ContactAndRoutes) {
    const std::string base = request();
    const auto with = [&](std::string_view lines) { return parse_message(request(lines)); };
    auto two = with(
        "Contact: <sip:a@h>;q=0.7;expires=3600, \"B\" <sip:b@h>;q=0.3\r\nm: sip:c@h;q=0.1\r\n");
    ASSERT_TRUE(two) << two.error().what();
    ASSERT_EQ(two->contacts().size(), 3U);
    EXPECT_EQ(two->contacts()[0].param("expires"), "3600");
    EXPECT_EQ(two->contacts()[1].display_name, "\"B\"");
    EXPECT_EQ(two->contacts()[2].param("q"), "0.1");
    EXPECT_FALSE(two->contact_is_star());

    auto star = with("Contact: *\r\nExpires: 0\r\n");
    ASSERT_TRUE(star);
    EXPECT_TRUE(star->contact_is_star());
    EXPECT_TRUE(star->contacts().empty());
    EXPECT_FALSE(with("Contact: *\r\nContact: <sip:a@h>\r\n"));
    EXPECT_FALSE(with("Contact: <sip:a@h>\r\nContact: *\r\n"));
    EXPECT_FALSE(with("Contact: <sip:a@h>,\r\n"));
    EXPECT_FALSE(with("Contact: <sip:a@h>,,<sip:b@h>\r\n"));
    EXPECT_FALSE(with("Contact:\r\n"));
    EXPECT_FALSE(with("Contact: \"Joe\" <sip:joe@example.org>;;;;\r\n"));
    EXPECT_FALSE(with("Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E\r\n"));
    // Addr-spec contacts in a list: ',' separates them.
    auto list = with("Contact: sip:a@h;q=1, sip:b@h\r\n");
    ASSERT_TRUE(list);
    EXPECT_EQ(list->contacts().size(), 2U);

    auto routes = with(
        "Route: <sip:p1.example.com;lr>,\r\n <sip:p2.example.com;lr>\r\nRoute: <sip:p3;lr>\r\n");
    ASSERT_TRUE(routes);
    ASSERT_EQ(routes->routes().size(), 3U);
    EXPECT_EQ(routes->routes()[1].uri.host, "p2.example.com");
    EXPECT_TRUE(routes->routes()[2].uri.param("lr").has_value());
    // Route and Record-Route take name-addr only (RFC 3261 §20.30, §20.34).
    EXPECT_FALSE(with("Route: sip:p1.example.com;lr\r\n"));
    EXPECT_FALSE(with("Record-Route: sip:p1.example.com;lr\r\n"));
    auto rr = with("Record-Route: <sip:p1.example.com;lr>\r\n");
    ASSERT_TRUE(rr);
    EXPECT_EQ(rr->record_routes().size(), 1U);
}

TEST(Parser, ScalarHeaders) {
    const std::string base = request();
    const auto line = [&](std::string_view prefix, std::string_view l) {
        return parse_code(replace_line(base, prefix, l));
    };
    EXPECT_EQ(line("CSeq", "CSeq: 2147483647 INVITE"), errc::ok);
    EXPECT_EQ(line("CSeq", "CSeq: 0 INVITE"), errc::ok);
    EXPECT_EQ(line("CSeq", "CSeq: 2147483648 INVITE"), errc::bad_cseq);
    EXPECT_EQ(line("CSeq", "CSeq: 99999999999999999999999999 INVITE"), errc::bad_cseq);
    EXPECT_EQ(line("CSeq", "CSeq: -1 INVITE"), errc::bad_cseq);
    EXPECT_EQ(line("CSeq", "CSeq: 1INVITE"), errc::bad_cseq);
    EXPECT_EQ(line("CSeq", "CSeq: 1"), errc::bad_cseq);
    EXPECT_EQ(line("CSeq", "CSeq: INVITE"), errc::bad_cseq);
    EXPECT_EQ(line("CSeq", "CSeq: 1 INVITE x"), errc::bad_cseq);
    EXPECT_EQ(line("CSeq", "CSeq: 1 INV@TE"), errc::bad_cseq);
    EXPECT_EQ(line("Max-Forwards", "Max-Forwards: 255"), errc::ok);
    EXPECT_EQ(line("Max-Forwards", "Max-Forwards: 256"), errc::bad_max_forwards);
    EXPECT_EQ(line("Max-Forwards", "Max-Forwards: 300"), errc::bad_max_forwards);
    EXPECT_EQ(line("Max-Forwards", "Max-Forwards: -1"), errc::bad_max_forwards);
    EXPECT_EQ(line("Max-Forwards", "Max-Forwards: 7 0"), errc::bad_max_forwards);
    EXPECT_EQ(line("Max-Forwards", "Max-Forwards:"), errc::bad_max_forwards);
    // The Call-ID is opaque: any visible ASCII passes (base64 padding is seen in the field),
    // whitespace, control characters and non-ASCII octets do not.
    EXPECT_EQ(line("Call-ID", "Call-ID: YWJjZGVm==@host"), errc::ok);
    EXPECT_EQ(line("Call-ID", "Call-ID: a@b@c"), errc::ok);
    EXPECT_EQ(line("Call-ID", "Call-ID: a;b"), errc::ok);
    EXPECT_EQ(line("Call-ID", "Call-ID: a b"), errc::bad_header_value);
    EXPECT_EQ(line("Call-ID", "Call-ID: a\x01b"), errc::bad_header_value);
    EXPECT_EQ(line("Call-ID", "Call-ID: caf\xc3\xa9"), errc::bad_header_value);
    EXPECT_EQ(line("Call-ID", "Call-ID:"), errc::bad_header_value);
    EXPECT_EQ(line("Call-ID", "Call-ID: {weird}<chars>\"/[]?:@x"), errc::ok);
    auto r = parse_message(replace_line(base, "CSeq", "CSeq: 0009 INVITE"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->cseq().seq, 9U);
}

TEST(Parser, ContentLengthAndBody) {
    const std::string head =
        "MESSAGE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n"
        "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n";
    const std::string body("hi\0there", 8);
    // Exact body; extra datagram octets ignored; missing octets an error.
    auto exact = parse_message(head + "Content-Length: 8\r\n\r\n" + body);
    ASSERT_TRUE(exact);
    EXPECT_EQ(exact->body(), body);
    auto extra = parse_message(head + "Content-Length: 2\r\n\r\n" + body);
    ASSERT_TRUE(extra);
    EXPECT_EQ(extra->body(), "hi");
    EXPECT_EQ(extra->wire().size(), head.size() + 21 + 2);
    EXPECT_EQ(parse_code(head + "Content-Length: 9\r\n\r\n" + body),
              errc::content_length_exceeds_body);
    // Without Content-Length: to the end of the datagram; on a stream it is required.
    auto none = parse_message(head + "\r\n" + body);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->body(), body);
    EXPECT_FALSE(none->content_length());
    EXPECT_EQ(parse_code(head + "\r\n" + body, framing::stream), errc::content_length_required);
    EXPECT_EQ(parse_code(head + "Content-Length: 8\r\n\r\n" + body, framing::stream), errc::ok);
    // Bad values.
    EXPECT_EQ(parse_code(head + "Content-Length: -1\r\n\r\n"), errc::bad_content_length);
    EXPECT_EQ(parse_code(head + "Content-Length: 1x\r\n\r\n"), errc::bad_content_length);
    EXPECT_EQ(parse_code(head + "Content-Length:\r\n\r\n"), errc::bad_content_length);
    EXPECT_EQ(parse_code(head + "Content-Length: 99999999999999999999999999\r\n\r\n"),
              errc::bad_content_length);
    // Same value twice is fine; different values parse (datagram) but fail validation.
    EXPECT_EQ(validate_code(head + "Content-Length: 2\r\nl: 02\r\n\r\nhi"), errc::ok);
    EXPECT_EQ(validate_code(head + "Content-Length: 2\r\nl: 3\r\n\r\nhi!"),
              errc::bad_content_length);
    EXPECT_EQ(parse_code(head + "Content-Length: 2\r\nl: 3\r\n\r\nhi!", framing::stream),
              errc::bad_content_length);
}

TEST(Parser, MaxSize) {
    const std::string bytes = request();
    EXPECT_EQ(parse_code(bytes), errc::ok);
    auto r = parse_message(bytes, framing::datagram, bytes.size() - 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::message_too_large);
    EXPECT_TRUE(parse_message(bytes, framing::datagram, bytes.size()));
}

TEST(Validate, MandatoryHeaders) {
    const std::string base = request();
    EXPECT_EQ(validate_code(base), errc::ok);
    for (const char* h : {"To", "From", "CSeq", "Call-ID", "Via", "Max-Forwards"}) {
        SCOPED_TRACE(h);
        auto r = parse_message(replace_line(base, h, ""));
        ASSERT_TRUE(r);
        auto v = validate_request(*r);
        ASSERT_FALSE(v);
        EXPECT_EQ(v.error().code, errc::missing_header);
        EXPECT_NE(v.error().detail.find(h), std::string::npos);
    }
    // Max-Forwards may be absent when the sender is an RFC 2543 element (no magic cookie).
    std::string old = replace_line(base, "Max-Forwards", "");
    old = replace_line(old, "Via", "Via: SIP/2.0/UDP pc33.atlanta.com");
    EXPECT_EQ(validate_code(old), errc::ok);
    old = replace_line(old, "Via", "Via: SIP/2.0/UDP pc33.atlanta.com;branch=1234");
    EXPECT_EQ(validate_code(old), errc::ok);
}

TEST(Validate, Duplicates) {
    for (const char* line :
         {"Call-ID: other", "CSeq: 1 INVITE", "From: <sip:x@h>;tag=2", "To: <sip:y@h>",
          "Max-Forwards: 5", "f: <sip:x@h>;tag=2", "i: other"}) {
        SCOPED_TRACE(line);
        auto r = parse_message(request(std::string(line) + "\r\n"));
        ASSERT_TRUE(r) << r.error().what();
        auto v = validate_request(*r);
        ASSERT_FALSE(v);
        EXPECT_EQ(v.error().code, errc::duplicate_header);
    }
    // The first value is the one kept.
    auto r = parse_message(request("Call-ID: second\r\nCSeq: 2 INVITE\r\nMax-Forwards: 1\r\n"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->call_id(), "a84b4c76e66710@pc33.atlanta.com");
    EXPECT_EQ(r->cseq().seq, 314159U);
    EXPECT_EQ(r->max_forwards(), 70U);
    // A repeated single-value header is still checked for grammar.
    EXPECT_EQ(parse_code(request("CSeq: x INVITE\r\n")), errc::bad_cseq);
    // List headers may repeat.
    EXPECT_EQ(
        validate_code(request(
            "Via: SIP/2.0/UDP h2;branch=z9hG4bK2\r\nContact: <sip:a@h>\r\nContact: <sip:b@h>\r\n")),
        errc::ok);
}

TEST(Validate, CSeqMethodAndBranch) {
    EXPECT_EQ(validate_code(request({}, "OPTIONS sip:bob@biloxi.com SIP/2.0")),
              errc::cseq_method_mismatch);
    EXPECT_EQ(validate_code(replace_line(request({}, "ACK sip:bob@biloxi.com SIP/2.0"), "CSeq",
                                         "CSeq: 314159 ACK")),
              errc::ok);
    EXPECT_EQ(validate_code(replace_line(request(), "CSeq", "CSeq: 314159 invite")),
              errc::cseq_method_mismatch);
    EXPECT_EQ(validate_code(replace_line(request(), "Via", "Via: SIP/2.0/UDP h;branch=z9hG4bK")),
              errc::bad_via);
    EXPECT_EQ(validate_code(replace_line(request(), "Via", "Via: SIP/2.0/UDP h;branch=z9hG4bK1")),
              errc::ok);
}

TEST(Validate, Date) {
    EXPECT_EQ(validate_code(request("Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n")), errc::ok);
    EXPECT_EQ(validate_code(request("Date: Fri, 01 Jan 2010 16:00:00 EST\r\n")),
              errc::bad_header_value);
    EXPECT_EQ(validate_code(request("Date: Fri, 1 Jan 2010 16:00:00 GMT\r\n")),
              errc::bad_header_value);
    EXPECT_EQ(validate_code(request("Date: Fri, 01 Foo 2010 16:00:00 GMT\r\n")),
              errc::bad_header_value);
    EXPECT_EQ(validate_code(request("Date: Fri, 01 Jan 2010 25:00:00 GMT\r\n")),
              errc::bad_header_value);
    EXPECT_EQ(validate_code(request("Date: Fri, 32 Jan 2010 16:00:00 GMT\r\n")),
              errc::bad_header_value);
    EXPECT_EQ(validate_code(request("Date: yesterday\r\n")), errc::bad_header_value);
    EXPECT_EQ(validate_code(request("Date:\r\n")), errc::bad_header_value);
}

TEST(Validate, Responses) {
    const std::string ok =
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: "
        "<sip:b@h>;tag=2\r\n"
        "Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    EXPECT_EQ(validate_code(ok), errc::ok);
    EXPECT_EQ(validate_code(replace_line(ok, "Via", "")), errc::missing_header);
    EXPECT_EQ(validate_code(replace_line(ok, "CSeq", "")), errc::missing_header);
    EXPECT_EQ(validate_code(replace_line(ok, "Call-ID", "Call-ID: c\r\nCall-ID: d")),
              errc::duplicate_header);
}

}  // namespace
}  // namespace b2b::sip
