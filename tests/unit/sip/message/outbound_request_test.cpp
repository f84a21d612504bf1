// Tests for request_builder and outbound_request: what is recorded while writing equals what a
// parser reads back from the same bytes.
#include "sip/message/outbound_request.hpp"

#include <gtest/gtest.h>

namespace b2b::sip {
namespace {

outbound_request sample(std::string_view body = {}) {
    return request_builder("INVITE", "sip:1000@trunk.example;transport=tcp")
        .via("SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bKabc123;rport")
        .route("<sip:p1.example;lr>")
        .route("<sip:p2.example;lr>")
        .max_forwards(69)
        .from("\"Alice\" <sip:alice@b2bua.example>;tag=f1")
        .to("<sip:1000@trunk.example>")
        .call_id("c0ffee@b2bua")
        .cseq(7)
        .header("Allow", "INVITE, ACK")
        .finish(body, "application/sdp");
}

TEST(outbound_request, builder_records_what_a_parser_reads_back) {
    const outbound_request r = sample("v=0\r\n");
    auto parsed = parse_message(r.wire());
    ASSERT_TRUE(parsed) << parsed.error().what() << "\n" << r.wire();
    const message& m = *parsed;
    EXPECT_EQ(r.method(), method::invite);
    EXPECT_EQ(r.method_text(), m.method_text());
    EXPECT_EQ(r.request_uri(), m.request_uri().text);
    EXPECT_EQ(r.top_via(), m.vias().front().text);
    EXPECT_EQ(r.branch(), "z9hG4bKabc123");
    EXPECT_EQ(r.branch(), m.vias().front().branch);
    EXPECT_EQ(r.from(), m.from().text);
    EXPECT_EQ(r.to(), m.to().text);
    EXPECT_EQ(r.call_id(), m.call_id());
    EXPECT_EQ(r.cseq(), 7U);
    EXPECT_EQ(m.cseq().method, method::invite);  // CSeq method defaults to the request's
    ASSERT_EQ(r.route_count(), 2U);
    EXPECT_EQ(r.route_line(0), "Route: <sip:p1.example;lr>");
    EXPECT_EQ(r.route_line(1), "Route: <sip:p2.example;lr>");
    EXPECT_EQ(m.body(), "v=0\r\n");
    EXPECT_EQ(m.max_forwards(), 69U);
}

TEST(outbound_request, positions_survive_a_move) {
    outbound_request a = sample();
    const std::string wire(a.wire());
    outbound_request b = std::move(a);
    EXPECT_EQ(b.wire(), wire);
    EXPECT_EQ(b.call_id(), "c0ffee@b2bua");
    EXPECT_EQ(b.branch(), "z9hG4bKabc123");
}

TEST(outbound_request, from_message_takes_over_a_parsed_request) {
    const outbound_request built = sample();
    auto parsed = parse_message(built.wire());
    ASSERT_TRUE(parsed);
    const outbound_request r = outbound_request::from_message(*parsed);
    EXPECT_EQ(r.wire(), built.wire());
    EXPECT_EQ(r.method(), built.method());
    EXPECT_EQ(r.request_uri(), built.request_uri());
    EXPECT_EQ(r.top_via(), built.top_via());
    EXPECT_EQ(r.branch(), built.branch());
    EXPECT_EQ(r.from(), built.from());
    EXPECT_EQ(r.to(), built.to());
    EXPECT_EQ(r.call_id(), built.call_id());
    EXPECT_EQ(r.cseq(), built.cseq());
    ASSERT_EQ(r.route_count(), 2U);
    EXPECT_EQ(r.route_line(1), built.route_line(1));
}

TEST(outbound_request, a_via_without_branch_records_none) {
    const outbound_request r = request_builder("OPTIONS", "sip:x@y")
                                   .via("SIP/2.0/UDP h:5060;rport")
                                   .via("SIP/2.0/UDP other:5060;branch=z9hG4bKnotours")
                                   .from("<sip:a@b>;tag=1").to("<sip:x@y>").call_id("c").cseq(1)
                                   .finish();
    EXPECT_TRUE(r.branch().empty());  // only the top Via counts
    EXPECT_EQ(r.top_via(), "SIP/2.0/UDP h:5060;rport");
}

}  // namespace
}  // namespace b2b::sip
