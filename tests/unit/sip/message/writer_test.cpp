// message_writer, response_writer (RFC 3261 §8.2.6.2), make_error_response and default_reason.
#include "sip/message/writer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace b2b::sip {
namespace {

const std::string invite =
    "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8\r\n"
    "v: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1,\r\n SIP/2.0/TCP "
    "p2.example.com;branch=z9hG4bK2\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.com>\r\n"
    "f: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Content-Length: 0\r\n\r\n";

TEST(MessageWriter, BuildsARequest) {
    const std::string sdp = "v=0\r\n";
    const std::string bytes =
        message_writer{}
            .request_line("INVITE", "sip:1000@trunk.example")
            .header(header_id::via, "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc")
            .header_concat("From", "<sip:", std::string("pbx"), "@", "10.0.0.1", ">;tag=", 42)
            .header("To", "<sip:1000@trunk.example>")
            .header_concat("CSeq", 1U, " INVITE")
            .header_concat("Max-Forwards", 70L)
            .header(header_id::call_id, "abc@10.0.0.1")
            .header(header_id::other, "ignored")
            .raw_line("X-Raw: kept\r\n")
            .raw_line("X-Raw2: crlf added")
            .header_concat("X-Numbers", -5, ",", 7ULL, ",", static_cast<unsigned short>(9), ",",
                           'c')
            .finish(sdp, "application/sdp");
    EXPECT_EQ(bytes,
              "INVITE sip:1000@trunk.example SIP/2.0\r\n"
              "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc\r\n"
              "From: <sip:pbx@10.0.0.1>;tag=42\r\n"
              "To: <sip:1000@trunk.example>\r\n"
              "CSeq: 1 INVITE\r\n"
              "Max-Forwards: 70\r\n"
              "Call-ID: abc@10.0.0.1\r\n"
              "X-Raw: kept\r\n"
              "X-Raw2: crlf added\r\n"
              "X-Numbers: -5,7,9,c\r\n"
              "Content-Type: application/sdp\r\n"
              "Content-Length: 5\r\n"
              "\r\n"
              "v=0\r\n");
    auto m = parse_message(bytes, framing::stream);
    ASSERT_TRUE(m) << m.error().what();
    EXPECT_TRUE(validate_request(*m));
    EXPECT_EQ(m->from().tag, "42");
    EXPECT_EQ(m->body(), sdp);
}

TEST(MessageWriter, EmptyBodyHasNoContentType) {
    const std::string bytes =
        message_writer{16}.status_line(200, "OK").finish({}, "application/sdp");
    EXPECT_EQ(bytes, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseWriter, CopiesTheRequestHeaders) {
    auto req = parse_message(invite);
    ASSERT_TRUE(req) << req.error().what();
    const std::string bytes = response_writer(*req, 180, "Ringing", "as83kd")
                                  .header("Contact", "<sip:bob@192.0.2.4>")
                                  .finish();
    EXPECT_EQ(bytes,
              "SIP/2.0 180 Ringing\r\n"
              "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8\r\n"
              "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1,\r\n SIP/2.0/TCP "
              "p2.example.com;branch=z9hG4bK2\r\n"
              "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
              "To: Bob <sip:bob@biloxi.com>;tag=as83kd\r\n"
              "Call-ID: a84b4c76e66710\r\n"
              "CSeq: 314159 INVITE\r\n"
              "Contact: <sip:bob@192.0.2.4>\r\n"
              "Content-Length: 0\r\n\r\n");
    auto resp = parse_message(bytes);
    ASSERT_TRUE(resp) << resp.error().what();
    EXPECT_TRUE(validate_response(*resp));
    ASSERT_EQ(resp->vias().size(), 3U);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(resp->vias()[i].text, req->vias()[i].text);
    }
    EXPECT_EQ(resp->to().tag, "as83kd");
}

TEST(ResponseWriter, TagRules) {
    auto req = parse_message(invite);
    ASSERT_TRUE(req);
    // 100 Trying: no tag.
    auto trying = parse_message(response_writer(*req, 100, "Trying").finish());
    ASSERT_TRUE(trying);
    EXPECT_TRUE(trying->to().tag.empty());
    // An empty reason takes the default phrase.
    auto nf = parse_message(response_writer(*req, 404, "", "t").finish());
    ASSERT_TRUE(nf);
    EXPECT_EQ(nf->reason(), "Not Found");
    // A To that already has a tag keeps it.
    std::string in_dialog = invite;
    in_dialog.replace(in_dialog.find("To: Bob <sip:bob@biloxi.com>"), 28,
                      "To: Bob <sip:bob@biloxi.com>;tag=old");
    auto req2 = parse_message(in_dialog);
    ASSERT_TRUE(req2);
    auto resp = parse_message(response_writer(*req2, 200, "OK", "new").finish());
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->to().tag, "old");
    EXPECT_EQ(resp->count(header_id::to), 1U);
}

