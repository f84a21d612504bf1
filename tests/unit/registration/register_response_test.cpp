// Tests for what the registration client reads from the responses to its REGISTERs.
#include "registration/detail/register_response.hpp"

#include <gtest/gtest.h>

#include <string>

namespace b2b::registration::detail {
namespace {

using namespace std::chrono_literals;

sip::message response(std::string_view status_line, std::string_view headers) {
    std::string bytes(status_line);
    bytes += "\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:u@d>;tag=1\r\nTo: <sip:u@d>;tag=2\r\n"
             "Call-ID: c\r\nCSeq: 1 REGISTER\r\n";
    bytes += headers;
    bytes += "Content-Length: 0\r\n\r\n";
    auto m = sip::parse_message(bytes);
    EXPECT_TRUE(m) << bytes;
    return std::move(m).value();
}

TEST(register_response, retry_after_ignores_comment_and_params) {
    EXPECT_EQ(retry_after(response("SIP/2.0 503 Service Unavailable", "Retry-After: 120\r\n")), 120s);
    EXPECT_EQ(retry_after(response("SIP/2.0 503 Service Unavailable", "Retry-After: 18000;duration=3600\r\n")),
              18000s);
    EXPECT_EQ(retry_after(response("SIP/2.0 503 Service Unavailable", "Retry-After: 60 (maintenance)\r\n")), 60s);
    EXPECT_FALSE(retry_after(response("SIP/2.0 503 Service Unavailable", "")));
    EXPECT_FALSE(retry_after(response("SIP/2.0 503 Service Unavailable", "Retry-After: soon\r\n")));
}

TEST(register_response, min_expires_and_warning) {
    const auto rsp = response("SIP/2.0 423 Interval Too Brief",
                              "Min-Expires: 3600\r\n"
                              "Warning: 399 reg.example \"a\"\r\nWarning: 399 reg.example \"b\"\r\n");
    EXPECT_EQ(min_expires(rsp), 3600s);
    EXPECT_EQ(warning(rsp), "399 reg.example \"a\", 399 reg.example \"b\"");
    EXPECT_EQ(warning(response("SIP/2.0 200 OK", "")), "");
}

TEST(register_response, granted_is_our_contacts_expires_param_first) {
    const auto ok = response("SIP/2.0 200 OK",
                             "Contact: <sip:other@10.0.0.9:5060>;expires=3600\r\n"
                             "Contact: <sip:tok@127.0.0.1:5070>;expires=120, <sip:x@1.2.3.4>;expires=7\r\n"
                             "Expires: 900\r\n");
    EXPECT_EQ(granted(ok, "tok", "127.0.0.1:5070", 600s), 120s);
}

TEST(register_response, granted_falls_back_to_expires_then_to_what_we_asked) {
    EXPECT_EQ(granted(response("SIP/2.0 200 OK", "Contact: <sip:tok@127.0.0.1:5070>\r\nExpires: 900\r\n"), "tok",
                      "127.0.0.1:5070", 600s),
              900s);
    EXPECT_EQ(granted(response("SIP/2.0 200 OK", "Expires: 300\r\n"), "tok", "127.0.0.1:5070", 600s), 300s);
    EXPECT_EQ(granted(response("SIP/2.0 200 OK", ""), "tok", "127.0.0.1:5070", 600s), 600s);
}

TEST(register_response, granted_prefers_our_binding_here_over_an_older_one_of_ours) {
    // The token stays the same across restarts: a binding from before one (another port) may
    // still be listed, and a NAT-fixing registrar may have rewritten our host.
    const auto ok = response("SIP/2.0 200 OK",
                             "Contact: <sip:tok@127.0.0.1:5999>;expires=40\r\n"
                             "Contact: <sip:tok@127.0.0.1:5070;transport=tcp>;expires=580\r\n");
    EXPECT_EQ(granted(ok, "tok", "127.0.0.1:5070", 600s), 580s);
    EXPECT_EQ(granted(ok, "tok", "203.0.113.5:5070", 600s), 40s);  // not here: the first of ours
}

TEST(register_response, granted_finds_our_ipv6_binding_in_any_text_form) {
    const auto ok = response("SIP/2.0 200 OK",
                             "Contact: <sip:tok@[2001:db8::7]:5070>;expires=40\r\n"
                             "Contact: <sip:tok@[0:0::1]:5070>;expires=580\r\n");
    EXPECT_EQ(granted(ok, "tok", "[::1]:5070", 600s), 580s);
    EXPECT_EQ(granted(ok, "tok", "[2001:db8:0::7]:5070", 600s), 40s);
}

TEST(register_response, granted_is_nothing_when_the_list_lacks_our_binding) {
    EXPECT_FALSE(granted(response("SIP/2.0 200 OK", "Contact: <sip:other@127.0.0.1:5070>;expires=60\r\n"), "tok",
                         "127.0.0.1:5070", 600s));
}

}  // namespace
}  // namespace b2b::registration::detail
