// The glance at unparsed messages: start lines, Request-URI users, one header.
#include "security/peek.hpp"

#include <gtest/gtest.h>

namespace b2b::security {
namespace {

TEST(peek, a_request_line_gives_the_method_and_the_request_uri_user) {
    auto l = peek_start_line("INVITE sip:112@sbc.example;user=phone SIP/2.0\r\nVia: x\r\n\r\n");
    ASSERT_TRUE(l);
    EXPECT_TRUE(l->request);
    EXPECT_EQ(l->method, "INVITE");
    EXPECT_EQ(l->user, "112");
    EXPECT_EQ(peek_start_line("INVITE sips:911;phone-context=+1@h SIP/2.0\r\n")->user, "911");
    EXPECT_EQ(peek_start_line("INVITE tel:112;phone-context=+49 SIP/2.0\r\n")->user, "112");
    EXPECT_EQ(peek_start_line("OPTIONS sip:sbc.example SIP/2.0\r\n")->user, "");
    EXPECT_EQ(peek_start_line("INVITE http://112@x SIP/2.0\r\n")->user, "");
}

TEST(peek, a_status_line_is_a_response_and_garbage_is_nothing) {
    auto r = peek_start_line("SIP/2.0 200 OK\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->request);
    EXPECT_FALSE(peek_start_line("garbage\r\n"));
    EXPECT_FALSE(peek_start_line(""));
    EXPECT_FALSE(peek_start_line(" INVITE sip:a@b SIP/2.0"));
}

TEST(peek, a_header_is_found_by_name_or_compact_form_in_any_case_and_not_in_the_body) {
    const std::string_view m =
        "REGISTER sip:h SIP/2.0\r\nvia: SIP/2.0/UDP x\r\nuser-agent :  friendly-scanner \r\ni: abc@h\r\n"
        "Content-Length: 20\r\n\r\nUser-Agent: in-body\r\n";
    EXPECT_EQ(peek_header(m, "User-Agent"), "friendly-scanner");
    EXPECT_EQ(peek_header(m, "Call-ID", "i"), "abc@h");
    EXPECT_FALSE(peek_header(m, "Call-ID"));
    EXPECT_FALSE(peek_header("OPTIONS sip:h SIP/2.0\r\nVia: x\r\n\r\nUser-Agent: sipvicious\r\n", "User-Agent"));
    EXPECT_EQ(peek_header("OPTIONS sip:h SIP/2.0\nUser-Agent: lf\n\n", "user-agent"), "lf");
}

TEST(peek, contains_ignoring_case) {
    EXPECT_TRUE(contains_ignoring_case("SIPVicious 0.3", "sipvicious"));
    EXPECT_TRUE(contains_ignoring_case("x friendly-scanner", "Friendly-Scanner"));
    EXPECT_FALSE(contains_ignoring_case("Asterisk PBX", "sipcli"));
}

}  // namespace
}  // namespace b2b::security