// RFC 3261 §18.2.1, RFC 3581 §4: the top Via of the response says where the request came from.
std::string top_via_of_response(const std::string& via_lines, std::string_view address, std::uint16_t port) {
    const std::string text = "OPTIONS sip:b2bua@127.0.0.1 SIP/2.0\r\n" + via_lines +
                             "Max-Forwards: 70\r\nTo: <sip:b2bua@127.0.0.1>\r\nFrom: <sip:p@10.0.0.5>;tag=1\r\n"
                             "Call-ID: v1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    auto req = parse_message(text);
    EXPECT_TRUE(req.has_value());
    if (!req) return {};
    if (port != 0) req->note_source(address, port);
    auto rsp = parse_message(response_writer(*req, 200, "OK", "t").finish());
    EXPECT_TRUE(rsp.has_value());
    if (!rsp) return {};
    std::string vias;
    for (const auto& v : rsp->vias()) vias += std::string(v.text) + "|";
    return vias;
}

TEST(ResponseWriter, StampsTheTopViaWithTheSourceRfc3581) {
    // rport asked: its value and received, even when the address is the same.
    EXPECT_EQ(top_via_of_response("Via: SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK1\r\n", "203.0.113.9", 40123),
              "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;received=203.0.113.9;rport=40123|");
    EXPECT_EQ(top_via_of_response("Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport\r\n", "10.0.0.5", 5060),
              "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;received=10.0.0.5;rport=5060|");
    // No rport: received only when the sent-by host is not the source (§18.2.1).
    EXPECT_EQ(top_via_of_response("Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1\r\n", "203.0.113.9", 40123),
              "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;received=203.0.113.9|");
    EXPECT_EQ(top_via_of_response("Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1\r\n", "10.0.0.5", 5060),
              "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1|");
    // A host name is never the source address; a received the client wrote is replaced.
    EXPECT_EQ(top_via_of_response("Via: SIP/2.0/UDP pbx.lan;received=1.2.3.4;branch=z9hG4bK1\r\n", "10.0.0.5", 5060),
              "SIP/2.0/UDP pbx.lan;branch=z9hG4bK1;received=10.0.0.5|");
    // IPv6 (RFC 5118): the bracketed reference matches the address; received has no brackets.
    EXPECT_EQ(top_via_of_response("Via: SIP/2.0/UDP [2001:db8::5]:5060;branch=z9hG4bK1\r\n", "2001:db8::5", 5060),
              "SIP/2.0/UDP [2001:db8::5]:5060;branch=z9hG4bK1|");
    EXPECT_EQ(top_via_of_response("Via: SIP/2.0/UDP [2001:db8::5]:5060;rport;branch=z9hG4bK1\r\n", "2001:db8::9", 7),
              "SIP/2.0/UDP [2001:db8::5]:5060;branch=z9hG4bK1;received=2001:db8::9;rport=7|");
    // Only the top via-parm, also when it shares its line with the next; the others as they were.
    EXPECT_EQ(top_via_of_response("Via: SIP/2.0/UDP a.example;rport;branch=z9hG4bK1, SIP/2.0/UDP b.example;rport;branch=z9hG4bK2\r\n"
                                  "Via: SIP/2.0/TCP c.example;branch=z9hG4bK3\r\n",
                                  "10.0.0.5", 5062),
              "SIP/2.0/UDP a.example;branch=z9hG4bK1;received=10.0.0.5;rport=5062|"
              "SIP/2.0/UDP b.example;rport;branch=z9hG4bK2|SIP/2.0/TCP c.example;branch=z9hG4bK3|");
    // A request whose source nobody noted (built, not received) is copied as it is.
    EXPECT_EQ(top_via_of_response("Via: SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK1\r\n", "", 0),
              "SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK1|");
}

TEST(MakeErrorResponse, FromUnparsableRequest) {
    // Compact names, a folded Via, junk elsewhere: the scan is lenient.
    const std::string raw =
        "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
        "v: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n"
        "Via: SIP/2.0/UDP h2;branch=z9hG4bK2;;,\r\n"
        "garbage line\r\n"
        "t: <sip:bob@biloxi.com>\r\n"
        "f: <sip:alice@atlanta.com>;tag=a\r\n"
        "i: call-1\r\n"
        "CSeq: 8\r\n INVITE\r\n"
        "Max-Forwards: 300\r\n\r\n";
    auto out = make_error_response(raw, 400, "Bad Max-Forwards: value '300' exceeds 255", "z");
    ASSERT_TRUE(out);
    EXPECT_EQ(*out,
              "SIP/2.0 400 Bad Max-Forwards: value '300' exceeds 255\r\n"
              "Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n"
              "Via: SIP/2.0/UDP h2;branch=z9hG4bK2;;,\r\n"
              "From: <sip:alice@atlanta.com>;tag=a\r\n"
              "To: <sip:bob@biloxi.com>;tag=z\r\n"
              "Call-ID: call-1\r\n"
              "CSeq: 8   INVITE\r\n"
              "Content-Length: 0\r\n\r\n");
}

TEST(MakeErrorResponse, RefusesWhatMustNotBeAnswered) {
    const std::string ack =
        "ACK sip:bob@biloxi.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:b@h>\r\n"
        "From: <sip:a@h>;tag=1\r\nCall-ID: c\r\nCSeq: 1 ACK\r\n\r\n";
    EXPECT_FALSE(make_error_response(ack, 400, "x", "t"));
    const std::string response =
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:b@h>\r\n"
        "From: <sip:a@h>;tag=1\r\nCall-ID: c\r\nCSeq: 1 ACK\r\n\r\n";
    EXPECT_FALSE(make_error_response(response, 400, "x", "t"));
    EXPECT_FALSE(make_error_response("", 400, "x", "t"));
    EXPECT_FALSE(make_error_response("\r\n\r\n", 400, "x", "t"));
    // Missing Call-ID.
    EXPECT_FALSE(
        make_error_response("BYE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:b@h>\r\n"
                            "From: <sip:a@h>;tag=1\r\nCSeq: 1 BYE\r\n\r\n",
                            400, "x", "t"));
    // Headers after the empty line (the body) do not count.
    EXPECT_FALSE(
        make_error_response("BYE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:b@h>\r\n"
                            "From: <sip:a@h>;tag=1\r\nCSeq: 1 BYE\r\n\r\nCall-ID: c\r\n",
                            400, "x", "t"));
}

TEST(MakeErrorResponse, SanitizesReasonAndValues) {
    const std::string raw = std::string(
        "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        "To: \"x;tag=no\" <sip:b@h;tag=no>\r\nFrom: <sip:a@h>;tag=1\r\n"
        "Call-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n");
    auto out = make_error_response(raw, 400, std::string("Bad\r\nthing\0\x80\xff  here", 19), "t");
    ASSERT_TRUE(out);
    auto m = parse_message(*out);
    ASSERT_TRUE(m) << m.error().what() << "\n" << *out;
    EXPECT_EQ(m->reason(), "Bad thing here");
    EXPECT_EQ(m->to().tag, "t");  // ";tag" inside quotes and <> is not a tag parameter
    EXPECT_TRUE(validate_response(*m));

    // Stray CR or NUL octets in a copied value cannot break the response's framing.
    std::string dirty = raw;
    dirty.replace(dirty.find("Call-ID: c"), 10, std::string("Call-ID: c\rd\0e", 14));
    auto out_dirty = make_error_response(dirty, 400, "x", "t");
    ASSERT_TRUE(out_dirty);
    EXPECT_NE(out_dirty->find("\r\nCall-ID: c d e\r\n"), std::string::npos) << *out_dirty;
    for (std::size_t i = 0; i < out_dirty->size(); ++i) {
        if ((*out_dirty)[i] == '\r') {
            EXPECT_EQ((*out_dirty)[i + 1], '\n');
        }
        if ((*out_dirty)[i] == '\n') {
            EXPECT_EQ((*out_dirty)[i - 1], '\r');
        }
    }

    const std::string long_reason(500, 'r');
    auto out2 = make_error_response(raw, 400, long_reason, "t");
    ASSERT_TRUE(out2);
    auto m2 = parse_message(*out2);
    ASSERT_TRUE(m2);
    EXPECT_EQ(m2->reason().size(), 120U);

    auto out3 = make_error_response(raw, 400, "\x01\x02", "t");
    ASSERT_TRUE(out3);
    EXPECT_TRUE(out3->starts_with("SIP/2.0 400 Bad Request\r\n"));

    // An existing tag (any case, LWS around '=') is kept and no second one is added.
    const std::string tagged =
        "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:b@h> ; TAG = abc\r\n"
        "From: <sip:a@h>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
    auto out4 = make_error_response(tagged, 400, "x", "t");
    ASSERT_TRUE(out4);
    EXPECT_NE(out4->find("To: <sip:b@h> ; TAG = abc\r\n"), std::string::npos);
}

TEST(DefaultReason, KnownAndUnknown) {
    EXPECT_EQ(default_reason(100), "Trying");
    EXPECT_EQ(default_reason(200), "OK");
    EXPECT_EQ(default_reason(401), "Unauthorized");
    EXPECT_EQ(default_reason(404), "Not Found");
    EXPECT_EQ(default_reason(407), "Proxy Authentication Required");
    EXPECT_EQ(default_reason(481), "Call/Transaction Does Not Exist");
    EXPECT_EQ(default_reason(505), "Version Not Supported");
    EXPECT_EQ(default_reason(603), "Decline");
    EXPECT_EQ(default_reason(299), "");
    EXPECT_EQ(default_reason(0), "");
    EXPECT_EQ(default_reason(-1), "");
}

}  // namespace
}  // namespace b2b::sip
